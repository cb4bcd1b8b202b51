package fcmtest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// messagingScope is one of the scopes firebase-admin-go requests; a token
// without it (or cloud-platform) could not send in production either.
const messagingScope = "https://www.googleapis.com/auth/firebase.messaging"

func newKey() (*rsa.PrivateKey, string, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, "", err
	}
	return key, randomHex(8), nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// ServiceAccountJSON is a Google service-account key file for this server:
// a real RSA key, with token_uri pointing at the server's /token. Give it to
// the client as production would give the real file.
func (s *Server) ServiceAccountJSON() []byte {
	der, err := x509.MarshalPKCS8PrivateKey(s.key)
	if err != nil {
		panic(fmt.Sprintf("fcmtest: marshal key: %v", err))
	}
	b, _ := json.Marshal(map[string]string{
		"type":           "service_account",
		"project_id":     s.project,
		"private_key_id": s.keyID,
		"private_key":    string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email":   s.clientEmail,
		"client_id":      "100000000000000000001",
		"auth_uri":       s.URL + "/auth",
		"token_uri":      s.URL + "/token",
	})
	return b
}

// handleToken implements the OAuth 2.0 JWT bearer grant (RFC 7523) as Google's
// token endpoint does for service accounts: the assertion must be an RS256 JWT
// signed by this server's key, issued by its client_email, for this token_uri,
// unexpired, asking for an FCM scope.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		writeOAuthError(w, "unsupported_grant_type", "expected the JWT bearer grant")
		return
	}
	if err := s.verifyAssertion(r.PostForm.Get("assertion")); err != nil {
		writeOAuthError(w, "invalid_grant", err.Error())
		return
	}
	token := "fcmtest-" + randomHex(16)
	s.mu.Lock()
	s.accessTokens[token] = true
	s.tokenRequests++
	s.mu.Unlock()
	body, _ := json.Marshal(map[string]any{"access_token": token, "token_type": "Bearer", "expires_in": 3600})
	writeJSON(w, http.StatusOK, body)
}

func (s *Server) verifyAssertion(jwt string) error {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return fmt.Errorf("assertion is not a JWT")
	}
	var header struct{ Alg, Kid string }
	if err := decodeSegment(parts[0], &header); err != nil || header.Alg != "RS256" {
		return fmt.Errorf("assertion header must say RS256")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return fmt.Errorf("assertion signature: %w", err)
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(&s.key.PublicKey, crypto.SHA256, digest[:], sig); err != nil {
		return fmt.Errorf("assertion signature does not verify: %w", err)
	}
	var claims struct {
		Iss, Aud, Scope string
		Exp             int64
	}
	if err := decodeSegment(parts[1], &claims); err != nil {
		return fmt.Errorf("assertion claims: %w", err)
	}
	return s.checkClaims(claims.Iss, claims.Aud, claims.Scope, claims.Exp)
}

func (s *Server) checkClaims(iss, aud, scope string, exp int64) error {
	switch {
	case iss != s.clientEmail:
		return fmt.Errorf("iss %q is not %q", iss, s.clientEmail)
	case aud != s.URL+"/token":
		return fmt.Errorf("aud %q is not this token_uri", aud)
	case time.Unix(exp, 0).Before(time.Now()):
		return fmt.Errorf("assertion expired")
	}
	scopes := strings.Fields(scope)
	if !slices.Contains(scopes, messagingScope) && !slices.Contains(scopes, "https://www.googleapis.com/auth/cloud-platform") {
		return fmt.Errorf("scope %q does not allow FCM", scope)
	}
	return nil
}

func decodeSegment(seg string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

func writeOAuthError(w http.ResponseWriter, code, description string) {
	body, _ := json.Marshal(map[string]string{"error": code, "error_description": description})
	writeJSON(w, http.StatusBadRequest, body)
}
