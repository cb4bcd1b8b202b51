package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// tusRequest sends one tus request as the holder of token.
func tusRequest(t *testing.T, method, url, token string, body []byte, headers ...string) response {
	t.Helper()
	req, _ := http.NewRequest(method, url, bytes.NewReader(body))
	req.Header.Set("Tus-Resumable", "1.0.0")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return sendAs(t, req, token)
}

func tusMetadata(kv ...string) string {
	var pairs []string
	for i := 0; i+1 < len(kv); i += 2 {
		pairs = append(pairs, kv[i]+" "+base64.StdEncoding.EncodeToString([]byte(kv[i+1])))
	}
	return strings.Join(pairs, ",")
}

// tusCreate starts a tus upload and returns its URL and uploads row id.
func tusCreate(t *testing.T, n *Node, token string, length int, meta string) (string, string) {
	t.Helper()
	r := expect(t, tusRequest(t, "POST", n.URL+"/uploads/tus/", token, nil,
		"Upload-Length", strconv.Itoa(length), "Upload-Metadata", meta), 201, "tus create")
	if r.header.Get("Upload-Expires") == "" || r.header.Get("Tus-Resumable") != "1.0.0" {
		t.Fatalf("creation headers: %v", r.header)
	}
	return n.URL + r.header.Get("Location"), r.header.Get("X-Upload-Id")
}

func tusPatch(t *testing.T, url, token string, offset int, chunk []byte) response {
	t.Helper()
	return tusRequest(t, "PATCH", url, token, chunk, "Upload-Offset", strconv.Itoa(offset),
		"Content-Type", "application/offset+octet-stream")
}

func TestTusUploadInChunksWithOffsetConflict(t *testing.T) {
	o := startOrderNode(t, nil, true)
	n, token, order := o.n, o.seller, o.paidOrder(t)
	_, other := appUser(t, n, "tusother")
	opts := expect(t, tusRequest(t, "OPTIONS", n.URL+"/uploads/tus/", "", nil), 204, "options")
	if !strings.Contains(opts.header.Get("Tus-Extension"), "creation") || opts.header.Get("Tus-Version") != "1.0.0" {
		t.Fatalf("OPTIONS headers: %v", opts.header)
	}
	data := randomBytes(t, 12<<20+777)
	url, rowID := tusCreate(t, n, token, len(data), tusMetadata("filename", "../big.bin", "kind", "deliverable", "order_id", order))

	cut := 6<<20 + 5
	expect(t, tusPatch(t, url, token, 0, data[:cut]), 204, "first PATCH")
	expect(t, tusPatch(t, url, token, 0, data[:10]), 409, "PATCH at a stale offset")
	expect(t, tusPatch(t, url, other, cut, data[cut:cut+10]), 404, "PATCH by someone else")
	expect(t, tusRequest(t, "HEAD", url, other, nil), 404, "HEAD by someone else")
	head := expect(t, tusRequest(t, "HEAD", url, token, nil), 200, "HEAD")
	if head.header.Get("Upload-Offset") != strconv.Itoa(cut) || head.header.Get("Upload-Length") != strconv.Itoa(len(data)) {
		t.Fatalf("HEAD after the conflict: %v", head.header)
	}
	expect(t, as(t, n, token, "GET", "/uploads/"+rowID+"/download"), 404, "download before the last byte")
	expect(t, tusPatch(t, url, token, cut, data[cut:]), 204, "last PATCH")
	var up uploaded
	expect(t, as(t, n, token, "GET", "/uploads/"+rowID), 200, "metadata").json(t, &up)
	if up.Status != "clean" || up.SHA256 != sha(data) || up.Filename != "big.bin" {
		t.Fatalf("after tus: %+v", up)
	}
	if got := downloadSHA(t, n, token, rowID); got != sha(data) {
		t.Fatal("tus upload did not round-trip")
	}
}

func TestTusInfectedUploadIsRejectedAndRemoved(t *testing.T) {
	o := startOrderNode(t, nil, true)
	n, id, token, order := o.n, o.sellerID, o.seller, o.paidOrder(t)
	body := eicar()
	url, rowID := tusCreate(t, n, token, len(body), tusMetadata("filename", "e.com", "order_id", order))
	expect(t, tusPatch(t, url, token, 0, body), 422, "infected PATCH")
	var up uploaded
	expect(t, as(t, n, token, "GET", "/uploads/"+rowID), 200, "metadata").json(t, &up)
	if up.Status != "rejected" {
		t.Fatalf("status %s, want rejected", up.Status)
	}
	expectNothingStored(t, id)

	url, goneRow := tusCreate(t, n, token, 100, tusMetadata("filename", "gone.bin", "order_id", order))
	expect(t, tusPatch(t, url, token, 0, randomBytes(t, 40)), 204, "partial PATCH")
	expect(t, tusRequest(t, "DELETE", url, token, nil), 204, "terminate")
	expect(t, tusRequest(t, "HEAD", url, token, nil), 404, "HEAD after terminate")
	expect(t, as(t, n, token, "GET", "/uploads/"+goneRow), 404, "row of a terminated upload")
	expectNothingStored(t, id)
	expect(t, tusRequest(t, "POST", n.URL+"/uploads/tus/", token, nil, "Upload-Length", "6000000000"), 413, "over the limit")
}

// TestTusJsClientResumesAfterADroppedConnection runs the real tus-js-client under Node:
// 50 MB through a proxy that cuts the connection after about 20 MB; the client resumes
// and the stored object's SHA-256 matches the file.
func TestTusJsClientResumesAfterADroppedConnection(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatal("node is not installed: this machine kind ships Node.js 20, which tus-js-client runs on")
	}
	dir := installTusClient(t)
	o := startOrderNode(t, nil, true)
	n, id, token, order := o.n, o.sellerID, o.seller, o.paidOrder(t)
	data := randomBytes(t, 50<<20)
	file := filepath.Join(t.TempDir(), "deliverable.bin")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	proxy, cuts := cuttingProxy(t, strings.TrimPrefix(n.URL, "http://"), 20<<20)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "upload.mjs", "http://"+proxy+"/uploads/tus/", file, token, "deliverable", order)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tus-js-client: %v\n%s", err, stderr.String())
	}
	var res struct{ URL string }
	if json.Unmarshal(out, &res) != nil || res.URL == "" || cuts.Load() == 0 {
		t.Fatalf("tus-js-client said %q (cuts %d)\n%s", out, cuts.Load(), stderr.String())
	}
	t.Logf("tus-js-client: %s %s", strings.TrimSpace(string(out)), stderr.String())
	if got := storedSHA(t, id); got != sha(data) {
		t.Fatalf("stored object sha %s, want %s", got, sha(data))
	}
}

// installTusClient runs npm install in e2e/tus once and returns the folder.
func installTusClient(t *testing.T) string {
	dir, _ := filepath.Abs("tus")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "tus-js-client")); err == nil {
		return dir
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "install", "--no-audit", "--no-fund")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm install in %s: %v\n%s", dir, err, out)
	}
	return dir
}

// storedSHA hashes the one object a user has in S3.
func storedSHA(t *testing.T, ownerID string) string {
	t.Helper()
	keys := stored(t, ownerID)
	if len(keys) != 1 || !strings.HasPrefix(keys[0], "object ") {
		t.Fatalf("stored for the user: %v, want one object", keys)
	}
	c, bucket := s3Client(t)
	key := strings.TrimPrefix(keys[0], "object ")
	obj, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Body.Close()
	h := sha256.New()
	if _, err := io.Copy(h, obj.Body); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// cuttingProxy forwards connections to target and drops the connection that carries
// the cutAfter'th byte from client to server, once; cuts counts the drops.
func cuttingProxy(t *testing.T, target string, cutAfter int64) (string, *atomic.Int64) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var sent, cuts atomic.Int64
	go func() {
		for {
			down, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				down.Close()
				continue
			}
			go func() { _, _ = io.Copy(down, up); down.Close() }()
			go forwardCutting(down, up, &sent, &cuts, cutAfter)
		}
	}()
	return ln.Addr().String(), &cuts
}

func forwardCutting(down, up net.Conn, sent, cuts *atomic.Int64, cutAfter int64) {
	defer up.Close()
	defer down.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := down.Read(buf)
		if n > 0 {
			if _, werr := up.Write(buf[:n]); werr != nil {
				return
			}
			if total := sent.Add(int64(n)); total > cutAfter && cuts.CompareAndSwap(0, 1) {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
