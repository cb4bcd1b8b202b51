package media

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	mrand "math/rand/v2"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/dutchcoders/go-clamd"
)

// devstackEnv returns the named variables, failing the test when one is unset: these
// tests need the real clamd and S3 server that scripts/devstack starts.
func devstackEnv(t testing.TB, names ...string) map[string]string {
	t.Helper()
	env := map[string]string{}
	for _, n := range names {
		v := os.Getenv(n)
		if v == "" {
			t.Fatalf("%s is not set: these tests need the devstack; run `make devstack` and "+
				"`eval \"$(scripts/devstack env)\"` first", n)
		}
		env[n] = v
	}
	return env
}

func testClamd(t testing.TB) *clamd.Clamd {
	return clamd.NewClamd(devstackEnv(t, "CLAMD_ADDR")["CLAMD_ADDR"])
}

// testS3 returns a client for endpoint, or for S3_ENDPOINT when endpoint is "".
func testS3(t testing.TB, endpoint string) (*s3.Client, string) {
	env := devstackEnv(t, "S3_ENDPOINT", "S3_REGION", "S3_BUCKET", "S3_ACCESS_KEY", "S3_SECRET_KEY")
	if endpoint == "" {
		endpoint = env["S3_ENDPOINT"]
	}
	client := s3.New(s3.Options{
		Region:       env["S3_REGION"],
		BaseEndpoint: aws.String(endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(env["S3_ACCESS_KEY"], env["S3_SECRET_KEY"], ""),
	})
	return client, env["S3_BUCKET"]
}

// testPrefix is a key prefix no other test (or test run) shares.
func testPrefix(t testing.TB) string {
	name := strings.NewReplacer("/", "-", " ", "-").Replace(t.Name())
	return "test/media/" + name + "-" + hex.EncodeToString(randomBytes(6))
}

// closedAddr returns a loopback address where nothing listens.
func closedAddr(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// leftovers lists objects and unfinished multipart uploads under prefix.
func leftovers(t testing.TB, client *s3.Client, bucket, prefix string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var found []string
	objs, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: &prefix})
	if err != nil {
		t.Fatalf("list objects: %v", err)
	}
	for _, o := range objs.Contents {
		found = append(found, "object "+aws.ToString(o.Key))
	}
	ups, err := client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: &bucket, Prefix: &prefix})
	if err != nil {
		t.Fatalf("list multipart uploads: %v", err)
	}
	for _, u := range ups.Uploads {
		found = append(found, "multipart upload "+aws.ToString(u.Key)+" "+aws.ToString(u.UploadId))
	}
	return found
}

func assertNothingStored(t testing.TB, client *s3.Client, bucket, prefix string) {
	t.Helper()
	if left := leftovers(t, client, bucket, prefix); len(left) > 0 {
		t.Errorf("S3 still holds, under %s: %v", prefix, left)
	}
}

// Test payloads are assembled at run time so that no file in the repository itself
// matches a signature.
func eicar() []byte {
	return []byte(`X5O!P%@AP[4\PZX54(P^)7CC)7}$` + "EICAR-STANDARD-" + "ANTIVIRUS-TEST-FILE!$H+H*")
}

func testMarker() []byte {
	return []byte("GIGSTREAM-TEST-MALWARE-" + "MARKER-7f3a9c")
}

// randomReader yields size pseudo-random bytes quickly (ChaCha8, seeded from crypto/rand).
func randomReader(size int64) io.Reader {
	var seed [32]byte
	rand.Read(seed[:])
	return io.LimitReader(mrand.NewChaCha8(seed), size)
}

func randomBytesN(n int) []byte {
	b, _ := io.ReadAll(randomReader(int64(n)))
	return b
}

// pngHeader is the start of a real PNG file, enough for sniffing.
var pngHeader = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89")

// countingReader counts what is read from it and fails the test when more than max bytes
// are asked for.
type countingReader struct {
	t   testing.TB
	r   io.Reader
	n   int64
	max int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.n >= c.max {
		c.t.Errorf("body read past %d bytes", c.max)
		return 0, io.ErrUnexpectedEOF
	}
	if int64(len(p)) > c.max-c.n {
		p = p[:c.max-c.n]
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
