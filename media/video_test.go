package media

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testClip writes a 2 s, 320x240 test pattern with a sine tone as MP4 into a temp dir,
// with the real ffmpeg.
func testClip(t testing.TB) string {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Fatal("ffmpeg is not installed: run `scripts/devstack up`")
	}
	path := filepath.Join(t.TempDir(), "clip.mp4")
	out, err := exec.Command("ffmpeg", "-nostdin", "-v", "error",
		"-f", "lavfi", "-i", "testsrc=duration=2:size=320x240:rate=25",
		"-f", "lavfi", "-i", "sine=duration=2",
		"-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", path).CombinedOutput()
	if err != nil {
		t.Fatalf("make test clip: %v\n%s", err, out)
	}
	return path
}

// corruptClip keeps the first 64 bytes of a real MP4 (its ftyp box, so it sniffs as
// video/mp4) and replaces the rest with garbage.
func corruptClip(t testing.TB) string {
	t.Helper()
	head, err := os.ReadFile(testClip(t))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "corrupt.mp4")
	if err := os.WriteFile(path, append(head[:64:64], randomBytes(200<<10)...), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func streamCodecs(t *testing.T, path string) string {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "stream=codec_name,pix_fmt",
		"-of", "csv=p=0", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	return strings.Join(strings.Fields(string(out)), " ")
}

func TestFFmpegProbePosterAndRendition(t *testing.T) {
	ctx := context.Background()
	clip := testClip(t)
	tools := NewFFmpeg(FFmpegConfig{Threads: 1})
	probe, err := tools.Probe(ctx, clip)
	if err != nil {
		t.Fatal(err)
	}
	if d := probe.Duration; d < 1900*time.Millisecond || d > 2100*time.Millisecond || probe.Width != 320 || probe.Height != 240 || !probe.HasAudio || probe.FPS != 25 {
		t.Fatalf("probe = %+v", probe)
	}
	dir := t.TempDir()
	poster := filepath.Join(dir, "poster.jpg")
	if err := tools.Poster(ctx, clip, poster, time.Second); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(poster); !bytes.HasPrefix(b, []byte{0xff, 0xd8, 0xff}) {
		t.Fatalf("poster is no JPEG: % x", b[:min(len(b), 8)])
	}
	rendition := filepath.Join(dir, "rendition.mp4")
	if err := tools.Rendition(ctx, clip, rendition); err != nil {
		t.Fatal(err)
	}
	if got := streamCodecs(t, rendition); got != "h264,yuv420p aac," && got != "h264,yuv420p aac" {
		t.Fatalf("rendition streams %q, want h264 yuv420p and aac", got)
	}
}

func TestFFmpegCorruptVideoIsUnreadable(t *testing.T) {
	ctx := context.Background()
	tools := NewFFmpeg(FFmpegConfig{})
	bad := corruptClip(t)
	if _, err := tools.Probe(ctx, bad); !errors.Is(err, ErrUnreadableVideo) {
		t.Fatalf("probe of a corrupt video: %v, want ErrUnreadableVideo", err)
	}
	if err := tools.Poster(ctx, bad, filepath.Join(t.TempDir(), "p.jpg"), 0); !errors.Is(err, ErrUnreadableVideo) {
		t.Fatalf("poster of a corrupt video: %v, want ErrUnreadableVideo", err)
	}
}

func TestFFmpegStoppedOrMissingIsNotUnreadable(t *testing.T) {
	clip := testClip(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := NewFFmpeg(FFmpegConfig{}).Probe(ctx, clip); err == nil || errors.Is(err, ErrUnreadableVideo) {
		t.Fatalf("cancelled probe: %v, want ctx's error", err)
	}
	missing := NewFFmpeg(FFmpegConfig{FFprobePath: filepath.Join(t.TempDir(), "no-ffprobe")})
	if _, err := missing.Probe(context.Background(), clip); err == nil || errors.Is(err, ErrUnreadableVideo) {
		t.Fatalf("missing ffprobe: %v, want a retryable error", err)
	}
}

func TestVideoProcessorStoresPosterAndRendition(t *testing.T) {
	ctx := context.Background()
	client, bucket := testS3(t, "")
	objects := NewObjectStore(client, bucket)
	prefix := testPrefix(t)
	clip, err := os.Open(testClip(t))
	if err != nil {
		t.Fatal(err)
	}
	defer clip.Close()
	if _, err := objects.Put(ctx, prefix+"/original", clip, PutOptions{ContentType: TypeMP4}); err != nil {
		t.Fatal(err)
	}
	p := NewVideoProcessor(objects, NewFFmpeg(FFmpegConfig{Threads: 1}), VideoConfig{TempDir: t.TempDir()})
	res, err := p.Process(ctx, prefix+"/original", prefix)
	if err != nil {
		t.Fatal(err)
	}
	if res.PosterKey != prefix+"/poster.jpg" || res.RenditionKey != prefix+"/rendition.mp4" || res.Duration < 1900*time.Millisecond {
		t.Fatalf("result = %+v", res)
	}
	for key, magic := range map[string][]byte{res.PosterKey: {0xff, 0xd8, 0xff}, res.RenditionKey: []byte("ftyp")} {
		body, info, err := objects.Open(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		head := make([]byte, 12)
		_, _ = io.ReadFull(body, head)
		body.Close()
		if !bytes.Contains(head, magic) || info.ContentType == "" {
			t.Fatalf("%s: head % x, type %q", key, head, info.ContentType)
		}
		_ = objects.Delete(ctx, key)
	}
	_ = objects.Delete(ctx, prefix+"/original")
}

func TestVideoProcessorLongVideoGetsNoRendition(t *testing.T) {
	ctx := context.Background()
	client, bucket := testS3(t, "")
	objects := NewObjectStore(client, bucket)
	prefix := testPrefix(t)
	clip, _ := os.ReadFile(testClip(t))
	if _, err := objects.Put(ctx, prefix+"/original", bytes.NewReader(clip), PutOptions{}); err != nil {
		t.Fatal(err)
	}
	p := NewVideoProcessor(objects, NewFFmpeg(FFmpegConfig{}), VideoConfig{MaxRenditionDuration: time.Second})
	res, err := p.Process(ctx, prefix+"/original", prefix)
	if err != nil || res.RenditionKey != "" || res.PosterKey == "" {
		t.Fatalf("Process = %+v, %v; want a poster and no rendition", res, err)
	}
	_ = objects.Delete(ctx, res.PosterKey)
	_ = objects.Delete(ctx, prefix+"/original")
}

func TestFrameRateReadsFFprobeRatesAndRefusesNonsense(t *testing.T) {
	for in, want := range map[string]float64{
		"25/1": 25, "30000/1001": 30000.0 / 1001, "60": 60, "0/0": 0, "1/0": 0, "": 0, "-25/1": 0, "x/1": 0, "1e400/1": 0,
	} {
		if got := frameRate(in); got != want {
			t.Errorf("frameRate(%q) = %v, want %v", in, got, want)
		}
	}
}

// Estimate costs what would be encoded: the whole clip when it gets a rendition, one
// second for a poster only, and an unknown frame rate as UnknownFPS.
func TestVideoProcessorEstimatesTheWorkOfAVideo(t *testing.T) {
	ctx := context.Background()
	client, bucket := testS3(t, "")
	objects := NewObjectStore(client, bucket)
	prefix := testPrefix(t)
	clip, _ := os.ReadFile(testClip(t))
	if _, err := objects.Put(ctx, prefix+"/original", bytes.NewReader(clip), PutOptions{}); err != nil {
		t.Fatal(err)
	}
	defer objects.Delete(ctx, prefix+"/original")
	est, err := NewVideoProcessor(objects, NewFFmpeg(FFmpegConfig{}), VideoConfig{}).Estimate(ctx, prefix+"/original")
	if want := 320 * 240 * 25 * est.Duration.Seconds(); err != nil || est.FPS != 25 || float64(est.Work) < want-1 || float64(est.Work) > want+1 {
		t.Fatalf("Estimate = %+v, %v; want work %v", est, err, want)
	}
	posterOnly := NewVideoProcessor(objects, NewFFmpeg(FFmpegConfig{}), VideoConfig{MaxRenditionDuration: time.Second})
	if est, err := posterOnly.Estimate(ctx, prefix+"/original"); err != nil || est.Work != 320*240*25 {
		t.Fatalf("poster only: Estimate = %+v, %v; want one second of work", est, err)
	}
	p := &VideoProcessor{cfg: VideoConfig{MaxRenditionDuration: time.Hour}}
	if w := p.work(VideoProbe{Width: 100, Height: 100, Duration: 2 * time.Second}); w != 100*100*UnknownFPS*2 {
		t.Errorf("unknown frame rate: work %d", w)
	}
	if w := p.work(VideoProbe{Width: 1 << 30, Height: 1 << 30, FPS: 1e9, Duration: time.Minute}); w <= 0 {
		t.Errorf("huge video: work %d, want saturated", w)
	}
	if _, err := NewVideoProcessor(objects, NewFFmpeg(FFmpegConfig{}), VideoConfig{}).Estimate(ctx, prefix+"/missing"); !errors.Is(err, ErrObjectNotFound) {
		t.Errorf("missing object: %v, want ErrObjectNotFound", err)
	}
}
