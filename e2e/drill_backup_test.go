//go:build drill

package e2e

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// pgBackRest is the backup tool (docs/operations.md, "Backups"). Debian's 2.45 speaks
// S3 only over HTTPS, and the devstack's S3 is plain HTTP, so the drill puts HAProxy
// with a self-signed certificate in front of it, as TLS would be in front of any
// production S3; pgBackRest trusts that certificate through repo1-storage-ca-file.
type pgBackRest struct {
	config, stanza string
}

func (b pgBackRest) run(t *testing.T, args ...string) string {
	t.Helper()
	return asPostgres(t, 5*time.Minute, append([]string{"pgbackrest", "--config=" + b.config, "--stanza=" + b.stanza}, args...)...)
}

// newBackupRepo writes a pgBackRest configuration for cluster whose repository is a
// fresh bucket of the devstack's S3, reached over TLS through HAProxy.
func newBackupRepo(t *testing.T, dir string, cluster *pgCluster) pgBackRest {
	t.Helper()
	tlsDir := filepath.Join(dir, "tls")
	mkdirPostgres(t, tlsDir, 0o755)
	cert, combined := selfSignedCert(t, tlsDir)
	s3Host := strings.TrimPrefix(os.Getenv("S3_ENDPOINT"), "http://")
	tlsAddr := freeAddr(t)
	startHAProxy(t, fmt.Sprintf(`global
  maxconn 200
defaults
  mode tcp
  timeout connect 5s
  timeout client 5m
  timeout server 5m
frontend s3_tls
  bind %s ssl crt %s
  default_backend s3
backend s3
  server versitygw %s
`, tlsAddr, combined, s3Host))
	waitPort(t, tlsAddr)
	bucket := fmt.Sprintf("gigstream-backup-%d", time.Now().UnixNano())
	if code := s3Request(t, "PUT", "/"+bucket); code != "200" {
		t.Fatalf("create bucket %s: HTTP %s", bucket, code)
	}
	_, port, _ := strings.Cut(tlsAddr, ":")
	host := "localhost" // pgBackRest checks the certificate's host names, never its IP addresses
	for _, sub := range []string{"log", "lock", "spool"} {
		mkdirPostgres(t, filepath.Join(dir, sub), 0o750)
	}
	config := filepath.Join(dir, "pgbackrest.conf")
	conf := fmt.Sprintf(`[global]
repo1-type=s3
repo1-s3-endpoint=%s
repo1-storage-port=%s
repo1-storage-ca-file=%s
repo1-s3-bucket=%s
repo1-s3-region=%s
repo1-s3-key=%s
repo1-s3-key-secret=%s
repo1-s3-uri-style=path
repo1-path=/pgbackrest
repo1-retention-full=2
compress-type=zst
start-fast=y
log-path=%s/log
lock-path=%s/lock
spool-path=%s/spool
log-level-console=warn
log-level-file=info

[gigstream]
pg1-path=%s
pg1-port=%s
pg1-socket-path=%s
`, host, port, cert, bucket, os.Getenv("S3_REGION"), os.Getenv("S3_ACCESS_KEY"), os.Getenv("S3_SECRET_KEY"),
		dir, dir, dir, cluster.data, cluster.port, cluster.dir)
	if err := os.WriteFile(config, []byte(conf), 0o640); err != nil {
		t.Fatal(err)
	}
	chownPostgres(t, config)
	return pgBackRest{config: config, stanza: "gigstream"}
}

// archiveSettings are the postgres settings that ship every WAL segment to the repository.
func (b pgBackRest) archiveSettings() []string {
	return []string{
		"wal_level=replica", "archive_mode=on", "max_wal_senders=3",
		"archive_command=pgbackrest --config=" + b.config + " --stanza=" + b.stanza + " archive-push %p",
		// A quiet database still ships its last writes within a minute.
		"archive_timeout=60",
	}
}

// drillActivity is what the workload made: paid orders and, per channel, the seq of
// the last durable event published.
type drillActivity struct {
	orders []string
	events map[string]uint64
}

// work places and pays n orders and publishes n durable events on each of channels.
func (o *orderNode) work(t *testing.T, n int, channels []string, into *drillActivity) {
	t.Helper()
	for i := 0; i < n; i++ {
		into.orders = append(into.orders, o.paidOrder(t))
		for _, ch := range channels {
			into.events[ch] = publish(t, o.n, ch, i, true)
		}
	}
}

// TestDrillPointInTimeRestore backs up a live cluster (a full base backup, then every WAL
// segment archived to S3), keeps working, notes a time T, works more, then restores a
// NEW cluster to T, starts a node on it and checks: the ledger check passes, exactly the
// work before T is there (orders and every channel's events 1..n, no gap, no event
// after T), and the restored node goes on numbering events where T left off.
func TestDrillPointInTimeRestore(t *testing.T) {
	dir := drillDir(t)
	prod := newCluster(t, filepath.Join(dir, "prod"), false)
	repo := newBackupRepo(t, dir, prod)
	prod.start(t, repo.archiveSettings()...)
	prod.exec(t, "postgres", "CREATE DATABASE gigstream")
	repo.run(t, "stanza-create")
	repo.run(t, "check")

	o := orderNodeOn(t, prod.url("gigstream"), true)
	admin := o.adminToken(t)
	tokens := map[string]string{} // the users' own channels, and their bearer tokens
	for _, who := range []string{"ana", "ben"} {
		id, token := appUser(t, o.n, who)
		tokens["user:"+id] = token
	}
	channels := slices.Sorted(maps.Keys(tokens))
	before := &drillActivity{events: map[string]uint64{}}
	o.work(t, 3, channels, before)
	start := time.Now()
	repo.run(t, "backup", "--type=full")
	t.Logf("full backup in %s", time.Since(start).Round(time.Millisecond))
	o.work(t, 3, channels, before) // after the base backup: only the WAL archive holds it

	time.Sleep(1100 * time.Millisecond)
	var target string
	db := prod.open(t, "gigstream")
	if err := db.QueryRow(`SELECT now()::text`).Scan(&target); err != nil {
		t.Fatal(err)
	}
	db.Close()
	time.Sleep(1100 * time.Millisecond)
	after := &drillActivity{events: map[string]uint64{}}
	o.work(t, 2, channels, after)
	repo.run(t, "check") // switches the WAL segment and waits until it is archived
	info := repo.run(t, "info")
	t.Logf("target time %s\n%s", target, info)

	start = time.Now()
	restored := newCluster(t, filepath.Join(dir, "restored"), true)
	mkdirPostgres(t, restored.data, 0o700)
	repo.run(t, "--pg1-path="+restored.data, "--type=time", "--target="+target, "--target-action=promote", "restore")
	restored.start(t)
	waitPromoted(t, restored)
	t.Logf("restore to a new cluster and recovery to T in %s", time.Since(start).Round(time.Millisecond))

	assertRestoredWork(t, restored, before, after)
	r := orderNodeOn(t, restored.url("gigstream"), false)
	adminClient := &client{t: t, base: r.n.URL, bearer: admin}
	assertCheckClean(t, adminClient)
	for _, ch := range channels {
		sock := mustDial(t, r.n, tokens[ch]) // sessions made before T are restored too
		since := uint64(0)
		sock.subscribe(ch, &since)
		assertSeqs(t, ch, sock.events(ch, int(before.events[ch]), 10*time.Second), 1, before.events[ch])
		if seq := publish(t, r.n, ch, 99, true); seq != before.events[ch]+1 {
			t.Errorf("%s: the restored node numbered its next event %d, want %d", ch, seq, before.events[ch]+1)
		}
	}
}

// orderNodeOn starts a ready node on the database at dbURL (migrated and seeded first
// when prepare is set), with the seeded seller, buyer and gig of startOrderNode.
func orderNodeOn(t *testing.T, dbURL string, prepare bool) *orderNode {
	t.Helper()
	env := Env(realtimeEnv(map[string]string{"STRIPE_WEBHOOK_SECRET": webhookSecret, "DATABASE_URL": dbURL}))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, args := range [][]string{{"migrate", "up"}, {"seed"}} {
		if !prepare {
			break
		}
		if code, out := Run(ctx, bin, env, args...); code != 0 {
			t.Fatalf("%s: exit %d\n%s", args[0], code, out)
		}
	}
	o := &orderNode{n: StartNode(t, bin, env), env: env, dbURL: dbURL, price: 4500, currency: "USD", allowedRevisionsBasic: 1}
	o.n.WaitReady(t)
	o.sellerID, o.seller = demoToken(t, o.n, "maya@demo.gigstream.test")
	o.buyerID, o.buyer = demoToken(t, o.n, "lena@demo.gigstream.test")
	var gig struct{ ID string }
	expect(t, as(t, o.n, "", "GET", "/gigs/minimalist-logo-design"), 200, "seeded gig").json(t, &gig)
	o.gigID = gig.ID
	return o
}

// waitPromoted waits until a restored cluster has reached its target and left recovery.
func waitPromoted(t *testing.T, c *pgCluster) {
	t.Helper()
	db := c.open(t, "postgres")
	defer db.Close()
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		var recovering bool
		if err := db.QueryRow(`SELECT pg_is_in_recovery()`).Scan(&recovering); err == nil && !recovering {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("restored cluster still in recovery after 3 minutes\n%s", c.log())
}

// assertRestoredWork checks the restored database holds exactly the work before T.
func assertRestoredWork(t *testing.T, c *pgCluster, before, after *drillActivity) {
	t.Helper()
	db := c.open(t, "gigstream")
	defer db.Close()
	for _, id := range before.orders {
		var status string
		if err := db.QueryRow(`SELECT status FROM orders WHERE id = $1`, id).Scan(&status); err != nil || status != "paid" {
			t.Errorf("order %s from before T: status %q, %v", id, status, err)
		}
	}
	for _, id := range after.orders {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM orders WHERE id = $1`, id).Scan(&n); err != nil || n != 0 {
			t.Errorf("order %s from after T survived the restore (%v)", id, err)
		}
	}
	for ch, want := range before.events {
		var count, maxSeq, head uint64
		err := db.QueryRow(`SELECT count(*), COALESCE(max(seq), 0), (SELECT seq FROM channel_seqs WHERE channel = $1)
			FROM events WHERE channel = $1`, ch).Scan(&count, &maxSeq, &head)
		if err != nil || count != want || maxSeq != want || head != want {
			t.Errorf("%s: %d events up to seq %d, head %d (%v); want exactly 1..%d", ch, count, maxSeq, head, err, want)
		}
	}
}
