package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// client speaks to one node as one browser (cookie + CSRF token) or app (bearer).
type client struct {
	t       *testing.T
	base    string
	cookie  string // the session cookie's value
	device  string // the known-device cookie's value
	csrf    string
	bearer  string
	headers map[string]string // sent with every request
}

// noRedirect is an HTTP client that hands redirects back to the test.
var noRedirect = &http.Client{
	Timeout:       30 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// problemFields returns the fields named by a problem response.
func (r response) problemFields(t *testing.T) []string {
	t.Helper()
	var p struct{ Errors []struct{ Field string } }
	r.json(t, &p)
	var out []string
	for _, e := range p.Errors {
		out = append(out, e.Field)
	}
	return out
}

// do sends a request; body is JSON-encoded unless it is a string (sent as is).
func (c *client) do(method, path string, body any, extra ...string) response {
	c.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	c.decorate(req)
	for i := 0; i+1 < len(extra); i += 2 {
		req.Header.Set(extra[i], extra[i+1])
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	c.remember(resp)
	return response{status: resp.StatusCode, header: resp.Header, body: raw}
}

func (c *client) decorate(req *http.Request) {
	for k, v := range c.headers {
		req.Header.Set(k, v)
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	if c.cookie != "" {
		req.AddCookie(&http.Cookie{Name: "__Host-gs_session", Value: c.cookie})
	}
	if c.device != "" {
		req.AddCookie(&http.Cookie{Name: "__Host-gs_device", Value: c.device})
	}
	if c.csrf != "" && req.Method != http.MethodGet {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
}

// remember keeps the session and device cookies the way a browser would.
func (c *client) remember(resp *http.Response) {
	for _, ck := range resp.Cookies() {
		if ck.Name == "__Host-gs_device" && ck.Value != "" {
			c.device = ck.Value
		}
		if ck.Name == "__Host-gs_session" {
			c.cookie = ck.Value
			if ck.MaxAge < 0 || ck.Value == "" {
				c.cookie = ""
			}
		}
	}
}

// expect fails the test unless r has status want.
func expect(t *testing.T, r response, want int, what string) response {
	t.Helper()
	if r.status != want {
		t.Fatalf("%s: status %d, want %d: %s", what, r.status, want, r.body)
	}
	return r
}

// login signs c in as a browser and keeps its CSRF token.
func (c *client) login(email, password string) {
	c.t.Helper()
	r := expect(c.t, c.do("POST", "/auth/login", map[string]string{"email": email, "password": password}), 201, "login "+email)
	var s struct {
		CSRFToken string `json:"csrf_token"`
	}
	r.json(c.t, &s)
	if c.cookie == "" || s.CSRFToken == "" {
		c.t.Fatalf("login gave no cookie or CSRF token: %s", r.body)
	}
	c.csrf = s.CSRFToken
}

// register creates an account and returns its id.
func (c *client) register(email, username, password string) string {
	c.t.Helper()
	r := expect(c.t, c.do("POST", "/auth/register", map[string]any{
		"email": email, "username": username, "display_name": "Test " + username, "password": password, "is_seller": true,
	}), 201, "register "+email)
	var u struct{ ID string }
	r.json(c.t, &u)
	return u.ID
}

var tokenInLink = regexp.MustCompile(`token=([A-Za-z0-9_%-]+)`)
