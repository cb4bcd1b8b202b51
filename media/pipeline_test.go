package media

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/dutchcoders/go-clamd"
)

// testRig is a pipeline on the devstack's clamd and S3, writing under its own prefix.
type testRig struct {
	pipeline *Pipeline
	client   *s3.Client // the real S3, for checking what is left
	bucket   string
	prefix   string
}

type rigOptions struct {
	clamdAddr  string // "" means the devstack's
	s3Endpoint string // "" means the devstack's
	cfg        Config
}

func newRig(t *testing.T, opts rigOptions) *testRig {
	t.Helper()
	scanner := NewScanner(testClamd(t))
	if opts.clamdAddr != "" {
		scanner = NewScanner(clamd.NewClamd(opts.clamdAddr))
	}
	client, bucket := testS3(t, opts.s3Endpoint)
	realClient, _ := testS3(t, "")
	objects := NewObjectStoreWithConfig(client, bucket, ObjectStoreConfig{PartSize: 5 << 20})
	if opts.cfg.Logger == nil {
		opts.cfg.Logger = slog.New(slog.NewTextHandler(testWriter{t}, nil))
	}
	return &testRig{
		pipeline: NewPipeline(scanner, objects, opts.cfg),
		client:   realClient, bucket: bucket, prefix: testPrefix(t),
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func (r *testRig) ingest(t *testing.T, kind Kind, body io.Reader, size int64, name string) (Result, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return r.pipeline.Ingest(ctx, IngestRequest{
		Kind: kind, Body: body, DeclaredSize: size, Filename: name, KeyPrefix: r.prefix,
	})
}

func (r *testRig) fetch(t *testing.T, key string) []byte {
	t.Helper()
	out, err := r.client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: &r.bucket, Key: &key})
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func (r *testRig) cleanup(t *testing.T, res Result) {
	t.Cleanup(func() {
		r.client.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: &r.bucket, Key: &res.Key})
	})
}

func assertInfected(t *testing.T, err error) {
	t.Helper()
	var inf *InfectedError
	if !errors.As(err, &inf) || inf.Signature == "" {
		t.Fatalf("Ingest = %v, want an *InfectedError with a signature", err)
	}
	t.Logf("rejected: %s", inf.Signature)
}

func TestIngestRejectsTestSignatures(t *testing.T) {
	rig := newRig(t, rigOptions{})
	for name, data := range map[string][]byte{
		"eicar":  eicar(),
		"marker": append([]byte("%PDF-1.4\n"), testMarker()...),
	} {
		_, err := rig.ingest(t, KindAttachment, bytes.NewReader(data), int64(len(data)), name+".txt")
		assertInfected(t, err)
	}
	assertNothingStored(t, rig.client, rig.bucket, rig.prefix)
}

// A marker placed well after the first S3 part must still be caught, and the parts
// already uploaded must go.
func TestIngestMarkerAfterFirstPart(t *testing.T) {
	rig := newRig(t, rigOptions{})
	body := io.MultiReader(randomReader(20<<20), bytes.NewReader(testMarker()), randomReader(1<<20))
	_, err := rig.ingest(t, KindDeliverable, body, -1, "big.bin")
	assertInfected(t, err)
	assertNothingStored(t, rig.client, rig.bucket, rig.prefix)
}

func TestIngestCleanRoundTrip(t *testing.T) {
	rig := newRig(t, rigOptions{})
	data := randomBytesN(17<<20 + 12345) // four 5 MiB parts, the last short
	res, err := rig.ingest(t, KindDeliverable, bytes.NewReader(data), int64(len(data)), "work/final.bin")
	if err != nil {
		t.Fatal(err)
	}
	rig.cleanup(t, res)
	sum := sha256.Sum256(data)
	if res.SHA256 != hex.EncodeToString(sum[:]) || res.Size != int64(len(data)) {
		t.Errorf("Result = %+v, want size %d sha256 %x", res, len(data), sum)
	}
	if stored := sha256.Sum256(rig.fetch(t, res.Key)); stored != sum {
		t.Errorf("stored object's SHA-256 %x, want %x", stored, sum)
	}
	if !strings.HasPrefix(res.Key, rig.prefix+"/") || strings.Contains(res.Key, "final") {
		t.Errorf("key %q: want the server's prefix and a random name", res.Key)
	}
	if res.Filename != "final.bin" || res.ContentType != TypeOctetStream {
		t.Errorf("Result = %+v", res)
	}
}

func TestIngestSmallImage(t *testing.T) {
	rig := newRig(t, rigOptions{})
	data := append(append([]byte{}, pngHeader...), randomBytesN(2000)...)
	res, err := rig.ingest(t, KindAvatar, bytes.NewReader(data), -1, "../../etc/me.png")
	if err != nil {
		t.Fatal(err)
	}
	rig.cleanup(t, res)
	if !bytes.Equal(rig.fetch(t, res.Key), data) || res.ContentType != TypePNG || res.Filename != "me.png" {
		t.Errorf("Result = %+v", res)
	}
	head, err := rig.client.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: &rig.bucket, Key: &res.Key})
	if err != nil {
		t.Fatal(err)
	}
	if cd := *head.ContentDisposition; cd != ContentDisposition("me.png") || *head.ContentType != TypePNG {
		t.Errorf("stored Content-Disposition %q, Content-Type %q", cd, *head.ContentType)
	}
}

func TestIngestPathTraversalFilenames(t *testing.T) {
	rig := newRig(t, rigOptions{})
	for name, want := range map[string]string{
		"../../../etc/passwd":        "passwd",
		`..\..\boot.ini`:             "boot.ini",
		"..":                         FallbackFilename,
		"/":                          FallbackFilename,
		"a/b/\u202Egnp.exe":          "gnp.exe",
		"report\x00.pdf/../evil.txt": "evil.txt",
	} {
		res, err := rig.ingest(t, KindAttachment, strings.NewReader("plain text notes\n"), -1, name)
		if err != nil {
			t.Fatal(err)
		}
		rig.cleanup(t, res)
		if res.Filename != want || strings.Contains(res.Key, "..") {
			t.Errorf("%q: Filename %q key %q, want %q", name, res.Filename, res.Key, want)
		}
	}
}

func TestIngestSpoofedTypes(t *testing.T) {
	rig := newRig(t, rigOptions{})
	for name, head := range map[string][]byte{
		"elf":  []byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x3e\x00"),
		"html": []byte("<!DOCTYPE html><html><script>alert(document.cookie)</script></html>"),
		"svg":  []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`),
		"pe":   []byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00"),
	} {
		body := &countingReader{t: t, r: io.MultiReader(bytes.NewReader(head), randomReader(1<<20)), max: SniffLen}
		_, err := rig.ingest(t, KindGigImage, body, -1, name+".png")
		var ute *UnsupportedTypeError
		if !errors.As(err, &ute) || !errors.Is(err, ErrUnsupportedType) {
			t.Errorf("%s named .png: Ingest = %v, want ErrUnsupportedType", name, err)
			continue
		}
		t.Logf("%s named .png: refused as %s after %d bytes", name, ute.ContentType, body.n)
	}
	assertNothingStored(t, rig.client, rig.bucket, rig.prefix)
}

func TestIngestTooLargeDeclared(t *testing.T) {
	rig := newRig(t, rigOptions{})
	body := &countingReader{t: t, r: randomReader(1), max: 0}
	_, err := rig.ingest(t, KindAvatar, body, 5*MB+1, "big.png")
	var tle *TooLargeError
	if !errors.As(err, &tle) || tle.Limit != 5*MB || body.n != 0 {
		t.Fatalf("Ingest = %v after reading %d bytes; want ErrTooLarge before reading", err, body.n)
	}
}

func TestIngestTooLargeStreamed(t *testing.T) {
	const limit = 6 << 20 // more than one 5 MiB part, so a multipart upload was started
	rig := newRig(t, rigOptions{cfg: Config{Policies: map[Kind]Policy{KindGigImage: {MaxSize: limit}}}})
	endless := io.MultiReader(bytes.NewReader(pngHeader), randomReader(1<<40))
	body := &countingReader{t: t, r: endless, max: limit + 1}
	_, err := rig.ingest(t, KindGigImage, body, -1, "endless.png")
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Ingest = %v, want ErrTooLarge", err)
	}
	assertNothingStored(t, rig.client, rig.bucket, rig.prefix)
}

func TestIngestSizeMismatch(t *testing.T) {
	rig := newRig(t, rigOptions{})
	for _, declared := range []int64{1000, 3000} {
		_, err := rig.ingest(t, KindAttachment, strings.NewReader(strings.Repeat("text ", 400)), declared, "a.txt")
		if !errors.Is(err, ErrSizeMismatch) {
			t.Errorf("declared %d for 2000 bytes: Ingest = %v, want ErrSizeMismatch", declared, err)
		}
	}
	if _, err := rig.ingest(t, KindAttachment, strings.NewReader(""), -1, "empty.txt"); !errors.Is(err, ErrEmpty) {
		t.Errorf("empty body: Ingest = %v, want ErrEmpty", err)
	}
	assertNothingStored(t, rig.client, rig.bucket, rig.prefix)
}

func TestIngestScannerDown(t *testing.T) {
	rig := newRig(t, rigOptions{clamdAddr: "tcp://" + closedAddr(t)})
	for _, size := range []int64{1000, 12 << 20} {
		_, err := rig.ingest(t, KindDeliverable, randomReader(size), size, "x.bin")
		if !errors.Is(err, ErrScannerUnavailable) {
			t.Errorf("%d bytes: Ingest = %v, want ErrScannerUnavailable", size, err)
		}
	}
	assertNothingStored(t, rig.client, rig.bucket, rig.prefix)
}

func TestIngestStorageDown(t *testing.T) {
	rig := newRig(t, rigOptions{s3Endpoint: "http://" + closedAddr(t)})
	for _, size := range []int64{1000, 12 << 20} {
		_, err := rig.ingest(t, KindDeliverable, randomReader(size), size, "x.bin")
		if !errors.Is(err, ErrStorage) {
			t.Errorf("%d bytes: Ingest = %v, want ErrStorage", size, err)
		}
	}
	assertNothingStored(t, rig.client, rig.bucket, rig.prefix)
}

func TestIngestCancelled(t *testing.T) {
	rig := newRig(t, rigOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	body := io.MultiReader(randomReader(7<<20), readerFunc(func([]byte) (int, error) {
		cancel()
		return 0, context.Canceled
	}))
	_, err := rig.pipeline.Ingest(ctx, IngestRequest{Kind: KindDeliverable, Body: body, DeclaredSize: -1, KeyPrefix: rig.prefix})
	if err == nil {
		t.Fatal("Ingest succeeded after cancellation")
	}
	assertNothingStored(t, rig.client, rig.bucket, rig.prefix)
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }
