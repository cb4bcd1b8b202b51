//go:build drill

package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The drills (`make drills`, build tag drill) run the operations of docs/operations.md
// for real: their own PostgreSQL clusters, pgBackRest, HAProxy, on loopback.

const pgBin = "/usr/lib/postgresql/15/bin"

// drillDir makes a folder the postgres user can traverse (t.TempDir may sit under a
// private parent) and removes it when the test ends.
func drillDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("/var/tmp", "gigstream-drill-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// asPostgres runs a command as the postgres user (initdb and pgBackRest refuse root).
func asPostgres(t *testing.T, timeout time.Duration, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "runuser", append([]string{"-u", "postgres", "--"}, args...)...)
	cmd.Dir = "/"
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// mkdirPostgres makes dir owned by postgres with mode perm.
func mkdirPostgres(t *testing.T, dir string, perm os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(dir, perm); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("chown", "-R", "postgres:postgres", dir).CombinedOutput(); err != nil {
		t.Fatalf("chown %s: %v %s", dir, err, out)
	}
	if err := os.Chmod(dir, perm); err != nil {
		t.Fatal(err)
	}
}

// chownPostgres gives path to the postgres user.
func chownPostgres(t *testing.T, path string) {
	t.Helper()
	if out, err := exec.Command("chown", "postgres:postgres", path).CombinedOutput(); err != nil {
		t.Fatalf("chown %s: %v %s", path, err, out)
	}
}

// pgCluster is a PostgreSQL 15 cluster of the drill's own, on a free loopback port.
type pgCluster struct {
	dir, data string
	port      string
}

// newCluster makes (initdb) a cluster in dir/data, or takes the data folder a restore
// wrote there when restored is true.
func newCluster(t *testing.T, dir string, restored bool) *pgCluster {
	t.Helper()
	_, port, _ := strings.Cut(freeAddr(t), ":")
	c := &pgCluster{dir: dir, data: filepath.Join(dir, "data"), port: port}
	mkdirPostgres(t, dir, 0o755)
	if !restored {
		asPostgres(t, time.Minute, pgBin+"/initdb", "-D", c.data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
	}
	return c
}

// start starts the cluster with extra settings (-c name=value) and waits until it
// accepts connections.
func (c *pgCluster) start(t *testing.T, settings ...string) {
	t.Helper()
	opts := []string{"-p", c.port, "-k", c.dir, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"}
	for _, s := range settings {
		opts = append(opts, "-c", s)
	}
	asPostgres(t, 2*time.Minute, pgBin+"/pg_ctl", "-D", c.data, "-l", filepath.Join(c.dir, "postgres.log"), "-w", "-t", "120",
		"-o", shellJoin(opts), "start")
	t.Cleanup(func() { c.stop(t) })
}

func (c *pgCluster) stop(t *testing.T) {
	cmd := exec.Command("runuser", "-u", "postgres", "--", pgBin+"/pg_ctl", "-D", c.data, "-m", "fast", "-w", "stop")
	cmd.Dir = "/"
	_ = cmd.Run()
}

// url is a DATABASE_URL for database name on the cluster.
func (c *pgCluster) url(name string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%s/%s?sslmode=disable", c.port, name)
}

// exec runs SQL statements on database name.
func (c *pgCluster) exec(t *testing.T, name string, statements ...string) {
	t.Helper()
	db := c.open(t, name)
	defer db.Close()
	for _, s := range statements {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func (c *pgCluster) open(t *testing.T, name string) *sql.DB {
	t.Helper()
	db, err := sql.Open("postgres", c.url(name))
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// log returns the cluster's server log, for failure messages.
func (c *pgCluster) log() string {
	raw, _ := os.ReadFile(filepath.Join(c.dir, "postgres.log"))
	return string(raw)
}

// shellJoin quotes args for pg_ctl -o, which hands them to a shell.
func shellJoin(args []string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(quoted, " ")
}

// startHAProxy runs haproxy with config in the foreground until the test ends.
func startHAProxy(t *testing.T, config string) *exec.Cmd {
	t.Helper()
	path := filepath.Join(t.TempDir(), "haproxy.cfg")
	if err := os.WriteFile(path, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("haproxy", "-c", "-q", "-f", path).CombinedOutput(); err != nil {
		t.Fatalf("haproxy -c: %v\n%s\n%s", err, out, config)
	}
	cmd := exec.Command("haproxy", "-db", "-f", path)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("haproxy: %v (make drills installs it)", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd
}

// selfSignedCert writes a certificate for localhost (and 127.0.0.1) and its key to dir and returns the
// certificate's path and the path of both in one PEM (HAProxy's form).
func selfSignedCert(t *testing.T, dir string) (cert, combined string) {
	t.Helper()
	cert, key, combined := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"), filepath.Join(dir, "combined.pem")
	out, err := exec.Command("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
		"-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
		"-keyout", key, "-out", cert).CombinedOutput()
	if err != nil {
		t.Fatalf("openssl: %v\n%s", err, out)
	}
	c, _ := os.ReadFile(cert)
	k, _ := os.ReadFile(key)
	if err := os.WriteFile(combined, append(c, k...), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(cert, 0o644); err != nil {
		t.Fatal(err)
	}
	return cert, combined
}

// s3Request sends a SigV4-signed request to the devstack's S3 with curl and returns
// the status code.
func s3Request(t *testing.T, method, path string) string {
	t.Helper()
	out, err := exec.Command("curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10",
		"--aws-sigv4", "aws:amz:"+os.Getenv("S3_REGION")+":s3",
		"--user", os.Getenv("S3_ACCESS_KEY")+":"+os.Getenv("S3_SECRET_KEY"),
		"-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD", "-X", method, os.Getenv("S3_ENDPOINT")+path).CombinedOutput()
	if err != nil {
		t.Fatalf("curl %s %s: %v %s", method, path, err, out)
	}
	return string(out)
}
