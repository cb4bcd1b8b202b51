package media

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dutchcoders/go-clamd"

	"github.com/gigstream/hub/media/clamdtest"
)

func TestProbeLimitsRefusesStockClamdAndPassesAlertingOnes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	stock := NewScanner(clamd.NewClamd(clamdtest.Start(t, clamdtest.Config{})))
	err := stock.ProbeLimits(ctx)
	var probe *LimitsProbeError
	if !errors.Is(err, ErrLimitsNotAlerted) || !errors.As(err, &probe) || !probe.Verdict.Clean {
		t.Fatalf("stock clamd: ProbeLimits = %v, want ErrLimitsNotAlerted with an OK verdict", err)
	}
	if !strings.Contains(err.Error(), "AlertExceedsMax yes") {
		t.Errorf("the error does not say what to set: %v", err)
	}
	for name, c := range map[string]*clamd.Clamd{
		"alerting": clamd.NewClamd(clamdtest.Start(t, clamdtest.Production())),
		"devstack": testClamd(t),
	} {
		if err := NewScanner(c).ProbeLimits(ctx); err != nil {
			t.Errorf("%s clamd: ProbeLimits = %v, want nil", name, err)
		}
	}
	down := NewScanner(clamd.NewClamd("tcp://" + closedAddr(t)))
	if err := down.ProbeLimits(ctx); !errors.Is(err, ErrScannerUnavailable) {
		t.Errorf("clamd down: ProbeLimits = %v, want ErrScannerUnavailable", err)
	}
}

// The archives an upload may hide behind. With the README's settings clamd rejects every
// one. A stock clamd calls the first two clean (which is what the probe is for), and an
// alerting clamd whose MaxFileSize is not above MaxScanSize cuts the inflating member off
// at MaxFileSize without a finding, so EICAR behind the padding passes (which is why the
// README asks for MaxFileSize > MaxScanSize). If a clamd upgrade changes those two, the
// README's advice needs a look.
func TestScanRejectsArchivesClamdCannotFinishWhenItAlerts(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	nested := clamdtest.Nested(12, "a.txt", clamdtest.Harmless())
	inflating := clamdtest.Inflating(6<<20, clamdtest.EICAR())
	deep := clamdtest.Nested(6, "eicar.com", clamdtest.EICAR())
	alerting := NewScanner(clamd.NewClamd(clamdtest.Start(t, clamdtest.Production())))
	for name, data := range map[string][]byte{"nested past MaxRecursion": nested, "member inflating past the scan size": inflating, "EICAR six archives deep": deep} {
		if v, err := alerting.Scan(ctx, bytes.NewReader(data)); err != nil || v.Clean {
			t.Errorf("%s: alerting clamd said %+v, %v; want rejected", name, v, err)
		}
	}
	stock := NewScanner(clamd.NewClamd(clamdtest.Start(t, clamdtest.Config{})))
	for name, data := range map[string][]byte{"nested past MaxRecursion": nested, "member inflating past the scan size": inflating} {
		if v, err := stock.Scan(ctx, bytes.NewReader(data)); err != nil || !v.Clean {
			t.Errorf("%s: stock clamd said %+v, %v; this test expects stock clamd to pass it", name, v, err)
		}
	}
	cutShort := NewScanner(clamd.NewClamd(clamdtest.Start(t, clamdtest.Config{AlertExceedsMax: true, MaxFileSize: 1 << 20, MaxScanSize: 2 << 20})))
	if v, err := cutShort.Scan(ctx, bytes.NewReader(inflating)); err != nil || !v.Clean {
		t.Errorf("MaxFileSize below MaxScanSize: clamd said %+v, %v; this test expects it to miss EICAR", v, err)
	}
}
