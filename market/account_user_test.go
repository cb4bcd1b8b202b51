package market

import (
	"context"
	"strings"
	"testing"
)

func TestPasswordPolicy(t *testing.T) {
	cases := []struct {
		pw   string
		ok   bool
		note string
	}{
		{"correct horse battery", true, "long passphrase"},
		{"short", false, "too short"},
		{"123456789", false, "nine characters"},
		{"ädäöüßçéèêë", true, "ten non-ASCII characters count as ten"},
		{"xx maya_designs xx", false, "contains the username"},
		{"MAYA_DESIGNS!!", false, "contains the username in capitals"},
		{"my maya@demo.test pw", false, "contains the e-mail"},
		{"mayaAtHome2024", false, "contains the e-mail's local part"},
		{strings.Repeat("a", 257), false, "too long"},
	}
	for _, c := range cases {
		err := CheckPassword("password", c.pw, "maya@demo.test", "maya_designs")
		if (err == nil) != c.ok {
			t.Errorf("%s (%q): err = %v, want ok = %v", c.note, c.pw, err, c.ok)
		}
		if err != nil && (ErrorCode(err) != CodeInvalid || err.(*Error).Field != "password") {
			t.Errorf("%s: error %v does not name the field", c.note, err)
		}
	}
}

func TestEmailAndUsernameRules(t *testing.T) {
	for email, ok := range map[string]bool{
		"a@b.co": true, "name@example.com": true, "Name <n@x.io>": false, "no-at": false,
		"a@localhost": false, "a@b.co\r\nBcc: x@y.z": false,
	} {
		if err := CheckEmail("email", email); (err == nil) != ok {
			t.Errorf("CheckEmail(%q) = %v, want ok %v", email, err, ok)
		}
	}
	for name, ok := range map[string]bool{"abc": true, "a_b_9": true, "ab": false, "Abc": false, "a-b": false, "a b": false} {
		if err := CheckUsername(name); (err == nil) != ok {
			t.Errorf("CheckUsername(%q) = %v, want ok %v", name, err, ok)
		}
	}
}

func TestRichTextIsSanitized(t *testing.T) {
	got := SanitizeRichText(`<p onclick="x()">Hi <b>there</b></p><script>alert(1)</script><img src=x onerror=alert(1)><a href="javascript:alert(1)">l</a><iframe src="//evil"></iframe>`)
	for _, bad := range []string{"script", "onclick", "onerror", "javascript:", "iframe"} {
		if strings.Contains(got, bad) {
			t.Errorf("sanitized text still has %q: %s", bad, got)
		}
	}
	if !strings.Contains(got, "<b>there</b>") {
		t.Errorf("harmless markup lost: %s", got)
	}
}

func TestDerivedUsernamesAreValid(t *testing.T) {
	for _, email := range []string{"jane.doe@example.com", "x@y.z", "ÄÖÜ+tag@example.com", strings.Repeat("long", 20) + "@example.com"} {
		if err := CheckUsername(usernameFrom(email)); err != nil {
			t.Errorf("usernameFrom(%q) = %q: %v", email, usernameFrom(email), err)
		}
	}
}

func TestHasherRoundTripAndBoundedSlots(t *testing.T) {
	h := NewPasswordHasher(HasherConfig{MemoryKiB: 8 * 1024, Iterations: 1, Concurrency: 1})
	ctx := context.Background()
	hash, err := h.Hash(ctx, "a long passphrase")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := h.Verify(ctx, "a long passphrase", hash); !ok || err != nil {
		t.Fatalf("Verify(right) = %v, %v", ok, err)
	}
	if ok, _ := h.Verify(ctx, "a wrong passphrase", hash); ok {
		t.Fatal("Verify(wrong) = true")
	}
	h.slots <- struct{}{} // the only slot is busy
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := h.Hash(cancelled, "x"); err == nil {
		t.Fatal("Hash waited past its context for a busy slot")
	}
}
