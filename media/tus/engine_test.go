package tus

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/dutchcoders/go-clamd"
	"github.com/gigstream/hub/media"
)

func env(t *testing.T, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		t.Fatalf("%s is not set: these tests need the devstack; run `make devstack` and "+
			"`eval \"$(scripts/devstack env)\"` first", name)
	}
	return v
}

type rig struct {
	engine *Engine
	client *s3.Client
	bucket string
	prefix string
	clock  *fakeClock
	state  *memState
}

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// newRig returns an engine on the devstack's S3 and clamd with its state in memory;
// tune adjusts its Config.
func newRig(t *testing.T, tune ...func(*Config)) *rig {
	client := s3.New(s3.Options{
		Region: env(t, "S3_REGION"), BaseEndpoint: aws.String(env(t, "S3_ENDPOINT")), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(env(t, "S3_ACCESS_KEY"), env(t, "S3_SECRET_KEY"), ""),
	})
	bucket := env(t, "S3_BUCKET")
	objects := media.NewObjectStoreWithConfig(client, bucket, media.ObjectStoreConfig{PartSize: 5 << 20})
	pipeline := media.NewPipeline(media.NewScanner(clamd.NewClamd(env(t, "CLAMD_ADDR"))), objects, media.Config{})
	clock := &fakeClock{now: time.Now()}
	cfg := Config{Now: clock.Now, Expiry: time.Hour}
	for _, f := range tune {
		f(&cfg)
	}
	state := newMemState()
	engine := NewEngine(state, objects, pipeline, cfg)
	prefix := "test/tus/" + t.Name() + "-" + randomID()[:12]
	return &rig{engine: engine, client: client, bucket: bucket, prefix: prefix, clock: clock, state: state}
}

// stored lists objects and unfinished multipart uploads under the rig's prefix.
func (r *rig) stored(t *testing.T) []string {
	ctx := context.Background()
	var found []string
	objs, err := r.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &r.bucket, Prefix: &r.prefix})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs.Contents {
		found = append(found, "object "+*o.Key)
	}
	ups, err := r.client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: &r.bucket, Prefix: &r.prefix})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range ups.Uploads {
		found = append(found, "multipart "+*u.Key)
	}
	return found
}

func (r *rig) create(t *testing.T, kind media.Kind, length int64, filename string) Upload {
	t.Helper()
	meta := "filename " + base64.StdEncoding.EncodeToString([]byte(filename)) + ",filetype " + base64.StdEncoding.EncodeToString([]byte("image/png"))
	u, err := r.engine.Create(context.Background(), CreateRequest{Kind: kind, Owner: "u1", Length: length, Metadata: meta, KeyPrefix: r.prefix})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func (r *rig) patch(id string, offset int64, body io.Reader, checksum string) (Upload, error) {
	return r.engine.Patch(context.Background(), PatchRequest{
		ID: id, Offset: offset, ContentType: PatchContentType, Checksum: checksum, Body: body,
	})
}

func sha1Header(b []byte) string {
	s := sha1.Sum(b)
	return "sha1 " + base64.StdEncoding.EncodeToString(s[:])
}

func randomData(n int) []byte {
	b := make([]byte, n)
	var seed [32]byte
	io.ReadFull(mrand.NewChaCha8(seed), b)
	return b
}

// droppedAfter yields data, then fails like a connection that went away.
func droppedAfter(data []byte) io.Reader {
	return io.MultiReader(bytes.NewReader(data), errReader{io.ErrUnexpectedEOF})
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func TestResumeAfterDroppedConnection(t *testing.T) {
	r := newRig(t)
	data := randomData(12<<20 + 1234)
	u := r.create(t, media.KindDeliverable, int64(len(data)), "../final.bin")

	// The first PATCH dies after 7 MiB: one full part is sent, 2 MiB wait as a tail.
	got, err := r.patch(u.ID, 0, droppedAfter(data[:7<<20]), "")
	if !errors.Is(err, media.ErrBodyRead) || got.Offset != 7<<20 {
		t.Fatalf("dropped PATCH = offset %d, %v; want offset %d and ErrBodyRead", got.Offset, err, 7<<20)
	}
	if h, _ := r.engine.Head(context.Background(), u.ID); h.Offset != 7<<20 || len(h.Parts) != 1 || h.TailSize != 2<<20 {
		t.Fatalf("HEAD = offset %d, %d parts, tail %d", h.Offset, len(h.Parts), h.TailSize)
	}
	if _, err := r.patch(u.ID, 0, bytes.NewReader(data), ""); !errors.Is(err, ErrOffsetMismatch) {
		t.Fatalf("PATCH at a stale offset = %v, want ErrOffsetMismatch", err)
	}
	// A PATCH whose checksum does not match changes nothing.
	rest := data[7<<20:]
	if _, err := r.patch(u.ID, 7<<20, bytes.NewReader(rest), sha1Header(rest[1:])); !errors.Is(err, ErrChecksumMismatch) {
		t.Fatalf("bad checksum = %v, want ErrChecksumMismatch", err)
	}
	got, err = r.patch(u.ID, 7<<20, bytes.NewReader(rest), sha1Header(rest))
	if err != nil || got.Status != StatusClean || got.Result == nil {
		t.Fatalf("final PATCH = %+v, %v; want a clean upload", got, err)
	}
	sum := sha256.Sum256(data)
	if got.Result.SHA256 != hex.EncodeToString(sum[:]) || got.Result.Filename != "final.bin" {
		t.Errorf("Result = %+v", got.Result)
	}
	obj, err := r.client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: &r.bucket, Key: &got.Key})
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := io.ReadAll(obj.Body)
	obj.Body.Close()
	if sha256.Sum256(stored) != sum {
		t.Error("stored object differs from the upload")
	}
	if left := r.stored(t); len(left) != 1 || left[0] != "object "+got.Key {
		t.Errorf("S3 holds %v, want only the object", left)
	}
	r.client.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: &r.bucket, Key: &got.Key})
}

func TestInfectedUploadIsRejectedAndDeleted(t *testing.T) {
	r := newRig(t)
	data := append(randomData(6<<20), []byte("GIGSTREAM-TEST-MALWARE-"+"MARKER-7f3a9c")...)
	u := r.create(t, media.KindDeliverable, int64(len(data)), "x.bin")
	got, err := r.patch(u.ID, 0, bytes.NewReader(data), "")
	var inf *media.InfectedError
	if !errors.As(err, &inf) || got.Status != StatusRejected {
		t.Fatalf("PATCH = %v (status %s), want an *InfectedError and StatusRejected", err, got.Status)
	}
	if left := r.stored(t); len(left) != 0 {
		t.Errorf("S3 still holds %v", left)
	}
}

func TestSpoofedTypeIsRejected(t *testing.T) {
	r := newRig(t)
	data := []byte("<html><script>alert(1)</script></html>")
	u := r.create(t, media.KindGigImage, int64(len(data)), "cat.png")
	got, err := r.patch(u.ID, 0, bytes.NewReader(data), "")
	if !errors.Is(err, media.ErrUnsupportedType) || got.Status != StatusRejected {
		t.Fatalf("PATCH = %v (status %s), want ErrUnsupportedType", err, got.Status)
	}
	if left := r.stored(t); len(left) != 0 {
		t.Errorf("S3 still holds %v", left)
	}
}

func TestTerminateAndExpire(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	a := r.create(t, media.KindDeliverable, 8<<20, "a.bin")
	b := r.create(t, media.KindDeliverable, 8<<20, "b.bin")
	for _, u := range []Upload{a, b} {
		if _, err := r.patch(u.ID, 0, droppedAfter(randomData(6<<20)), ""); !errors.Is(err, media.ErrBodyRead) {
			t.Fatal(err)
		}
	}
	if err := r.engine.Terminate(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := r.engine.Head(ctx, a.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("HEAD after DELETE = %v, want ErrNotFound", err)
	}
	r.clock.Add(2 * time.Hour)
	if _, err := r.engine.Head(ctx, b.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("HEAD after expiry = %v, want ErrNotFound", err)
	}
	if n, err := r.engine.ExpireStale(ctx); n != 1 || err != nil {
		t.Errorf("ExpireStale = %d, %v; want 1", n, err)
	}
	if left := r.stored(t); len(left) != 0 {
		t.Errorf("S3 still holds %v", left)
	}
}

func TestCreateAndPatchChecks(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	if _, err := r.engine.Create(ctx, CreateRequest{Kind: media.KindAvatar, Length: 6 * media.MB}); !errors.Is(err, media.ErrTooLarge) {
		t.Errorf("oversize Create = %v, want ErrTooLarge", err)
	}
	if _, err := r.engine.Create(ctx, CreateRequest{Kind: media.KindAvatar, Length: 10, Metadata: "filename %%%"}); !errors.Is(err, ErrInvalidMetadata) {
		t.Errorf("bad metadata = %v, want ErrInvalidMetadata", err)
	}
	u := r.create(t, media.KindAttachment, 10, "a.txt")
	if _, err := r.engine.Patch(ctx, PatchRequest{ID: u.ID, ContentType: "text/plain", Body: strings.NewReader("x")}); !errors.Is(err, ErrContentType) {
		t.Errorf("wrong Content-Type = %v", err)
	}
	if _, err := r.patch(u.ID, 0, strings.NewReader("0123456789ABC"), ""); !errors.Is(err, ErrExceedsLength) {
		t.Errorf("too long = %v, want ErrExceedsLength", err)
	}
	if _, err := r.patch(u.ID, 0, strings.NewReader("x"), "md5 AAAA"); !errors.Is(err, ErrChecksumAlgorithm) {
		t.Errorf("md5 = %v, want ErrChecksumAlgorithm", err)
	}
	got, err := r.patch(u.ID, 0, strings.NewReader("plain text"), "")
	if err != nil || got.Status != StatusClean {
		t.Fatalf("PATCH = %+v, %v", got, err)
	}
	if _, err := r.patch(u.ID, 10, strings.NewReader("more"), ""); !errors.Is(err, ErrFinished) {
		t.Errorf("PATCH after completion = %v, want ErrFinished", err)
	}
	r.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &r.bucket, Key: &got.Key})
}

func TestMetadata(t *testing.T) {
	m, err := ParseMetadata("filename d29ybGRfZG9taW5hdGlvbl9wbGFuLnBkZg==,is_confidential")
	if err != nil || m["filename"] != "world_domination_plan.pdf" || m["is_confidential"] != "" {
		t.Fatalf("ParseMetadata = %v, %v", m, err)
	}
	back, err := ParseMetadata(EncodeMetadata(m))
	if err != nil || len(back) != 2 || back["filename"] != m["filename"] {
		t.Fatalf("round trip = %v, %v", back, err)
	}
}

// flakyVerifier fails like an unreachable clamd while down is set.
type flakyVerifier struct {
	inner Verifier
	down  atomic.Bool
}

func (f *flakyVerifier) Verify(ctx context.Context, kind media.Kind, key, filename string) (media.Result, error) {
	if f.down.Load() {
		return media.Result{}, fmt.Errorf("%w: connection refused", media.ErrScannerUnavailable)
	}
	return f.inner.Verify(ctx, kind, key, filename)
}

func TestLastByteWhileClamdIsDownStallsUntilFinish(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	flaky := &flakyVerifier{inner: r.engine.verify}
	r.engine.verify = flaky
	data := randomData(64 << 10)
	u := r.create(t, media.KindDeliverable, int64(len(data)), "late.bin")

	completions := 0
	patch := func(offset int64, b []byte) (Upload, error) {
		return r.engine.Patch(ctx, PatchRequest{ID: u.ID, Offset: offset, ContentType: PatchContentType,
			Body: bytes.NewReader(b), OnComplete: func() { completions++ }})
	}
	if _, err := patch(0, data[:1000]); err != nil || completions != 0 {
		t.Fatalf("first PATCH: %v; OnComplete ran %d times, want 0", err, completions)
	}
	flaky.down.Store(true)
	got, err := patch(1000, data[1000:])
	if !errors.Is(err, media.ErrScannerUnavailable) || got.Status != StatusScanning || completions != 1 {
		t.Fatalf("last PATCH with clamd down = %s, %v; OnComplete ran %d times, want scanning, ErrScannerUnavailable, 1",
			got.Status, err, completions)
	}
	stalled, err := r.engine.Stalled(ctx, 0)
	if err != nil || len(stalled) != 1 || stalled[0].ID != u.ID {
		t.Fatalf("Stalled = %v, %v; want just %s", stalled, err, u.ID)
	}
	if _, err := r.engine.Finish(ctx, u.ID); !errors.Is(err, media.ErrScannerUnavailable) {
		t.Fatalf("Finish with clamd still down = %v", err)
	}
	flaky.down.Store(false)
	done, err := r.engine.Finish(ctx, u.ID)
	if err != nil || done.Status != StatusClean || done.Result == nil || done.Result.SHA256 != hexSHA256(data) {
		t.Fatalf("Finish = %+v, %v; want clean with the data's SHA-256", done, err)
	}
	if _, err := r.engine.Finish(ctx, u.ID); !errors.Is(err, ErrFinished) {
		t.Errorf("second Finish = %v, want ErrFinished", err)
	}
	if stalled, _ := r.engine.Stalled(ctx, 0); len(stalled) != 0 {
		t.Errorf("Stalled after Finish = %v", stalled)
	}
	r.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &r.bucket, Key: &done.Key})
}

func hexSHA256(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
