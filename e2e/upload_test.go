package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// uploaded is an upload as the API shows it.
type uploaded struct {
	ID          string
	OwnerID     string `json:"owner_id"`
	Kind        string
	Status      string
	Size        int64
	SHA256      string
	ContentType string `json:"content_type"`
	Filename    string
}

// uploadRaw sends body with PUT /uploads/raw as the holder of token.
func uploadRaw(t *testing.T, n *Node, token, query string, body []byte) response {
	t.Helper()
	req, _ := http.NewRequest("PUT", n.URL+"/uploads/raw?"+query, bytes.NewReader(body))
	return sendAs(t, req, token)
}

// uploadForm sends a multipart form: fields first, then the file part.
func uploadForm(t *testing.T, n *Node, token string, fields map[string]string, filename string, body []byte) response {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		_ = w.WriteField(k, v)
	}
	fw, _ := w.CreateFormFile("file", filename)
	_, _ = fw.Write(body)
	_ = w.Close()
	req, _ := http.NewRequest("POST", n.URL+"/uploads", &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return sendAs(t, req, token)
}

func sendAs(t *testing.T, req *http.Request, token string) response {
	t.Helper()
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: raw}
}

// as sends a bodiless request as the holder of token ("" for anonymous).
func as(t *testing.T, n *Node, token, method, path string) response {
	t.Helper()
	req, _ := http.NewRequest(method, n.URL+path, nil)
	return sendAs(t, req, token)
}

func randomBytes(t testing.TB, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func pngBytes(t testing.TB) []byte {
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewRGBA(image.Rect(0, 0, 8, 8))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// eicar is the EICAR test file, assembled so this source is no test file itself.
func eicar() []byte {
	return []byte(`X5O!P%@AP[4\PZX54(P^)7CC)7}$` + "EICAR-STANDARD-ANTIVIRUS-" + `TEST-FILE!$H+H*`)
}

// s3Client speaks to the devstack's S3 server.
func s3Client(t *testing.T) (*s3.Client, string) {
	t.Helper()
	c := s3.New(s3.Options{
		Region: os.Getenv("S3_REGION"), BaseEndpoint: aws.String(os.Getenv("S3_ENDPOINT")), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(os.Getenv("S3_ACCESS_KEY"), os.Getenv("S3_SECRET_KEY"), ""),
	})
	return c, os.Getenv("S3_BUCKET")
}

// stored lists the objects and unfinished multipart uploads of a user.
func stored(t *testing.T, ownerID string) []string {
	t.Helper()
	c, bucket := s3Client(t)
	prefix := "u/" + ownerID + "/"
	ctx := context.Background()
	var found []string
	objs, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: &prefix})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs.Contents {
		found = append(found, "object "+*o.Key)
	}
	ups, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: &bucket, Prefix: &prefix})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range ups.Uploads {
		found = append(found, "multipart "+*u.Key)
	}
	return found
}

func expectNothingStored(t *testing.T, ownerID string) {
	t.Helper()
	if got := stored(t, ownerID); len(got) > 0 {
		t.Fatalf("left in S3: %v", got)
	}
}

// downloadSHA follows the download redirect and returns the bytes' SHA-256.
func downloadSHA(t *testing.T, n *Node, token, id string) string {
	t.Helper()
	r := expect(t, as(t, n, token, "GET", "/uploads/"+id+"/download"), http.StatusFound, "download")
	if r.header.Get("X-Content-Type-Options") != "nosniff" || !strings.HasPrefix(r.header.Get("Content-Disposition"), "attachment;") {
		t.Fatalf("download headers: %v", r.header)
	}
	resp, body := get(t, r.header.Get("Location"))
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment;") {
		t.Fatalf("presigned GET: %d %v", resp.StatusCode, resp.Header)
	}
	return sha(body)
}

func TestUploadRawAndFormRoundTripWithStatusEvents(t *testing.T) {
	o := startOrderNode(t, nil, true)
	n, id, token, order := o.n, o.sellerID, o.seller, o.paidOrder(t)
	sock := mustDial(t, n, token)
	if f := sock.subscribe("user:"+id, nil); f.Op != "reply" {
		t.Fatalf("subscribe: %+v", f)
	}

	data := randomBytes(t, 3<<20+12345)
	r := expect(t, uploadRaw(t, n, token, "kind=deliverable&order_id="+order+"&filename="+url.QueryEscape("../../etc/report.bin"), data), 201, "raw upload")
	var up uploaded
	r.json(t, &up)
	if up.Status != "clean" || up.Size != int64(len(data)) || up.SHA256 != sha(data) || up.Filename != "report.bin" {
		t.Fatalf("raw upload = %+v", up)
	}
	if got := downloadSHA(t, n, token, up.ID); got != sha(data) {
		t.Fatalf("downloaded sha %s, want %s", got, sha(data))
	}
	for _, want := range []string{"uploading", "clean"} {
		ev := sock.eventOfType("user:"+id, "upload.status", 10*time.Second)
		var d struct{ ID, Status string }
		_ = json.Unmarshal(ev.Data, &d)
		if d.ID != up.ID || d.Status != want {
			t.Fatalf("event %s, want %s of %s", ev.Data, want, up.ID)
		}
	}

	img := pngBytes(t)
	r = expect(t, uploadForm(t, n, token, map[string]string{"kind": "avatar"}, `..\..\evil<name>.png`, img), 201, "form upload")
	r.json(t, &up)
	if up.ContentType != "image/png" || up.SHA256 != sha(img) || strings.ContainsAny(up.Filename, `/\<>`) {
		t.Fatalf("form upload = %+v", up)
	}
	if got := downloadSHA(t, n, token, up.ID); got != sha(img) {
		t.Fatal("avatar did not round-trip")
	}
}

func TestUploadInfectedRejectedAndNothingStored(t *testing.T) {
	o := startOrderNode(t, nil, true)
	n, id, token, order := o.n, o.sellerID, o.seller, o.paidOrder(t)
	marker := append(append(randomBytes(t, 200<<10), "GIGSTREAM-TEST-MALWARE-"+"MARKER-7f3a9c"...), randomBytes(t, 100)...)
	for name, body := range map[string][]byte{"eicar": eicar(), "marker": marker} {
		r := expect(t, uploadRaw(t, n, token, "kind=deliverable&order_id="+order+"&filename="+name, body), 422, name)
		var p struct{ Detail string }
		r.json(t, &p)
		if !strings.Contains(p.Detail, "UNOFFICIAL") && !strings.Contains(p.Detail, "Test") {
			t.Fatalf("%s: detail %q names no signature", name, p.Detail)
		}
	}
	r := expect(t, uploadForm(t, n, token, map[string]string{"kind": "deliverable", "order_id": order}, "x.com", eicar()), 422, "form eicar")
	_ = r
	expectNothingStored(t, id)
	if !strings.Contains(n.Logs(), "upload_rejected") {
		t.Fatal("no security event logged")
	}
}

func TestUploadSpoofedTypeGets415(t *testing.T) {
	n := startCluster(t, 1, realtimeEnv(nil))[0]
	id, token := appUser(t, n, "spoof")
	elf := append([]byte("\x7fELF\x02\x01\x01\x00"), randomBytes(t, 2000)...)
	html := []byte("<!DOCTYPE html><html><script>alert(1)</script></html>")
	expect(t, uploadRaw(t, n, token, "kind=avatar&filename=cat.png", elf), 415, "ELF as png")
	expect(t, uploadForm(t, n, token, map[string]string{"kind": "avatar"}, "cat.png", html), 415, "HTML as png")
	expectNothingStored(t, id)
}

func TestUploadOversizeGets413BeforeTheBody(t *testing.T) {
	n := startCluster(t, 1, realtimeEnv(map[string]string{"UPLOAD_MAX_AVATAR": "100000"}))[0]
	id, token := appUser(t, n, "big")
	for _, path := range []string{"/uploads/raw?kind=avatar&filename=a.png", "/uploads"} {
		status := sendHeadOnly(t, n, path, token, 200<<20)
		if status != 413 {
			t.Fatalf("%s with a 200 MB Content-Length: status %d, want 413", path, status)
		}
	}
	// The running count catches a body without Content-Length.
	req, _ := http.NewRequest("PUT", n.URL+"/uploads/raw?kind=avatar&filename=a.png", io.MultiReader(bytes.NewReader(pngBytes(t)), bytes.NewReader(make([]byte, 300000))))
	req.ContentLength = -1
	expect(t, sendAs(t, req, token), 413, "chunked oversize")
	expectNothingStored(t, id)
}

// sendHeadOnly sends a request declaring length bytes but only 8 KiB + 1 of them, and
// returns the status the server answers without waiting for the rest.
func sendHeadOnly(t *testing.T, n *Node, path, token string, length int) int {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(n.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	method, ctype := "PUT", "application/octet-stream"
	if path == "/uploads" {
		method, ctype = "POST", "multipart/form-data; boundary=xyz"
	}
	fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n",
		method, path, token, ctype, length)
	head := "--xyz\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\navatar\r\n" +
		"--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n\r\n"
	// Exactly what fasthttp reads of a streamed body before it calls the handler
	// (8 KiB + 1): more would sit unread when the server closes, and the close
	// would be a reset, not an answer.
	_, _ = conn.Write(append([]byte(head), make([]byte, 8<<10+1-len(head))...))
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("%s: no answer before the body was sent: %v", path, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestUploadIsInvisibleToOthers(t *testing.T) {
	o := startOrderNode(t, nil, true)
	n, tokenA, order := o.n, o.seller, o.paidOrder(t)
	_, tokenB := appUser(t, n, "other")
	var up uploaded
	expect(t, uploadRaw(t, n, tokenA, "kind=deliverable&order_id="+order+"&filename=secret.bin", randomBytes(t, 5000)), 201, "upload").json(t, &up)
	expect(t, as(t, n, tokenA, "GET", "/uploads/"+up.ID), 200, "owner sees")
	for who, tok := range map[string]string{"other user": tokenB, "anonymous": "", "the order's buyer, before delivery": o.buyer} {
		expect(t, as(t, n, tok, "GET", "/uploads/"+up.ID), 404, who+" metadata")
		expect(t, as(t, n, tok, "GET", "/uploads/"+up.ID+"/download"), 404, who+" download")
	}
	expect(t, as(t, n, tokenB, "GET", "/uploads/not-a-uuid/download"), 404, "malformed id")
}

func TestUploadAttachmentNeedsConversationMembership(t *testing.T) {
	n := startCluster(t, 1, realtimeEnv(nil))[0]
	_, tokenA := appUser(t, n, "alice")
	idB, tokenB := appUser(t, n, "bob")
	_, tokenC := appUser(t, n, "carol")
	c := &client{t: t, base: n.URL, bearer: tokenA}
	var conv struct{ ID string }
	c.do("POST", "/conversations", map[string]string{"participant_id": idB}).json(t, &conv)
	if conv.ID == "" {
		t.Fatal("no conversation")
	}
	expect(t, uploadRaw(t, n, tokenC, "kind=attachment&filename=a.png&conversation_id="+conv.ID, pngBytes(t)), 404, "outsider attaches")
	var up uploaded
	expect(t, uploadRaw(t, n, tokenA, "kind=attachment&filename=a.png&conversation_id="+conv.ID, pngBytes(t)), 201, "member attaches").json(t, &up)
	expect(t, as(t, n, tokenB, "GET", "/uploads/"+up.ID+"/download"), 302, "participant downloads")
	expect(t, as(t, n, tokenC, "GET", "/uploads/"+up.ID+"/download"), 404, "outsider downloads")
}

// startNodeUnready starts a node that may not pass /readyz (a dependency is down).
func startNodeUnready(t *testing.T, overrides map[string]string) *Node {
	t.Helper()
	n := StartNode(t, bin, migratedEnv(t, realtimeEnv(overrides)))
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(n.URL + "/healthz"); err == nil && resp.StatusCode == 200 {
			resp.Body.Close()
			return n
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("node never healthy")
	return nil
}

func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestUploadWithClamdDownGets503AndStoresNothing(t *testing.T) {
	o := startOrderNode(t, map[string]string{"CLAMD_ADDR": "tcp://" + closedPort(t)}, false)
	n, id, token, order := o.n, o.sellerID, o.seller, o.paidOrder(t)
	expect(t, uploadRaw(t, n, token, "kind=deliverable&order_id="+order+"&filename=a.bin", randomBytes(t, 4<<10)), 503, "clamd down")
	expect(t, uploadForm(t, n, token, map[string]string{"kind": "avatar"}, "a.png", pngBytes(t)), 503, "clamd down, form")
	expectNothingStored(t, id)
}

func TestUploadWithS3DownGets502AndLeavesNoRow(t *testing.T) {
	n := startNodeUnready(t, map[string]string{"S3_ENDPOINT": "http://" + closedPort(t)})
	id, token := appUser(t, n, "nos3")
	sock := mustDial(t, n, token)
	sock.subscribe("user:"+id, nil)
	expect(t, uploadRaw(t, n, token, "kind=avatar&filename=a.png", pngBytes(t)), 502, "S3 down")
	sock.eventOfType("user:"+id, "upload.status", 10*time.Second)
	ev := sock.eventOfType("user:"+id, "upload.status", 10*time.Second)
	var d struct{ ID, Status string }
	_ = json.Unmarshal(ev.Data, &d)
	if d.Status != "failed" {
		t.Fatalf("last event %s, want failed", ev.Data)
	}
	expect(t, as(t, n, token, "GET", "/uploads/"+d.ID), 404, "row of a failed upload")
	expectNothingStored(t, id)
}
