package payments

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// PayPalConfig points the PayPal client at an app's REST credentials. The zero value
// of APIBase and Timeout means the default.
type PayPalConfig struct {
	APIBase      string        // default https://api-m.paypal.com (sandbox: https://api-m.sandbox.paypal.com)
	ClientID     string        // required
	ClientSecret string        // required
	WebhookID    string        // the id of the webhook PayPal sends to; required to verify webhooks
	Timeout      time.Duration // per request; default 15 s
	// Exponents is the ISO 4217 exponent table amounts are counted in (market's);
	// required.
	Exponents Exponents
}

// PayPal speaks PayPal's REST API (Orders v2, captures' refunds, webhook verification)
// with an OAuth 2.0 client-credentials token that it caches until shortly before it
// expires. It is safe for concurrent use. There is no official Go SDK; this is the
// small slice GigStream uses.
type PayPal struct {
	cfg  PayPalConfig
	http *http.Client
	now  func() time.Time

	mu      sync.Mutex
	token   string
	expires time.Time
}

// NewPayPal returns a client for cfg; httpClient nil means one with cfg.Timeout. It
// returns an error when the credentials are missing or the base URL is not http(s).
func NewPayPal(cfg PayPalConfig, httpClient *http.Client) (*PayPal, error) {
	if cfg.ClientID == "" || cfg.ClientSecret == "" {
		return nil, errors.New("payments: a PayPal client id and secret are required")
	}
	if cfg.Exponents == nil {
		return nil, errors.New("payments: PayPal needs the currency exponent table")
	}
	if cfg.APIBase == "" {
		cfg.APIBase = "https://api-m.paypal.com"
	}
	cfg.APIBase = strings.TrimRight(cfg.APIBase, "/")
	if !strings.HasPrefix(cfg.APIBase, "http://") && !strings.HasPrefix(cfg.APIBase, "https://") {
		return nil, fmt.Errorf("payments: PayPal API base %q is not an http(s) URL", cfg.APIBase)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 15 * time.Second
	}
	if httpClient == nil {
		httpClient = &http.Client{Timeout: cfg.Timeout}
	}
	return &PayPal{cfg: cfg, http: httpClient, now: time.Now}, nil
}

// PayPalError is PayPal's answer to a refused call: the HTTP status, the error name
// (UNPROCESSABLE_ENTITY, …) and the first detail's issue (ORDER_NOT_APPROVED, …). It
// unwraps to ErrProvider.
type PayPalError struct {
	Status        int
	Name, Issue   string
	Message       string
	DebugID       string
	RequestMethod string
	RequestPath   string
}

func (e *PayPalError) Error() string {
	return fmt.Sprintf("paypal %s %s: %d %s %s: %s (debug_id %s)", e.RequestMethod, e.RequestPath, e.Status, e.Name, e.Issue, e.Message, e.DebugID)
}

// Unwrap makes every PayPalError an ErrProvider.
func (e *PayPalError) Unwrap() error { return ErrProvider }

// maxPayPalResponse bounds what is read of any PayPal answer.
const maxPayPalResponse = 1 << 20

// accessToken returns the cached token, or fetches a new one when none is cached or
// it expires within its margin (a minute, or a tenth of a short lifetime).
func (p *PayPal) accessToken(ctx context.Context) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.token != "" && p.now().Before(p.expires) {
		return p.token, nil
	}
	form := strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.cfg.APIBase+"/v1/oauth2/token", form)
	if err != nil {
		return "", fmt.Errorf("%w: token request: %w", ErrProvider, err)
	}
	req.SetBasicAuth(p.cfg.ClientID, p.cfg.ClientSecret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := p.send(req, &tok); err != nil {
		return "", err
	}
	if tok.AccessToken == "" || tok.ExpiresIn <= 0 {
		return "", fmt.Errorf("%w: PayPal token came back without a token or lifetime", ErrProvider)
	}
	lifetime := time.Duration(tok.ExpiresIn) * time.Second
	p.token, p.expires = tok.AccessToken, p.now().Add(lifetime-min(time.Minute, lifetime/10))
	return p.token, nil
}

// forgetToken drops the cached token after PayPal refused it.
func (p *PayPal) forgetToken(token string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.token == token {
		p.token = ""
	}
}

// call sends one authenticated JSON request; requestID, when set, is the
// PayPal-Request-Id that makes a retried POST return the first answer. out receives a
// 2xx answer's body. It returns a *PayPalError for PayPal's refusals and an error
// wrapping ErrProvider for anything else that went wrong.
func (p *PayPal) call(ctx context.Context, method, path, requestID string, body, out any) error {
	token, err := p.accessToken(ctx)
	if err != nil {
		return err
	}
	var payload io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("%w: encode %s: %w", ErrProvider, path, err)
		}
		payload = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, p.cfg.APIBase+path, payload)
	if err != nil {
		return fmt.Errorf("%w: %s %s: %w", ErrProvider, method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Prefer", "return=representation")
	}
	if requestID != "" {
		req.Header.Set("PayPal-Request-Id", requestID)
	}
	err = p.send(req, out)
	var pe *PayPalError
	if errors.As(err, &pe) && pe.Status == http.StatusUnauthorized {
		p.forgetToken(token)
	}
	return err
}

// send does req and decodes a 2xx JSON answer into out, or PayPal's error answer.
func (p *PayPal) send(req *http.Request, out any) error {
	resp, err := p.http.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %s %s: %w", ErrProvider, req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxPayPalResponse))
	if err != nil {
		return fmt.Errorf("%w: %s %s: read answer: %w", ErrProvider, req.Method, req.URL.Path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return payPalError(req, resp.StatusCode, raw)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("%w: %s %s: answer is not the expected JSON: %w", ErrProvider, req.Method, req.URL.Path, err)
	}
	return nil
}

// payPalError reads PayPal's error body (Orders v2 and OAuth shapes both).
func payPalError(req *http.Request, status int, raw []byte) *PayPalError {
	var body struct {
		Name             string `json:"name"`
		Message          string `json:"message"`
		DebugID          string `json:"debug_id"`
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
		Details          []struct {
			Issue string `json:"issue"`
		} `json:"details"`
	}
	_ = json.Unmarshal(raw, &body) // an unreadable body still leaves the status
	e := &PayPalError{Status: status, Name: body.Name, Message: body.Message, DebugID: body.DebugID,
		RequestMethod: req.Method, RequestPath: req.URL.Path}
	if e.Name == "" {
		e.Name, e.Message = body.Error, body.ErrorDescription
	}
	if len(body.Details) > 0 {
		e.Issue = body.Details[0].Issue
	}
	return e
}
