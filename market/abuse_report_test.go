package market

import "testing"

func TestCheckNewAbuseReportNamesTheFieldAtFault(t *testing.T) {
	ok := NewAbuseReport{TargetKind: ReportGig, TargetID: "6f251649-a80f-4689-aaeb-2d769ff5450f", Reason: "spam", Details: "  same gig posted 30 times  "}
	if got, err := CheckNewAbuseReport(ok); err != nil || got.Details != "same gig posted 30 times" {
		t.Fatalf("a good report: %+v, %v", got, err)
	}
	bad := map[string]func(*NewAbuseReport){
		"target_kind": func(r *NewAbuseReport) { r.TargetKind = "review" },
		"target_id":   func(r *NewAbuseReport) { r.TargetID = "1 OR 1=1" },
		"reason":      func(r *NewAbuseReport) { r.Reason = "dislike" },
		"details":     func(r *NewAbuseReport) { r.Details = string(make([]byte, MaxAbuseReportDetails+1)) + "x" },
	}
	for field, spoil := range bad {
		r := ok
		spoil(&r)
		_, err := CheckNewAbuseReport(r)
		if e, isErr := err.(*Error); !isErr || e.Field != field || e.Code != CodeInvalid {
			t.Errorf("spoiled %s: %v", field, err)
		}
	}
}
