package main

import (
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// secret holds a value that must never reach a log line or an error message.
type secret string

// LogValue keeps secrets out of structured logs.
func (secret) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// String keeps secrets out of fmt output.
func (secret) String() string { return "[redacted]" }

// envReader reads environment variables and remembers the first problem, so that a
// bad configuration stops start-up with one line naming the variable.
type envReader struct {
	lookup func(string) (string, bool)
	err    error
	read   map[string]bool // every variable asked for, so a test can hold .env.example to it
}

func newEnvReader() *envReader { return &envReader{lookup: os.LookupEnv} }

func (e *envReader) fail(name, expected string, got string) {
	if e.err != nil {
		return
	}
	if got != "" {
		expected += fmt.Sprintf(", got %q", got)
	}
	e.err = fmt.Errorf("config: %s: expected %s", name, expected)
}

func (e *envReader) str(name, def string) string {
	if e.read != nil {
		e.read[name] = true
	}
	if v, ok := e.lookup(name); ok && strings.TrimSpace(v) != "" {
		return strings.TrimSpace(v)
	}
	return def
}

func (e *envReader) required(name, expected string) string {
	v := e.str(name, "")
	if v == "" {
		e.fail(name, expected+" (it is required)", "")
	}
	return v
}

// url reads a required URL whose scheme is one of schemes. The value may hold a
// password, so it is never echoed back.
func (e *envReader) url(name string, schemes ...string) secret {
	v := e.required(name, "a "+strings.Join(schemes, " or ")+" URL")
	if v == "" {
		return ""
	}
	u, err := url.Parse(v)
	if err != nil || u.Host == "" && u.Path == "" || !contains(schemes, u.Scheme) {
		e.fail(name, "a "+strings.Join(schemes, " or ")+" URL (value not shown: it may hold a password)", "")
	}
	return secret(v)
}

func (e *envReader) integer(name string, def, min, max int) int {
	v := e.str(name, "")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min || n > max {
		e.fail(name, fmt.Sprintf("a whole number from %d to %d", min, max), v)
	}
	return n
}

func (e *envReader) duration(name string, def, min, max time.Duration) time.Duration {
	v := e.str(name, "")
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < min || d > max {
		e.fail(name, fmt.Sprintf("a duration such as 15s from %s to %s", min, max), v)
	}
	return d
}

func (e *envReader) boolean(name string, def bool) bool {
	v := e.str(name, "")
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		e.fail(name, "true or false", v)
	}
	return b
}

func (e *envReader) oneOf(name, def string, allowed ...string) string {
	v := strings.ToLower(e.str(name, def))
	if !contains(allowed, v) {
		e.fail(name, "one of "+strings.Join(allowed, ", "), v)
	}
	return v
}

// list reads a comma-separated list; empty entries are dropped.
func (e *envReader) list(name string) []string {
	var out []string
	for _, s := range strings.Split(e.str(name, ""), ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func contains(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}
