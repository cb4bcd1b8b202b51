package market

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// fakeResumables answers Finish from its maps and lists stalled as given.
type fakeResumables struct {
	verdicts map[string]ResumableVerdict
	errs     map[string]error
	stalled  []StalledResumable
}

func (f fakeResumables) Finish(_ context.Context, tusID string) (ResumableVerdict, error) {
	return f.verdicts[tusID], f.errs[tusID]
}

func (f fakeResumables) Stalled(context.Context, time.Duration) ([]StalledResumable, error) {
	return f.stalled, nil
}

// resumableStore records which rows became clean or rejected; any other method of
// UploadStore panics (nil embedded interface).
type resumableStore struct {
	UploadStore
	owner    string
	clean    map[string]string // row id → object key
	rejected map[string]string // row id → signature
}

func (s *resumableStore) UploadByResumable(_ context.Context, tusID string) (Upload, error) {
	return Upload{ID: "row-" + tusID, OwnerID: s.owner}, nil
}

func (s *resumableStore) SettleUpload(_ context.Context, id string, obj StoredObject) (Upload, Event, error) {
	s.clean[id] = obj.Key
	return Upload{ID: id}, Event{Channel: "user:" + s.owner, Type: "upload.clean", Data: []byte(`{}`)}, nil
}

func (s *resumableStore) RejectUpload(_ context.Context, id, _, signature string) (Upload, Event, error) {
	s.rejected[id] = signature
	return Upload{ID: id}, Event{Channel: "user:" + s.owner, Type: "upload.rejected", Data: []byte(`{}`)}, nil
}

type nopPublisher struct{}

func (nopPublisher) Publish(context.Context, Event) error { return nil }

func newResumableUploads(r fakeResumables) (*Uploads, *resumableStore) {
	s := &resumableStore{owner: testSeller, clean: map[string]string{}, rejected: map[string]string{}}
	rt := NewRealtime(nil, nopPublisher{}, ChannelMembers{}, RealtimeConfig{}, nil)
	return NewUploads(s, nil, r, rt, nil), s
}

func TestFinishStalledRecordsEachVerdictOnce(t *testing.T) {
	clamdDown := errors.New("media: virus scanner unavailable")
	r := fakeResumables{
		verdicts: map[string]ResumableVerdict{
			"clean":    {Object: &StoredObject{Key: "u/k1"}},
			"infected": {Rejected: &RejectedUpload{Reason: "rejected by the virus scanner", Signature: "Eicar-Test-Signature", Err: errors.New("infected")}},
			"other":    {Object: &StoredObject{Key: "u/k2"}},
		},
		errs: map[string]error{
			"done":  fmt.Errorf("tus: upload already complete: %w", ErrResumableFinished),
			"gone":  fmt.Errorf("tus: upload not found: %w", ErrNotFound),
			"still": clamdDown,
		},
	}
	for _, id := range []string{"clean", "infected", "done", "gone", "still"} {
		r.stalled = append(r.stalled, StalledResumable{TusID: id, OwnerID: testSeller})
	}
	r.stalled = append(r.stalled, StalledResumable{TusID: "other", OwnerID: testBuyer}) // its row is the seller's
	u, s := newResumableUploads(r)

	n, err := u.FinishStalled(context.Background(), time.Minute)
	if n != 2 {
		t.Errorf("finished %d, want 2 (clean and infected)", n)
	}
	if err == nil || !strings.Contains(err.Error(), "tus other: uploads row") {
		t.Errorf("err = %v; want the row of the upload whose owner does not match", err)
	}
	for _, quiet := range []string{"tus done", "tus gone", "tus still"} {
		if err != nil && strings.Contains(err.Error(), quiet) {
			t.Errorf("err = %v; %q is no failure (finished meanwhile, gone, or left for the next round)", err, quiet)
		}
	}
	if len(s.clean) != 1 || s.clean["row-clean"] != "u/k1" {
		t.Errorf("clean rows %v", s.clean)
	}
	if len(s.rejected) != 1 || s.rejected["row-infected"] != "Eicar-Test-Signature" {
		t.Errorf("rejected rows %v", s.rejected)
	}
}

func TestFinishResumable(t *testing.T) {
	clamdDown := errors.New("media: virus scanner unavailable")
	rejection := &RejectedUpload{Reason: "too large", Err: errors.New("too large")}
	r := fakeResumables{
		verdicts: map[string]ResumableVerdict{"clean": {Object: &StoredObject{Key: "u/k"}}, "bad": {Rejected: rejection}},
		errs:     map[string]error{"done": ErrResumableFinished, "still": clamdDown},
	}
	u, s := newResumableUploads(r)
	ctx := context.Background()
	if err := u.FinishResumable(ctx, "row-done", "done"); err != nil {
		t.Errorf("finished meanwhile: %v, want nil", err)
	}
	if err := u.FinishResumable(ctx, "row-still", "still"); !errors.Is(err, clamdDown) {
		t.Errorf("no verdict yet: %v, want the engine's error", err)
	}
	var rejected *RejectedUpload
	if err := u.FinishResumable(ctx, "row-bad", "bad"); !errors.As(err, &rejected) || s.rejected["row-bad"] != "" {
		t.Errorf("rejected: %v (rows %v), want the *RejectedUpload and the row rejected", err, s.rejected)
	}
	if _, ok := s.rejected["row-bad"]; !ok {
		t.Error("the rejected row was not recorded")
	}
	if err := u.FinishResumable(ctx, "row-clean", "clean"); err != nil || s.clean["row-clean"] != "u/k" {
		t.Errorf("clean: %v, rows %v", err, s.clean)
	}
}
