package hub

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Connection tokens are short-lived credentials a client presents when it
// opens a socket, instead of its session: a compact JWT (RFC 7519) signed
// with HS256 under Config.TokenSecret, carrying the user (sub), the session
// it was issued from (sid), and its issue and expiry times. Any node
// holding the secret verifies one without a database or a Redis round trip;
// what keeps them honest is revocation: ending a session or disabling a user
// (DisconnectSessions, DisconnectUser) records the revocation in the
// RevocationStore and tells every node on the control channel, so a
// revoked token is refused everywhere at once and the sockets it opened
// are closed.

// Errors returned by VerifyToken and IssueToken.
var (
	// ErrTokensOff: the node has no TokenSecret.
	ErrTokensOff = errors.New("hub: connection tokens are not configured")
	// ErrTokenInvalid: malformed, wrongly signed or expired.
	ErrTokenInvalid = errors.New("hub: connection token invalid or expired")
	// ErrTokenRevoked: its session or user was revoked.
	ErrTokenRevoked = errors.New("hub: connection token revoked")
	// ErrRevocationsOutOfSync: the node cannot be sure it heard every
	// revocation (its broker connection is down, or the store was not read
	// yet); the caller should answer "try again shortly".
	ErrRevocationsOutOfSync = errors.New("hub: revocations out of sync")
)

// tokenLeeway tolerates clock skew between the node that issued a token
// and the one verifying it.
const tokenLeeway = 30 * time.Second

// tokenHeader is the base64url of {"alg":"HS256","typ":"JWT"}.
var tokenHeader = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))

type tokenClaims struct {
	Sub string `json:"sub"`
	Sid string `json:"sid,omitempty"`
	Iat int64  `json:"iat"`
	Exp int64  `json:"exp"`
}

// IssueToken returns a connection token for info, valid for TokenTTL, and
// its expiry. It returns ErrTokensOff without a TokenSecret.
func (n *Node) IssueToken(info ClientInfo) (string, time.Time, error) {
	if len(n.cfg.TokenSecret) == 0 {
		return "", time.Time{}, ErrTokensOff
	}
	now := time.Now()
	exp := now.Add(n.cfg.TokenTTL)
	payload, err := json.Marshal(tokenClaims{Sub: info.UserID, Sid: info.SessionID, Iat: now.Unix(), Exp: exp.Unix()})
	if err != nil {
		return "", time.Time{}, fmt.Errorf("hub: encode token: %w", err)
	}
	signing := tokenHeader + "." + base64.RawURLEncoding.EncodeToString(payload)
	return signing + "." + n.tokenMAC(signing), exp, nil
}

func (n *Node) tokenMAC(signing string) string {
	mac := hmac.New(sha256.New, n.cfg.TokenSecret)
	mac.Write([]byte(signing))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// VerifyToken checks a connection token and returns whose it is. It
// returns ErrTokensOff, ErrTokenInvalid, ErrTokenRevoked or
// ErrRevocationsOutOfSync.
func (n *Node) VerifyToken(token string) (ClientInfo, error) {
	if len(n.cfg.TokenSecret) == 0 {
		return ClientInfo{}, ErrTokensOff
	}
	claims, err := n.tokenClaims(token)
	if err != nil {
		return ClientInfo{}, err
	}
	now := time.Now()
	issued := time.Unix(claims.Iat, 0)
	if claims.Sub == "" || now.After(time.Unix(claims.Exp, 0).Add(tokenLeeway)) || issued.After(now.Add(tokenLeeway)) {
		return ClientInfo{}, ErrTokenInvalid
	}
	revoked, inSync := n.revoked.revoked(claims.Sub, claims.Sid, issued)
	switch {
	case revoked:
		return ClientInfo{}, ErrTokenRevoked
	case !inSync:
		return ClientInfo{}, ErrRevocationsOutOfSync
	}
	return ClientInfo{UserID: claims.Sub, SessionID: claims.Sid}, nil
}

// tokenClaims checks the signature and decodes the claims.
func (n *Node) tokenClaims(token string) (tokenClaims, error) {
	var c tokenClaims
	if len(token) > 1024 {
		return c, ErrTokenInvalid
	}
	dot := bytes.LastIndexByte([]byte(token), '.')
	if dot < 0 || !hmac.Equal([]byte(token[dot+1:]), []byte(n.tokenMAC(token[:dot]))) {
		return c, ErrTokenInvalid
	}
	header, payload, ok := bytes.Cut([]byte(token[:dot]), []byte("."))
	if !ok || string(header) != tokenHeader {
		return c, ErrTokenInvalid
	}
	raw, err := base64.RawURLEncoding.DecodeString(string(payload))
	if err != nil || json.Unmarshal(raw, &c) != nil {
		return c, ErrTokenInvalid
	}
	return c, nil
}
