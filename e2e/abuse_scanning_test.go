package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gigstream/hub/media/clamdtest"
)

// productionEnv is what production mode needs besides the devstack's settings.
func productionEnv(extra map[string]string) map[string]string {
	return realtimeEnv(merge(map[string]string{
		"GIGSTREAM_ENV": "production",
		"METRICS_TOKEN": strings.Repeat("m", 32),
		"PUBLIC_URL":    "https://gigstream.example",
		// Every notification mail needs its unsubscribe link in production.
		"MAIL_UNSUBSCRIBE_SECRET": strings.Repeat("u", 32),
	}, extra))
}

// A stock clamd answers OK for archives it stopped unpacking at its limits, so uploads
// would be stored as clean unscanned: production mode refuses to start against it and says
// what to set; against clamd with the README's settings it starts; outside production a
// stock clamd is a warning only.
func TestAbuseScanProductionRefusesAClamdThatPassesUnfinishedArchives(t *testing.T) {
	stock := clamdtest.Start(t, clamdtest.Config{})
	env := migratedEnv(t, productionEnv(map[string]string{"CLAMD_ADDR": stock}))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code, out := Run(ctx, bin, env, "serve")
	if code == 0 || ctx.Err() != nil || !strings.Contains(out, "AlertExceedsMax yes") || !strings.Contains(out, "MaxRecursion") {
		t.Fatalf("serve against a stock clamd in production: exit %d (timed out: %v), want a refusal naming the clamd settings\n%s",
			code, ctx.Err() != nil, out)
	}

	alerting := clamdtest.Start(t, clamdtest.Production())
	StartNode(t, bin, Env(merge(envMap(env), map[string]string{"CLAMD_ADDR": alerting}))).WaitReady(t)

	dev := StartNode(t, bin, Env(merge(envMap(env), map[string]string{"CLAMD_ADDR": stock, "GIGSTREAM_ENV": "development"})))
	dev.WaitReady(t)
	if !strings.Contains(dev.Logs(), "clamd limits probe failed") {
		t.Fatalf("a development node against a stock clamd logged no warning:\n%s", dev.Logs())
	}
}

// With clamd set up as the README says (limits alerted, MaxFileSize above MaxScanSize;
// here with small limits so the archives stay small), archives clamd cannot finish and
// EICAR deep inside an archive are rejected on every upload path, and nothing is stored.
func TestAbuseScanArchivesAreRejectedOnEveryUploadPath(t *testing.T) {
	clamdAddr := clamdtest.Start(t, clamdtest.Production())
	n := startCluster(t, 1, realtimeEnv(map[string]string{"CLAMD_ADDR": clamdAddr}))[0]
	a, _, aID, _, conv := chatPair(t, n)
	archives := map[string]func() []byte{
		// clamdtest.Production unpacks 8 levels and scans 2 MiB: built per upload, so clamd's
		// cache of clean files never answers for one.
		"nested past the recursion limit":      func() []byte { return clamdtest.Nested(12, "notes.txt", clamdtest.Harmless()) },
		"member inflating past the scan size":  func() []byte { return clamdtest.Inflating(6<<20, clamdtest.Harmless()) },
		"EICAR behind padding past the limits": func() []byte { return clamdtest.Inflating(6<<20, eicar()) },
		"EICAR six archives deep":              func() []byte { return clamdtest.Nested(6, "e.com", eicar()) },
	}
	paths := map[string]func(body []byte) (status int, uploadID string){
		"multipart POST /uploads": func(body []byte) (int, string) {
			r := uploadForm(t, n, a.bearer, map[string]string{"kind": "attachment", "conversation_id": conv}, "archive.zip", body)
			return r.status, ""
		},
		"raw PUT /uploads/raw": func(body []byte) (int, string) {
			return uploadRaw(t, n, a.bearer, "kind=attachment&filename=archive.zip&conversation_id="+conv, body).status, ""
		},
		"tus": func(body []byte) (int, string) {
			url, id := tusCreate(t, n, a.bearer, len(body), tusMetadata("filename", "archive.zip", "kind", "attachment", "conversation_id", conv))
			return tusPatch(t, url, a.bearer, 0, body).status, id
		},
	}
	for archive, build := range archives {
		for path, upload := range paths {
			status, id := upload(build())
			if status != 422 {
				t.Errorf("%s over %s: %d, want 422", archive, path, status)
			}
			if id != "" {
				var up uploaded
				expect(t, as(t, n, a.bearer, "GET", "/uploads/"+id), 200, "tus upload").json(t, &up)
				if up.Status != "rejected" {
					t.Errorf("%s over %s: upload %s, want rejected", archive, path, up.Status)
				}
			}
		}
	}
	expectNothingStored(t, aID)
	var up uploaded
	expect(t, uploadRaw(t, n, a.bearer, "kind=attachment&filename=fine.zip&conversation_id="+conv,
		clamdtest.Nested(3, "notes.txt", clamdtest.Harmless())), 201, "an archive clamd can finish").json(t, &up)
	if up.Status != "clean" {
		t.Fatalf("a harmless archive 3 deep: %+v, want clean", up)
	}
}

// envMap turns an environment list back into a map, for overriding one variable.
func envMap(env []string) map[string]string {
	m := map[string]string{}
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}
