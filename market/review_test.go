package market

import (
	"strings"
	"testing"
)

func TestCheckNewReview(t *testing.T) {
	for _, bad := range []NewReview{{Rating: 0}, {Rating: 6}, {Rating: -1}} {
		if _, err := CheckNewReview(bad); !isField(err, "rating") {
			t.Errorf("rating %d: %v, want an invalid rating", bad.Rating, err)
		}
	}
	if _, err := CheckNewReview(NewReview{Rating: 5, Comment: strings.Repeat("é", MaxReviewText+1)}); !isField(err, "comment") {
		t.Errorf("long comment: %v", err)
	}
	if _, err := CheckNewReview(NewReview{Rating: 5, Comment: "bad \xff"}); !isField(err, "comment") {
		t.Errorf("invalid UTF-8: %v", err)
	}
	got, err := CheckNewReview(NewReview{Rating: 4, Comment: "  <b>Great</b>\r\nwork\x00\x1b  "})
	if err != nil || got.Comment != "<b>Great</b>\nwork" {
		t.Errorf("comment = %q, %v; want plain text kept as typed, control characters gone", got.Comment, err)
	}
}

func isField(err error, field string) bool {
	e, ok := err.(*Error)
	return ok && e.Code == CodeInvalid && e.Field == field
}
