package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// videoUpload is an upload as GET /uploads/{id} shows a video.
type videoUpload struct {
	ID           string
	Status       string
	VideoStatus  string `json:"video_status"`
	DurationMS   int64  `json:"duration_ms"`
	VideoError   string `json:"video_error"`
	PosterURL    string `json:"poster_url"`
	RenditionURL string `json:"rendition_url"`
}

// videoEnv makes idle job workers look for work often, so tests wait little.
func videoEnv(extra map[string]string) map[string]string {
	return realtimeEnv(merge(map[string]string{"JOB_POLL_INTERVAL": "200ms"}, extra))
}

// testVideo is a 2 s, 320x240 MP4 with a sine tone, made with the real ffmpeg.
func testVideo(t *testing.T) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "clip.mp4")
	out, err := exec.Command("ffmpeg", "-nostdin", "-v", "error",
		"-f", "lavfi", "-i", "testsrc=duration=2:size=320x240:rate=25", "-f", "lavfi", "-i", "sine=duration=2",
		"-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg (run `scripts/devstack up` to install it): %v\n%s", err, out)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// uploadVideoAttachment sends body as a video attachment in conv and returns the
// created upload, which must be clean with its video pending.
func uploadVideoAttachment(t *testing.T, n *Node, token, conv string, body []byte) videoUpload {
	t.Helper()
	var up videoUpload
	expect(t, uploadRaw(t, n, token, "kind=attachment&filename=clip.mp4&conversation_id="+conv, body), 201, "video upload").json(t, &up)
	if up.Status != "clean" || up.VideoStatus != "pending" {
		t.Fatalf("new video upload = %+v, want clean and pending", up)
	}
	return up
}

// videoEvent waits for the upload.video event of upload id on the user's channel.
func videoEvent(t *testing.T, s *socket, userID, id string, timeout time.Duration) videoUpload {
	t.Helper()
	ev := s.eventOfType("user:"+userID, "upload.video", timeout)
	var got videoUpload
	if err := json.Unmarshal(ev.Data, &got); err != nil || got.ID != id {
		t.Fatalf("upload.video event %s, want upload %s", ev.Data, id)
	}
	return got
}

// waitVideo polls GET /uploads/{id} until the video is no longer pending.
func waitVideo(t *testing.T, n *Node, token, id string, timeout time.Duration) videoUpload {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var up videoUpload
		expect(t, as(t, n, token, "GET", "/uploads/"+id), 200, "show video").json(t, &up)
		if up.VideoStatus != "pending" || time.Now().After(deadline) {
			return up
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func fetch(t *testing.T, url string) []byte {
	t.Helper()
	resp, body := get(t, url)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET presigned %s: %d", url, resp.StatusCode)
	}
	return body
}

func TestVideoAttachmentGetsPosterDurationAndRendition(t *testing.T) {
	n := startCluster(t, 1, videoEnv(nil))[0]
	a, b, aID, _, conv := chatPair(t, n)
	sock := mustDial(t, n, a.bearer)
	sock.subscribe("user:"+aID, nil)
	clip := testVideo(t)
	up := uploadVideoAttachment(t, n, a.bearer, conv, clip)

	if ev := videoEvent(t, sock, aID, up.ID, time.Minute); ev.VideoStatus != "ready" {
		t.Fatalf("upload.video event = %+v, want ready", ev)
	}
	got := waitVideo(t, n, b.bearer, up.ID, 10*time.Second) // the other participant sees it too
	if got.VideoStatus != "ready" || got.DurationMS < 1900 || got.DurationMS > 2100 || got.PosterURL == "" || got.RenditionURL == "" {
		t.Fatalf("ready video = %+v, want a duration of about 2000 ms and both URLs", got)
	}
	if poster := fetch(t, got.PosterURL); !bytes.HasPrefix(poster, []byte{0xff, 0xd8, 0xff}) {
		t.Fatalf("poster is no JPEG: % x", poster[:min(len(poster), 8)])
	}
	if rendition := fetch(t, got.RenditionURL); len(rendition) < 12 || string(rendition[4:8]) != "ftyp" {
		t.Fatal("rendition is no MP4")
	}
	if downloadSHA(t, n, b.bearer, up.ID) != sha(clip) {
		t.Fatal("the original no longer downloads as uploaded")
	}
}

func TestVideoCorruptEndsFailedWithAReason(t *testing.T) {
	n := startCluster(t, 1, videoEnv(nil))[0]
	a, _, aID, _, conv := chatPair(t, n)
	sock := mustDial(t, n, a.bearer)
	sock.subscribe("user:"+aID, nil)
	// A real MP4's ftyp box, so the sniffer calls it video/mp4, then garbage.
	corrupt := append(testVideo(t)[:64:64], randomBytes(t, 100<<10)...)
	up := uploadVideoAttachment(t, n, a.bearer, conv, corrupt)

	if ev := videoEvent(t, sock, aID, up.ID, time.Minute); ev.VideoStatus != "failed" || ev.VideoError == "" {
		t.Fatalf("upload.video event = %+v, want failed with a reason", ev)
	}
	got := waitVideo(t, n, a.bearer, up.ID, 10*time.Second)
	if got.VideoStatus != "failed" || got.VideoError == "" || got.PosterURL != "" {
		t.Fatalf("corrupt video = %+v", got)
	}
	expect(t, as(t, n, a.bearer, "GET", "/uploads/"+up.ID+"/download"), http.StatusFound, "the original stays downloadable")
}

// TestVideoJobSurvivesItsNodeStopping stops the node running a video job (its ffmpeg
// hangs) and starts another on the same database, which finishes the job: river keeps
// jobs in Postgres, and a job cancelled by shutdown is retried.
func TestVideoJobSurvivesItsNodeStopping(t *testing.T) {
	hang := filepath.Join(t.TempDir(), "ffmpeg-hangs")
	if err := os.WriteFile(hang, []byte("#!/bin/sh\nexec sleep 600\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	env := migratedEnv(t, videoEnv(map[string]string{"SHUTDOWN_TIMEOUT": "1s"}))
	first := StartNode(t, bin, append(env[:len(env):len(env)], "FFMPEG_PATH="+hang))
	first.WaitReady(t)
	a, _, _, _, conv := chatPair(t, first)
	up := uploadVideoAttachment(t, first, a.bearer, conv, testVideo(t))
	time.Sleep(2 * time.Second) // the job starts and hangs in ffmpeg
	if got := waitVideo(t, first, a.bearer, up.ID, 0); got.VideoStatus != "pending" {
		t.Fatalf("video = %+v before the stop, want pending", got)
	}
	if err := first.Stop(t); err != nil {
		t.Fatalf("stop first node: %v", err)
	}

	second := StartNode(t, bin, env)
	second.WaitReady(t)
	if got := waitVideo(t, second, a.bearer, up.ID, time.Minute); got.VideoStatus != "ready" || got.DurationMS < 1900 {
		t.Fatalf("video after the other node took over = %+v, want ready", got)
	}
}
