package clamdtest

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// Config is a clamd's limits. The zero value is stock clamd with small limits: it answers
// OK for data it stops unpacking (AlertExceedsMax off).
type Config struct {
	// AlertExceedsMax makes clamd report data over its limits
	// (Heuristics.Limits.Exceeded.*) instead of calling it clean.
	AlertExceedsMax bool
	// MaxRecursion is how deep clamd unpacks nested archives; 0 means 8.
	MaxRecursion int
	// MaxFileSize and MaxScanSize in bytes; 0 means 4 MiB and 2 MiB. MaxFileSize above
	// MaxScanSize makes a member cut off at MaxFileSize count as over the scan size.
	MaxFileSize, MaxScanSize int64
	// StreamMaxLength in bytes; 0 means 16 MiB.
	StreamMaxLength int64
}

func (c Config) withDefaults() Config {
	if c.MaxRecursion == 0 {
		c.MaxRecursion = 8
	}
	if c.MaxFileSize == 0 {
		c.MaxFileSize = 4 << 20
	}
	if c.MaxScanSize == 0 {
		c.MaxScanSize = 2 << 20
	}
	if c.StreamMaxLength == 0 {
		c.StreamMaxLength = 16 << 20
	}
	return c
}

// Production is the configuration the README asks production to run: limits alerted,
// MaxFileSize above MaxScanSize, small enough to test.
func Production() Config { return Config{AlertExceedsMax: true} }

// Start runs a clamd with cfg on a free loopback port until the test ends and returns
// its address as CLAMD_ADDR wants it (tcp://127.0.0.1:port). It fails the test when
// clamd is missing or does not answer PING within a minute.
func Start(t testing.TB, cfg Config) string {
	t.Helper()
	bin, err := exec.LookPath("clamd")
	if err != nil {
		t.Fatalf("clamd not found (run `scripts/devstack up`, which installs clamav-daemon): %v", err)
	}
	dir := t.TempDir()
	port := freePort(t)
	conf := filepath.Join(dir, "clamd.conf")
	if err := os.WriteFile(conf, []byte(configFile(cfg.withDefaults(), dir, port)), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-c", conf)
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start clamd: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	if err := waitPing(addr, exited, time.Minute); err != nil {
		t.Fatalf("clamd on %s: %v\n%s", addr, err, out)
	}
	return "tcp://" + addr
}

// configFile is a private clamd.conf: foreground, loopback only, the project's signatures.
func configFile(c Config, dir string, port int) string {
	alert := "no"
	if c.AlertExceedsMax {
		alert = "yes"
	}
	return strings.Join([]string{
		"Foreground yes",
		fmt.Sprintf("TCPSocket %d", port),
		"TCPAddr 127.0.0.1",
		"DatabaseDirectory " + SignatureDir(),
		"TemporaryDirectory " + dir,
		"SelfCheck 0",
		"Bytecode no",
		fmt.Sprintf("MaxRecursion %d", c.MaxRecursion),
		fmt.Sprintf("MaxFileSize %d", c.MaxFileSize),
		fmt.Sprintf("MaxScanSize %d", c.MaxScanSize),
		fmt.Sprintf("StreamMaxLength %d", c.StreamMaxLength),
		"AlertExceedsMax " + alert,
		"",
	}, "\n")
}

// SignatureDir is the project's signature folder, scripts/clamav.
func SignatureDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "scripts", "clamav")
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// waitPing waits until clamd answers PONG, the process exits, or timeout passes.
func waitPing(addr string, exited <-chan struct{}, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		if ping(addr) == nil {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("clamd exited")
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no PONG within %s", timeout)
		}
	}
}

func ping(addr string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	c, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte("zPING\x00")); err != nil {
		return err
	}
	buf := make([]byte, 16)
	n, _ := c.Read(buf)
	if !bytes.HasPrefix(buf[:n], []byte("PONG")) {
		return fmt.Errorf("answer %q", buf[:n])
	}
	return nil
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// EICAR is the standard anti-virus test file; the project's signatures find it anywhere.
func EICAR() []byte {
	return []byte(`X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*`)
}

// Nested zips inner (named name) depth times, each level deflated, so no level shows
// its content in the clear to the level above.
func Nested(depth int, name string, inner []byte) []byte {
	data := inner
	for i := range depth {
		data = Zip(map[string][]byte{name: data})
		name = fmt.Sprintf("level-%d.zip", depth-i)
	}
	return data
}

// Zip deflates the members into one archive.
func Zip(members map[string][]byte) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, data := range members {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate})
		if err != nil {
			panic(err)
		}
		if _, err := w.Write(data); err != nil {
			panic(err)
		}
	}
	if err := zw.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// Inflating is a zip whose one member inflates to size zero bytes followed by tail: a
// few kilobytes on the wire that clamd must unpack past its scan size to see the tail.
func Inflating(size int64, tail []byte) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "padding.txt", Method: zip.Deflate})
	if err != nil {
		panic(err)
	}
	chunk := make([]byte, 1<<20)
	for left := size; left > 0; left -= int64(len(chunk)) {
		if _, err := w.Write(chunk[:min(left, int64(len(chunk)))]); err != nil {
			panic(err)
		}
	}
	if _, err := w.Write(tail); err != nil {
		panic(err)
	}
	if err := zw.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// Harmless returns a short text, different on every call, so clamd's cache of clean
// files never answers for an archive built around it.
func Harmless() []byte {
	nonce := make([]byte, 16)
	_, _ = rand.Read(nonce)
	return []byte("harmless test text " + hex.EncodeToString(nonce) + "\n")
}
