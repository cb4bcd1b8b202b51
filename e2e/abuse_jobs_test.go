package e2e

import (
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// hangingFFmpeg is an FFMPEG_PATH that never finishes: every transcode holds its worker
// until its timeout or the node's shutdown. ffprobe stays the real one.
func hangingFFmpeg(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ffmpeg-hangs")
	if err := os.WriteFile(path, []byte("#!/bin/sh\nexec sleep 600\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// sizedVideo is a 2 s MP4 of the given size (such as "640x480") at 25 frames a second.
func sizedVideo(t *testing.T, size string) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "clip-"+size+".mp4")
	out, err := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc=duration=2:size="+size+":rate=25",
		"-c:v", "libx264", "-pix_fmt", "yuv420p", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// queryInt64 runs a query of one integer on the database at url.
func queryInt64(t *testing.T, url, query string, args ...any) int64 {
	t.Helper()
	db, err := sql.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v int64
	if err := db.QueryRow(query, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return v
}

// metricValue reads one sample, such as `gigstream_jobs_running{kind="upload_video",queue="media"}`,
// from a /metrics body; found is false when the series is absent.
func metricValue(body, series string) (v float64, found bool) {
	for _, line := range strings.Split(body, "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			return v, err == nil
		}
	}
	return 0, false
}

// Twenty expensive videos used to delay payments for hours: every job shared one queue.
// Here the only media worker hangs in a transcode with more videos waiting behind it, and
// an order delivered now still auto-completes within its settlement interval, because
// money has its own queue and workers. /metrics shows the media backlog by queue and kind.
func TestAbuseJobsAutoCompleteRunsWhileTheMediaQueueIsSaturated(t *testing.T) {
	o := startOrderNode(t, map[string]string{
		"FFMPEG_PATH": hangingFFmpeg(t), "JOB_WORKERS_MEDIA": "1", "VIDEO_JOBS_PER_USER": "10", "JOB_POLL_INTERVAL": "200ms",
		"ORDER_AUTO_COMPLETE_AFTER": "1s", "SETTLEMENT_JOB_INTERVAL": "2s",
	}, true)
	clip := testVideo(t)
	for range 3 {
		expect(t, uploadRaw(t, o.n, o.seller, "kind=gig_video&filename=v.mp4&gig_id="+o.gigID, clip), 201, "gig video")
	}
	deadline := time.Now().Add(time.Minute)
	for o.sqlInt64(t, `SELECT count(*) FROM river_job WHERE kind = 'upload_video' AND state = 'running'`) == 0 ||
		o.sqlInt64(t, `SELECT count(*) FROM river_job WHERE kind LIKE 'upload_video%' AND state = 'available'`) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the media queue never filled: no transcode running with more videos waiting")
		}
		time.Sleep(200 * time.Millisecond)
	}

	id := o.deliveredOrder(t)
	buyer := &client{t: t, base: o.n.URL, bearer: o.buyer}
	delivered := time.Now()
	for {
		var ord settledOrder
		expect(t, buyer.do("GET", "/orders/"+id, nil), 200, "order").json(t, &ord)
		if ord.Status == "completed" {
			break
		}
		// Due 1 s after delivery, then at most one 2 s interval, plus polling and a loaded machine.
		if time.Since(delivered) > 15*time.Second {
			t.Fatalf("order still %s %s after delivery while videos fill the media queue", ord.Status, time.Since(delivered))
		}
		time.Sleep(200 * time.Millisecond)
	}

	// River records a job's completion a moment after the job's transaction committed the
	// order, so the series are polled until they hold (or the deadline passes).
	want := map[string]float64{
		`gigstream_jobs_running{kind="upload_video",queue="media"}`:                     1,
		`gigstream_jobs_queued{kind="upload_video",queue="media"}`:                      1,
		`gigstream_jobs_completed_total{kind="settlement",queue="money"}`:               1,
		`gigstream_jobs_lag_seconds{kind="upload_video",queue="media"}`:                 0,
		`gigstream_jobs_failures_total{final="true",kind="upload_video",queue="media"}`: 0,
	}
	var missing []string
	for end := time.Now().Add(15 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		_, body := get(t, o.n.URL+"/metrics")
		missing = missing[:0]
		for series, atLeast := range want {
			if v, ok := metricValue(string(body), series); !ok || v < atLeast {
				missing = append(missing, fmt.Sprintf("%s = %v (present %v), want at least %v", series, v, ok, atLeast))
			}
		}
		if len(missing) == 0 || time.Now().After(end) {
			break
		}
	}
	for _, m := range missing {
		t.Errorf("/metrics %s", m)
	}
}

// One node with small video limits: a video over the processing budget is failed by its
// probe and never gets a transcode; a user with a video pending gets the next one failed
// at once (the cap is 1 here); a transcode that runs past VIDEO_JOB_TIMEOUT fails the
// video for good instead of six more tries.
func TestAbuseJobsVideoBudgetPerUserCapAndFinalTimeout(t *testing.T) {
	env := migratedEnv(t, videoEnv(map[string]string{
		"FFMPEG_PATH": hangingFFmpeg(t), "VIDEO_JOB_TIMEOUT": "5s", "VIDEO_JOBS_PER_USER": "1", "JOB_WORKERS_MEDIA": "2",
		// 320x240 at 25 fps for up to 3 s passes; 640x480 for 2 s does not.
		"VIDEO_MAX_WORK": strconv.Itoa(320 * 240 * 25 * 3),
	}))
	n := StartNode(t, bin, env)
	n.WaitReady(t)
	dbURL := envMap(env)["DATABASE_URL"]
	a, b, _, _, conv := chatPair(t, n)

	small := uploadVideoAttachment(t, n, a.bearer, conv, testVideo(t))
	var second videoUpload
	expect(t, uploadRaw(t, n, a.bearer, "kind=attachment&filename=again.mp4&conversation_id="+conv, testVideo(t)), 201, "second video").json(t, &second)
	if second.Status != "clean" || second.VideoStatus != "failed" || !strings.Contains(second.VideoError, "too many") {
		t.Errorf("a second video while one is pending = %+v, want clean with its video failed (too many)", second)
	}

	large := uploadVideoAttachment(t, n, b.bearer, conv, sizedVideo(t, "640x480"))
	if got := waitVideo(t, n, b.bearer, large.ID, 30*time.Second); got.VideoStatus != "failed" || !strings.Contains(got.VideoError, "too large") {
		t.Errorf("a video over the budget = %+v, want failed (too large)", got)
	}
	if jobs := queryInt64(t, dbURL, `SELECT count(*) FROM river_job WHERE kind = 'upload_video' AND args->>'upload_id' = $1`, large.ID); jobs != 0 {
		t.Errorf("the video over the budget got %d transcode jobs, want none", jobs)
	}

	if got := waitVideo(t, n, a.bearer, small.ID, 30*time.Second); got.VideoStatus != "failed" || !strings.Contains(got.VideoError, "too long") {
		t.Errorf("a transcode past its timeout = %+v, want failed (took too long)", got)
	}
	// The job fails the video before it returns; River records its end a moment later
	// (its completer writes job states in batches), so the job's row is polled.
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		jobs := queryInt64(t, dbURL, `SELECT count(*) FROM river_job WHERE kind = 'upload_video' AND args->>'upload_id' = $1
			AND state = 'cancelled' AND attempt = 1`, small.ID)
		if jobs == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("the timed-out transcode: %d jobs cancelled after one attempt, want 1", jobs)
			break
		}
	}
	expect(t, as(t, n, b.bearer, "GET", "/uploads/"+small.ID+"/download"), 302, "the original stays downloadable")
}
