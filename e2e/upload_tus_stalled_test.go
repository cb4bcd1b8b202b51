package e2e

import (
	"encoding/json"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// switchableProxy forwards TCP connections to target while it is up; while down its
// port refuses connections, as a stopped clamd's would.
type switchableProxy struct {
	t      *testing.T
	addr   string
	target string
	mu     sync.Mutex
	ln     net.Listener
}

func newSwitchableProxy(t *testing.T, target string) *switchableProxy {
	p := &switchableProxy{t: t, addr: closedPort(t), target: target}
	p.up()
	t.Cleanup(p.down)
	return p
}

// up listens on the proxy's port again.
func (p *switchableProxy) up() {
	p.mu.Lock()
	defer p.mu.Unlock()
	var err error
	for range 50 { // the port was ours a moment ago; retry briefly if the kernel lags
		if p.ln, err = net.Listen("tcp", p.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		p.t.Fatalf("proxy listen %s: %v", p.addr, err)
	}
	go p.serve(p.ln)
}

// down closes the listener: new connections are refused.
func (p *switchableProxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
}

func (p *switchableProxy) serve(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			s, err := net.Dial("tcp", p.target)
			if err != nil {
				return
			}
			defer s.Close()
			go func() { _, _ = io.Copy(s, c); s.(*net.TCPConn).CloseWrite() }()
			_, _ = io.Copy(c, s)
		}()
	}
}

// TestTusScanStalledByAClamdOutageEndsInTheBackground: the last PATCH of a tus upload
// arrives while clamd is down (503, the row says scanning); the client never comes back,
// yet once clamd is reachable again the node's upkeep scans the assembled object, the
// row turns clean and the uploader's socket hears it. The object round-trips.
func TestTusScanStalledByAClamdOutageEndsInTheBackground(t *testing.T) {
	clamd := strings.TrimPrefix(os.Getenv("CLAMD_ADDR"), "tcp://")
	proxy := newSwitchableProxy(t, clamd)
	n := startCluster(t, 1, realtimeEnv(map[string]string{
		"CLAMD_ADDR": "tcp://" + proxy.addr, "TUS_RETRY_INTERVAL": "1s",
	}))[0]
	id, token := appUser(t, n, "tusstall")
	sock := mustDial(t, n, token)
	if f := sock.subscribe("user:"+id, nil); f.Op != "reply" {
		t.Fatalf("subscribe: %+v", f)
	}

	unauth := tusRequest(t, "HEAD", n.URL+"/uploads/tus/nope", "", nil)
	if unauth.status != 401 || unauth.header.Get("Tus-Resumable") != "1.0.0" {
		t.Fatalf("unauthenticated HEAD = %d with Tus-Resumable %q, want 401 with 1.0.0", unauth.status, unauth.header.Get("Tus-Resumable"))
	}

	// An avatar needs no order or conversation: a PNG with 2 MiB of trailing bytes.
	data := append(pngBytes(t), randomBytes(t, 2<<20)...)
	url, rowID := tusCreate(t, n, token, len(data), tusMetadata("filename", "late.png", "kind", "avatar"))
	expect(t, tusPatch(t, url, token, 0, data[:1<<20]), 204, "first PATCH")
	statusOf := func() string {
		var up uploaded
		expect(t, as(t, n, token, "GET", "/uploads/"+rowID), 200, "metadata").json(t, &up)
		return up.Status
	}
	if s := statusOf(); s != "uploading" {
		t.Fatalf("status after a partial PATCH = %s, want uploading", s)
	}
	proxy.down()
	expect(t, tusPatch(t, url, token, 1<<20, data[1<<20:]), 503, "last PATCH while clamd is down")
	if s := statusOf(); s != "scanning" {
		t.Fatalf("status after the last byte with clamd down = %s, want scanning", s)
	}
	expect(t, as(t, n, token, "GET", "/uploads/"+rowID+"/download"), 404, "download before the verdict")
	proxy.up()

	want := []string{"uploading", "scanning", "clean"}
	for _, w := range want {
		ev := sock.eventOfType("user:"+id, "upload.status", 30*time.Second)
		var d struct{ ID, Status string }
		_ = json.Unmarshal(ev.Data, &d)
		if d.ID != rowID || d.Status != w {
			t.Fatalf("event %s, want %s of %s", ev.Data, w, rowID)
		}
	}
	if s := statusOf(); s != "clean" {
		t.Fatalf("status after clamd came back = %s, want clean", s)
	}
	if got := downloadSHA(t, n, token, rowID); got != sha(data) {
		t.Fatal("the background-finished upload did not round-trip")
	}
}

// TestNoLimitExceedsWhatClamdCanScan: with CLAMD_SCAN_LIMIT below a kind's limit, an
// upload the scanner could never judge gets 413 before its first byte, on every path,
// and tus advertises the capped maximum.
func TestNoLimitExceedsWhatClamdCanScan(t *testing.T) {
	n := startCluster(t, 1, realtimeEnv(map[string]string{"CLAMD_SCAN_LIMIT": "1000000"}))[0]
	id, token := appUser(t, n, "scanlimit")
	opts := expect(t, tusRequest(t, "OPTIONS", n.URL+"/uploads/tus/", "", nil), 204, "options")
	if opts.header.Get("Tus-Max-Size") != "1000000" {
		t.Fatalf("Tus-Max-Size = %q, want the scan limit 1000000", opts.header.Get("Tus-Max-Size"))
	}
	expect(t, tusRequest(t, "POST", n.URL+"/uploads/tus/", token, nil, "Upload-Length", "1000001",
		"Upload-Metadata", tusMetadata("kind", "avatar", "filename", "a.png")), 413, "tus avatar over the scan limit")
	if status := sendHeadOnly(t, n, "/uploads/raw?kind=avatar&filename=a.png", token, 1000001); status != 413 {
		t.Fatalf("raw avatar over the scan limit: status %d, want 413", status)
	}
	expect(t, uploadRaw(t, n, token, "kind=avatar&filename=a.png", append(pngBytes(t), randomBytes(t, 900000)...)), 201, "avatar under the scan limit")
	if got := stored(t, id); len(got) != 1 {
		t.Fatalf("S3 holds %v; want only the one clean avatar", got)
	}
}
