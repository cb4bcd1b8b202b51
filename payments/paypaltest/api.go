package paypaltest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// lockedHandler answers one API call with s.mu held: a status and a JSON body.
type lockedHandler func(r *http.Request, body []byte) (int, any)

// handleToken issues a bearer token for the client's Basic credentials.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	if !ok || id != ClientID || secret != ClientSecret {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client", "error_description": "Client Authentication failed"})
		return
	}
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type", "error_description": "grant_type must be client_credentials"})
		return
	}
	raw := make([]byte, 16)
	_, _ = rand.Read(raw)
	token := "A21AA" + hex.EncodeToString(raw)
	s.mu.Lock()
	s.tokenRequests++
	lifetime := s.tokenLifetime
	s.tokens[token] = time.Now().Add(lifetime)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"scope": "https://uri.paypal.com/services/payments/payment", "access_token": token,
		"token_type": "Bearer", "app_id": "APP-PAYPALTEST", "expires_in": int64(lifetime / time.Second), "nonce": "paypaltest"})
}

// authorized checks the bearer token, records the call and runs h with s.mu held.
func (s *Server) authorized(h lockedHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			writeError(w, http.StatusBadRequest, "INVALID_REQUEST", "", "unreadable body")
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if exp, ok := s.tokens[token]; !ok || time.Now().After(exp) {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token", "error_description": "Token signature verification failed"})
			return
		}
		s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, RequestID: r.Header.Get("PayPal-Request-Id"), Body: body})
		status, out := h(r, body)
		writeJSON(w, status, out)
	}
}

// idempotent answers a POST repeated with the same PayPal-Request-Id with the first answer.
func (s *Server) idempotent(h lockedHandler) lockedHandler {
	return func(r *http.Request, body []byte) (int, any) {
		key := r.URL.Path + "\n" + r.Header.Get("PayPal-Request-Id")
		if r.Header.Get("PayPal-Request-Id") != "" {
			if prior, ok := s.replays[key]; ok {
				return prior.status, json.RawMessage(prior.body)
			}
		}
		status, out := h(r, body)
		if r.Header.Get("PayPal-Request-Id") != "" && status < 300 {
			raw, _ := json.Marshal(out)
			s.replays[key] = replay{status: status, body: raw}
		}
		return status, out
	}
}

type amount struct {
	CurrencyCode string `json:"currency_code"`
	Value        string `json:"value"`
}

// handleCreate creates an order from intent CAPTURE and exactly one purchase unit.
func (s *Server) handleCreate(_ *http.Request, body []byte) (int, any) {
	var req struct {
		Intent        string `json:"intent"`
		PurchaseUnits []struct {
			ReferenceID string `json:"reference_id"`
			CustomID    string `json:"custom_id"`
			Amount      amount `json:"amount"`
		} `json:"purchase_units"`
	}
	if err := json.Unmarshal(body, &req); err != nil || req.Intent != "CAPTURE" || len(req.PurchaseUnits) != 1 {
		return invalid("INVALID_PARAMETER_VALUE", "intent CAPTURE and one purchase unit are required")
	}
	pu := req.PurchaseUnits[0]
	if !validAmount(pu.Amount) || len(pu.CustomID) > 127 {
		return invalid("DECIMAL_PRECISION", "amount.value does not match the currency's decimals")
	}
	o := &Order{ID: s.newID("PP"), Status: "CREATED", CustomID: pu.CustomID, Reference: pu.ReferenceID,
		Currency: pu.Amount.CurrencyCode, Value: pu.Amount.Value}
	s.orders[o.ID] = o
	return http.StatusCreated, s.orderBody(o)
}

func (s *Server) handleGet(r *http.Request, _ []byte) (int, any) {
	o, ok := s.orders[r.PathValue("id")]
	if !ok {
		return notFound("INVALID_RESOURCE_ID")
	}
	return http.StatusOK, s.orderBody(o)
}

// handleCapture captures an APPROVED order; others are 422 as PayPal answers them.
func (s *Server) handleCapture(r *http.Request, _ []byte) (int, any) {
	o, ok := s.orders[r.PathValue("id")]
	switch {
	case !ok:
		return notFound("INVALID_RESOURCE_ID")
	case o.Status == "CREATED":
		return unprocessable("ORDER_NOT_APPROVED", "Payer has not yet approved the Order for payment.")
	case o.Status == "COMPLETED":
		return unprocessable("ORDER_ALREADY_CAPTURED", "Order already captured.")
	}
	s.capture(o)
	return http.StatusCreated, s.orderBody(o)
}

// handleRefund refunds part or all of what is left of a capture.
func (s *Server) handleRefund(r *http.Request, body []byte) (int, any) {
	c, ok := s.captures[r.PathValue("id")]
	if !ok {
		return notFound("INVALID_RESOURCE_ID")
	}
	var req struct {
		Amount   *amount `json:"amount"`
		CustomID string  `json:"custom_id"`
	}
	if err := json.Unmarshal(body, &req); err != nil || req.Amount == nil || !validAmount(*req.Amount) {
		return invalid("INVALID_PARAMETER_VALUE", "amount is required, in the capture's currency's decimals")
	}
	if req.Amount.CurrencyCode != c.Currency || minor(req.Amount.Value)+s.refunded(c.ID) > minor(c.Value) {
		return unprocessable("REFUND_AMOUNT_EXCEEDED", "The refund amount must be less than or equal to the capture amount that has not yet been refunded.")
	}
	ref := Refund{ID: s.newID("RF"), CaptureID: c.ID, Currency: req.Amount.CurrencyCode, Value: req.Amount.Value,
		CustomID: req.CustomID, RequestID: r.Header.Get("PayPal-Request-Id"), Created: time.Now().UTC()}
	s.refunds = append(s.refunds, ref)
	if s.refunded(c.ID) == minor(c.Value) {
		c.Status = "REFUNDED"
	} else {
		c.Status = "PARTIALLY_REFUNDED"
	}
	return http.StatusCreated, map[string]any{"id": ref.ID, "status": "COMPLETED", "amount": req.Amount,
		"links": []map[string]string{{"href": s.URL + "/v2/payments/refunds/" + ref.ID, "rel": "self", "method": "GET"}}}
}

// refunded sums a capture's refunds in minor units; s.mu is held.
func (s *Server) refunded(captureID string) int64 {
	var n int64
	for _, r := range s.refunds {
		if r.CaptureID == captureID {
			n += minor(r.Value)
		}
	}
	return n
}

// orderBody is an order as Orders v2 shows it.
func (s *Server) orderBody(o *Order) map[string]any {
	pu := map[string]any{"reference_id": o.Reference, "custom_id": o.CustomID, "amount": amount{o.Currency, o.Value}}
	if c, ok := s.captures[o.CaptureID]; ok {
		payments := map[string]any{"captures": []map[string]any{{"id": c.ID, "status": c.Status,
			"amount": amount{c.Currency, c.Value}, "custom_id": c.CustomID, "final_capture": true,
			"create_time": c.Created.Format(time.RFC3339)}}}
		var refunds []map[string]any
		for _, r := range s.refunds {
			if r.CaptureID == c.ID {
				refunds = append(refunds, map[string]any{"id": r.ID, "status": "COMPLETED", "amount": amount{r.Currency, r.Value},
					"create_time": r.Created.Format(time.RFC3339), "links": []map[string]string{
						{"href": s.URL + "/v2/payments/refunds/" + r.ID, "rel": "self", "method": "GET"},
						{"href": s.URL + "/v2/payments/captures/" + c.ID, "rel": "up", "method": "GET"}}})
			}
		}
		if refunds != nil {
			payments["refunds"] = refunds
		}
		pu["payments"] = payments
	}
	return map[string]any{"id": o.ID, "intent": "CAPTURE", "status": o.Status, "purchase_units": []any{pu},
		"links": []map[string]string{
			{"href": s.URL + "/v2/checkout/orders/" + o.ID, "rel": "self", "method": "GET"},
			{"href": s.URL + "/checkoutnow?token=" + o.ID, "rel": "approve", "method": "GET"},
			{"href": s.URL + "/v2/checkout/orders/" + o.ID + "/capture", "rel": "capture", "method": "POST"},
		}}
}

var (
	zeroDecimal  = regexp.MustCompile(`^(JPY|HUF|TWD|KRW|CLP|ISK|VND)$`)
	threeDecimal = regexp.MustCompile(`^(BHD|JOD|KWD|OMR|TND)$`)
	twoPlaces    = regexp.MustCompile(`^(0|[1-9][0-9]{0,14})\.[0-9]{2}$`)
	threePlaces  = regexp.MustCompile(`^(0|[1-9][0-9]{0,14})\.[0-9]{3}$`)
	noPlaces     = regexp.MustCompile(`^(0|[1-9][0-9]{0,14})$`)
)

// validAmount holds a value to exactly its currency's decimals, as strictly as the
// tests want the client held; zero is refused.
func validAmount(a amount) bool {
	format := twoPlaces
	switch {
	case zeroDecimal.MatchString(a.CurrencyCode):
		format = noPlaces
	case threeDecimal.MatchString(a.CurrencyCode):
		format = threePlaces
	case !regexp.MustCompile(`^[A-Z]{3}$`).MatchString(a.CurrencyCode):
		return false
	}
	return format.MatchString(a.Value) && minor(a.Value) > 0
}

// minor reads a validated value as an integer of its smallest unit.
func minor(value string) int64 {
	var n int64
	for _, r := range value {
		if r >= '0' && r <= '9' {
			n = n*10 + int64(r-'0')
		}
	}
	return n
}

func invalid(issue, msg string) (int, any) {
	return http.StatusBadRequest, problem("INVALID_REQUEST", issue, msg)
}

func unprocessable(issue, msg string) (int, any) {
	return http.StatusUnprocessableEntity, problem("UNPROCESSABLE_ENTITY", issue, msg)
}

func notFound(issue string) (int, any) {
	return http.StatusNotFound, problem("RESOURCE_NOT_FOUND", issue, "The specified resource does not exist.")
}

func problem(name, issue, msg string) map[string]any {
	return map[string]any{"name": name, "message": msg, "debug_id": "paypaltest",
		"details": []map[string]string{{"issue": issue, "description": msg}}}
}
