package store_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/gigstream/hub/market"
	"github.com/gigstream/hub/store"
	"github.com/gigstream/hub/store/storetest"
)

// Eight videos of one owner become clean at once with a cap of three: exactly three are
// pending, each with one probe job in the media queue, and five are failed at once with
// ReasonTooManyVideos and no job. Another owner's video is not held up. JobQueueStats
// shows the backlog.
func TestSettleUploadCapsAUsersPendingVideosUnderConcurrency(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{URL: storetest.NewDatabase(t), VideoJobsPerUser: 3})
	must(t, err)
	t.Cleanup(func() { _ = db.Close() })
	_, err = newMigrator(t, db).Up(ctx)
	must(t, err)
	_, err = db.MigrateJobs(ctx, slog.New(slog.DiscardHandler))
	must(t, err)
	owner, err := db.CreateUser(ctx, market.NewUser{Email: "v@x.test", Username: "video_owner", DisplayName: "V", IsSeller: true})
	must(t, err)
	other, err := db.CreateUser(ctx, market.NewUser{Email: "w@x.test", Username: "video_other", DisplayName: "W", IsSeller: true})
	must(t, err)

	settle := func(ownerID string) market.Upload {
		up, _, err := db.CreateUpload(ctx, market.NewUpload{OwnerID: ownerID, Kind: market.UploadAttachment, Filename: "v.mp4"})
		must(t, err)
		done, _, err := db.SettleUpload(ctx, up.ID, market.StoredObject{Key: "u/" + ownerID + "/" + up.ID, Size: 10,
			SHA256: strings.Repeat("a", 64), ContentType: "video/mp4", Filename: "v.mp4"})
		must(t, err)
		return done
	}
	var mu sync.Mutex
	status := map[string]int{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u := settle(owner.ID)
			mu.Lock()
			defer mu.Unlock()
			status[string(*u.VideoStatus)]++
			if *u.VideoStatus == market.VideoFailed && (u.VideoError == nil || *u.VideoError != market.ReasonTooManyVideos) {
				t.Errorf("refused video: %+v", u.Video)
			}
		}()
	}
	wg.Wait()
	if status["pending"] != 3 || status["failed"] != 5 {
		t.Fatalf("video statuses %v, want 3 pending and 5 failed", status)
	}
	if u := settle(other.ID); *u.VideoStatus != market.VideoPending {
		t.Fatalf("another owner's video: %s, want pending", *u.VideoStatus)
	}
	stats, err := db.JobQueueStats(ctx)
	must(t, err)
	if len(stats) != 1 || stats[0].Queue != store.QueueMedia || stats[0].Kind != "upload_video_probe" || stats[0].Queued != 4 || stats[0].Lag < 0 {
		t.Fatalf("job stats %+v, want 4 probe jobs queued in media", stats)
	}
}
