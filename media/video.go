package media

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ErrUnreadableVideo means ffprobe or ffmpeg could not make sense of a video (corrupt,
// truncated, no video stream): trying again cannot help, so the video job records the
// upload's video as failed instead of retrying. Never an HTTP answer.
var ErrUnreadableVideo = errors.New("media: video cannot be read")

// VideoTools is the slice of ffmpeg the video job needs, over files on disk; *FFmpeg
// implements it with the Debian binaries. Each method returns ErrUnreadableVideo
// (wrapped, with the tool's own words) when the input cannot be read, ctx's error when
// it ended, and any other error (tool missing, disk full) as is.
type VideoTools interface {
	Probe(ctx context.Context, path string) (VideoProbe, error)
	Poster(ctx context.Context, in, out string, at time.Duration) error
	Rendition(ctx context.Context, in, out string) error
}

// VideoProbe is what ffprobe tells of a video. FPS is the first video stream's average
// frame rate, else its base rate, else 0 (unknown).
type VideoProbe struct {
	Duration      time.Duration
	Width, Height int
	FPS           float64
	HasAudio      bool
}

// FFmpegConfig locates the binaries. The zero value means "ffmpeg" and "ffprobe" on
// PATH, and ffmpeg's own choice of threads.
type FFmpegConfig struct {
	FFmpegPath  string
	FFprobePath string
	Threads     int // encoder threads per run; 0 lets ffmpeg choose
}

// FFmpeg runs ffprobe and ffmpeg as child processes, killed when ctx ends.
type FFmpeg struct {
	cfg FFmpegConfig
}

// NewFFmpeg returns the tools configured by cfg.
func NewFFmpeg(cfg FFmpegConfig) *FFmpeg {
	if cfg.FFmpegPath == "" {
		cfg.FFmpegPath = "ffmpeg"
	}
	if cfg.FFprobePath == "" {
		cfg.FFprobePath = "ffprobe"
	}
	return &FFmpeg{cfg: cfg}
}

// Probe reads the duration, the first video stream's size and whether there is audio.
// A file without a video stream or a duration is unreadable.
func (f *FFmpeg) Probe(ctx context.Context, path string) (VideoProbe, error) {
	out, err := f.run(ctx, f.cfg.FFprobePath, "-v", "error", "-of", "json",
		"-show_entries", "format=duration:stream=codec_type,width,height,avg_frame_rate,r_frame_rate", "--", path)
	if err != nil {
		return VideoProbe{}, err
	}
	var doc struct {
		Streams []struct {
			CodecType     string `json:"codec_type"`
			Width, Height int
			AvgFrameRate  string `json:"avg_frame_rate"`
			RFrameRate    string `json:"r_frame_rate"`
		}
		Format struct{ Duration string }
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		return VideoProbe{}, fmt.Errorf("%w: ffprobe output: %w", ErrUnreadableVideo, err)
	}
	var p VideoProbe
	for _, s := range doc.Streams {
		switch {
		case s.CodecType == "video" && p.Width == 0:
			p.Width, p.Height = s.Width, s.Height
			p.FPS = frameRate(s.AvgFrameRate)
			if p.FPS == 0 {
				p.FPS = frameRate(s.RFrameRate)
			}
		case s.CodecType == "audio":
			p.HasAudio = true
		}
	}
	secs, err := strconv.ParseFloat(doc.Format.Duration, 64)
	if p.Width == 0 || err != nil || secs <= 0 {
		return VideoProbe{}, fmt.Errorf("%w: no video stream with a duration", ErrUnreadableVideo)
	}
	p.Duration = time.Duration(secs * float64(time.Second))
	return p, nil
}

// frameRate reads ffprobe's "num/den" rate; anything else, or a rate that is not a
// positive number, is 0.
func frameRate(s string) float64 {
	num, den, ok := strings.Cut(s, "/")
	n, err1 := strconv.ParseFloat(num, 64)
	d := 1.0
	var err2 error
	if ok {
		d, err2 = strconv.ParseFloat(den, 64)
	}
	if err1 != nil || err2 != nil || d <= 0 || n <= 0 || math.IsInf(n/d, 0) || math.IsNaN(n/d) {
		return 0
	}
	return n / d
}

// Poster writes one JPEG frame taken at at (seeking before decoding, so it is quick),
// at most 1280 pixels wide.
func (f *FFmpeg) Poster(ctx context.Context, in, out string, at time.Duration) error {
	_, err := f.run(ctx, f.cfg.FFmpegPath, "-nostdin", "-v", "error", "-y",
		"-ss", strconv.FormatFloat(at.Seconds(), 'f', 3, 64), "-i", in,
		"-frames:v", "1", "-vf", "scale='min(1280,iw)':-2", "-q:v", "3", "-c:v", "mjpeg", "-f", "image2", out)
	if err != nil {
		return err
	}
	return nonEmpty(out)
}

// Rendition writes a web-playable MP4: H.264 in yuv420p (even dimensions), AAC audio
// when there is any, the index first (+faststart) so playback starts before the end
// has arrived.
func (f *FFmpeg) Rendition(ctx context.Context, in, out string) error {
	args := []string{"-nostdin", "-v", "error", "-y", "-i", in,
		"-map", "0:v:0", "-map", "0:a:0?", "-vf", "scale=trunc(iw/2)*2:trunc(ih/2)*2",
		"-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p",
		"-c:a", "aac", "-b:a", "128k", "-movflags", "+faststart"}
	if f.cfg.Threads > 0 {
		args = append(args, "-threads", strconv.Itoa(f.cfg.Threads))
	}
	if _, err := f.run(ctx, f.cfg.FFmpegPath, append(args, "-f", "mp4", out)...); err != nil {
		return err
	}
	return nonEmpty(out)
}

// run runs a tool and returns its stdout. A tool that ran and failed means the input is
// unreadable; a tool that could not start, or was stopped because ctx ended, is not.
func (f *FFmpeg) run(ctx context.Context, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.WaitDelay = 5 * time.Second // a killed tool's children must not hold its pipes open
	var stdout bytes.Buffer
	stderr := &tailBuffer{max: 2048}
	cmd.Stdout, cmd.Stderr = &stdout, stderr
	err := cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return stdout.Bytes(), nil
	case ctx.Err() != nil:
		return nil, fmt.Errorf("%s: %w", filepath.Base(name), ctx.Err())
	case errors.As(err, &exitErr):
		return nil, fmt.Errorf("%w: %s: %s", ErrUnreadableVideo, filepath.Base(name), bytes.TrimSpace(stderr.buf))
	}
	return nil, fmt.Errorf("run %s: %w", filepath.Base(name), err)
}

// nonEmpty fails with ErrUnreadableVideo when ffmpeg succeeded but wrote nothing (a
// stream without decodable frames).
func nonEmpty(path string) error {
	st, err := os.Stat(path)
	if err != nil || st.Size() == 0 {
		return fmt.Errorf("%w: ffmpeg wrote no output", ErrUnreadableVideo)
	}
	return nil
}

// tailBuffer keeps the last max bytes written to it: a tool's last words explain why
// it failed, however much it printed before.
type tailBuffer struct {
	buf []byte
	max int
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = b.buf[over:]
	}
	return len(p), nil
}

var _ io.Writer = (*tailBuffer)(nil)

// VideoObjects is the slice of the ObjectStore the video job uses; *ObjectStore
// implements it.
type VideoObjects interface {
	Open(ctx context.Context, key string) (io.ReadCloser, ObjectInfo, error)
	Put(ctx context.Context, key string, r io.Reader, opts PutOptions) (ObjectInfo, error)
}

// VideoConfig tunes a VideoProcessor. The zero value means the defaults below.
type VideoConfig struct {
	// TempDir holds each job's working folder (original, poster, rendition) while it
	// runs; "" means os.TempDir(). It needs room for about twice the largest video.
	TempDir string
	// MaxRenditionDuration is the longest video that also gets an H.264/AAC rendition;
	// longer ones get a poster and a duration only. 0 means 10 minutes; negative means
	// never make a rendition.
	MaxRenditionDuration time.Duration
	// PosterAt is where the poster frame is taken, or half the video when it is
	// shorter than twice that; 0 means one second.
	PosterAt time.Duration
}

// VideoResult is what a video job made: the duration and the keys of the poster (a
// JPEG) and of the rendition ("" when the video was too long for one).
type VideoResult struct {
	Duration     time.Duration
	PosterKey    string
	RenditionKey string
}

// VideoProcessor makes a video's poster and rendition: it streams the original from
// the object store to a temporary file (never into memory), runs the tools on it and
// streams what they made back under the original's prefix.
type VideoProcessor struct {
	objects VideoObjects
	tools   VideoTools
	cfg     VideoConfig
}

// NewVideoProcessor returns a processor over objects and tools, tuned by cfg.
func NewVideoProcessor(objects VideoObjects, tools VideoTools, cfg VideoConfig) *VideoProcessor {
	if cfg.MaxRenditionDuration == 0 {
		cfg.MaxRenditionDuration = 10 * time.Minute
	}
	if cfg.PosterAt <= 0 {
		cfg.PosterAt = time.Second
	}
	return &VideoProcessor{objects: objects, tools: tools, cfg: cfg}
}

// Process makes the poster and rendition of the video under key and stores them as
// prefix + "/poster.jpg" and prefix + "/rendition.mp4": fixed keys, so a retried job
// overwrites what an interrupted one left instead of leaking objects. It returns
// ErrUnreadableVideo (wrapped) for a video the tools cannot read, ErrInvalidKey for a
// bad prefix, ErrStorage or ErrObjectNotFound from the store, ctx's error, or a local
// file error.
func (p *VideoProcessor) Process(ctx context.Context, key, prefix string) (VideoResult, error) {
	prefix, err := cleanKeyPrefix(prefix, "video")
	if err != nil {
		return VideoResult{}, err
	}
	dir, err := os.MkdirTemp(p.cfg.TempDir, "gigstream-video-")
	if err != nil {
		return VideoResult{}, fmt.Errorf("video work folder: %w", err)
	}
	defer os.RemoveAll(dir)
	original := filepath.Join(dir, "original")
	if err := p.download(ctx, key, original); err != nil {
		return VideoResult{}, err
	}
	probe, err := p.tools.Probe(ctx, original)
	if err != nil {
		return VideoResult{}, err
	}
	res := VideoResult{Duration: probe.Duration, PosterKey: prefix + "/poster.jpg"}
	if err := p.make(ctx, dir, original, res.PosterKey, TypeJPEG, func(in, out string) error {
		return p.tools.Poster(ctx, in, out, min(p.cfg.PosterAt, probe.Duration/2))
	}); err != nil {
		return VideoResult{}, err
	}
	if !p.rendition(probe.Duration) {
		return res, nil
	}
	res.RenditionKey = prefix + "/rendition.mp4"
	if err := p.make(ctx, dir, original, res.RenditionKey, TypeMP4, func(in, out string) error {
		return p.tools.Rendition(ctx, in, out)
	}); err != nil {
		return VideoResult{}, err
	}
	return res, nil
}

// UnknownFPS is the frame rate a video without a readable one is costed at: high, so a
// file cannot slip under the budget by hiding its rate.
const UnknownFPS = 60

// VideoEstimate is what processing a video would cost: its probe and Work, the pixels the
// processor would encode (width × height × frame rate × the seconds it transcodes: the
// whole duration when the video gets a rendition, one second when it gets only a poster).
type VideoEstimate struct {
	VideoProbe
	Work int64
}

// Estimate probes the video under key (streamed to a temporary file, never into memory)
// and says what processing it would cost, without making anything. It returns
// ErrUnreadableVideo (wrapped) for a video the tools cannot read, ErrStorage or
// ErrObjectNotFound from the store, ctx's error, or a local file error.
func (p *VideoProcessor) Estimate(ctx context.Context, key string) (VideoEstimate, error) {
	dir, err := os.MkdirTemp(p.cfg.TempDir, "gigstream-probe-")
	if err != nil {
		return VideoEstimate{}, fmt.Errorf("video work folder: %w", err)
	}
	defer os.RemoveAll(dir)
	original := filepath.Join(dir, "original")
	if err := p.download(ctx, key, original); err != nil {
		return VideoEstimate{}, err
	}
	probe, err := p.tools.Probe(ctx, original)
	if err != nil {
		return VideoEstimate{}, err
	}
	return VideoEstimate{VideoProbe: probe, Work: p.work(probe)}, nil
}

// work is the pixels processing would encode, saturating rather than overflowing.
func (p *VideoProcessor) work(probe VideoProbe) int64 {
	fps := probe.FPS
	if fps <= 0 {
		fps = UnknownFPS
	}
	seconds := 1.0
	if p.rendition(probe.Duration) {
		seconds = max(probe.Duration.Seconds(), 1)
	}
	w := float64(probe.Width) * float64(probe.Height) * fps * seconds
	if w >= math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(w)
}

// rendition reports whether a video this long gets a rendition.
func (p *VideoProcessor) rendition(d time.Duration) bool {
	return p.cfg.MaxRenditionDuration >= 0 && d <= p.cfg.MaxRenditionDuration
}

// download streams the object under key into the file path.
func (p *VideoProcessor) download(ctx context.Context, key, path string) error {
	body, _, err := p.objects.Open(ctx, key)
	if err != nil {
		return err
	}
	defer body.Close()
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("video temp file: %w", err)
	}
	_, err = io.Copy(f, body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%w: download %q: %w", ErrStorage, key, err)
	}
	return nil
}

// make runs tool from original into a file of dir and streams that file to key.
func (p *VideoProcessor) make(ctx context.Context, dir, original, key, contentType string, tool func(in, out string) error) error {
	out := filepath.Join(dir, filepath.Base(key))
	if err := tool(original, out); err != nil {
		return err
	}
	f, err := os.Open(out)
	if err != nil {
		return fmt.Errorf("video output: %w", err)
	}
	defer f.Close()
	_, err = p.objects.Put(ctx, key, f, PutOptions{ContentType: contentType})
	return err
}
