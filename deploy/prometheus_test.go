package deploy

import (
	"os/exec"
	"testing"
)

// promtool runs Debian's promtool (package prometheus, installed by scripts/devstack).
func promtool(t *testing.T, args ...string) {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatal("promtool not found: install Debian's prometheus package (scripts/devstack up does)")
	}
	out, err := exec.Command(path, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %v: %v\n%s", args, err, out)
	}
}

func TestAlertRulesAreValid(t *testing.T) {
	promtool(t, "check", "rules", "prometheus/gigstream-rules.yaml")
}

func TestAlertRulesFireAsTheirUnitTestsSay(t *testing.T) {
	promtool(t, "test", "rules", "prometheus/gigstream-rules.test.yaml")
}
