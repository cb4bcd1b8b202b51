package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

// benchPassword is every load-test user's password.
const benchPassword = "gigload passphrase, not a secret"

// user is one account of the load test: each owns the channel user:<ID>.
type user struct {
	Email string `json:"email"`
	ID    string `json:"id"`
	Token string `json:"token"`
	// Channel is what this user's sockets subscribe to: user:<ID>, or in -chat mode
	// the conversation the user receives messages in. Not cached.
	Channel string `json:"-"`
	// ConnToken is a connection token (POST /ws/token) the sockets open with
	// instead of the bearer session; empty: the bearer. Not cached.
	ConnToken string `json:"-"`
}

// channel returns the channel the user's sockets subscribe to.
func (u user) channel() string {
	if u.Channel != "" {
		return u.Channel
	}
	return "user:" + u.ID
}

// usersFile is the on-disk cache of created users.
type usersFile struct {
	Users []user `json:"users"`
}

// ensureUsers returns n users with valid bearer tokens, reusing the users in
// path and registering the missing ones through the node's public API (the
// tool never touches the database). Tokens from a file that the node no longer
// accepts, for example after the database was recreated, are discarded.
func ensureUsers(ctx context.Context, node, path string, n, workers int, logf func(string, ...any)) ([]user, error) {
	users, err := loadUsers(path)
	if err != nil {
		return nil, err
	}
	if len(users) > 0 {
		ok, err := tokensValid(ctx, node, users)
		if err != nil {
			return nil, err
		}
		if !ok {
			logf("users in %s are unknown to %s; creating new ones", path, node)
			users = nil
		}
	}
	if len(users) >= n {
		return users[:n], nil
	}
	missing := n - len(users)
	logf("registering %d users on %s (%d at a time)", missing, node, workers)
	start := time.Now()
	created, err := registerUsers(ctx, node, missing, workers)
	users = append(users, created...)
	if saveErr := saveUsers(path, users); saveErr != nil && err == nil {
		err = saveErr
	}
	if err != nil {
		return nil, err
	}
	logf("registered %d users in %.1fs", missing, time.Since(start).Seconds())
	return users, nil
}

func loadUsers(path string) ([]user, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read users: %w", err)
	}
	var f usersFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("users file %s: %w", path, err)
	}
	return f.Users, nil
}

// saveUsers writes the cache atomically (a temporary file renamed over it).
func saveUsers(path string, users []user) error {
	b, err := json.Marshal(usersFile{Users: users})
	if err != nil {
		return fmt.Errorf("encode users: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("write users: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write users: %w", err)
	}
	return nil
}

// tokensValid asks the node whether the first and the last cached tokens
// still sign their users in.
func tokensValid(ctx context.Context, node string, users []user) (bool, error) {
	for _, u := range []user{users[0], users[len(users)-1]} {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, node+"/auth/session", nil)
		if err != nil {
			return false, fmt.Errorf("check token: %w", err)
		}
		req.Header.Set("Authorization", "Bearer "+u.Token)
		resp, err := apiClient.Do(req)
		if err != nil {
			return false, fmt.Errorf("check token: %w", err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusUnauthorized {
			return false, nil
		}
		if resp.StatusCode != http.StatusOK {
			return false, fmt.Errorf("check token: GET /auth/session answered %s", resp.Status)
		}
	}
	return true, nil
}

// registerUsers creates n users, workers at a time, and signs each in for a
// bearer token. Names carry a random prefix so reruns never collide.
func registerUsers(ctx context.Context, node string, n, workers int) ([]user, error) {
	var prefix [4]byte
	if _, err := rand.Read(prefix[:]); err != nil {
		return nil, fmt.Errorf("random prefix: %w", err)
	}
	out := make([]user, n)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	next := make(chan int)
	for range workers {
		wg.Go(func() {
			for i := range next {
				name := fmt.Sprintf("gl%s_%d", hex.EncodeToString(prefix[:]), i)
				u, err := registerUser(ctx, node, name)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				out[i] = u
				mu.Unlock()
			}
		})
	}
	for i := 0; i < n; i++ {
		mu.Lock()
		failed := firstErr != nil
		mu.Unlock()
		if failed || ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	// Keep the users made before a failure, so a rerun does not redo them.
	done := out[:0]
	for _, u := range out {
		if u.Token != "" {
			done = append(done, u)
		}
	}
	return done, firstErr
}

// registerUser registers one account and creates a bearer token for it.
func registerUser(ctx context.Context, node, name string) (user, error) {
	email := name + "@gigload.example.com"
	var reg struct {
		ID string `json:"id"`
	}
	err := postJSON(ctx, node+"/auth/register", "", map[string]any{
		"email": email, "username": name, "display_name": "Load " + name, "password": benchPassword,
	}, http.StatusCreated, &reg)
	if err != nil {
		return user{}, fmt.Errorf("register %s: %w", name, err)
	}
	var tok struct {
		Token string `json:"token"`
		User  struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	err = postJSON(ctx, node+"/auth/tokens", "", map[string]any{"email": email, "password": benchPassword}, http.StatusCreated, &tok)
	if err != nil {
		return user{}, fmt.Errorf("token for %s: %w", name, err)
	}
	if tok.Token == "" || tok.User.ID != reg.ID {
		return user{}, fmt.Errorf("token for %s: no token or a different user in the answer", name)
	}
	return user{Email: email, ID: reg.ID, Token: tok.Token}, nil
}

// fetchConnTokens gets a connection token for each user, workers at a time,
// before the sockets connect, as an app does once per session (the token is
// reused for reconnects until it expires). A hub without tokens (404) leaves
// the users on their bearer tokens and reports false.
func fetchConnTokens(ctx context.Context, node string, users []user, workers int) (bool, error) {
	var out struct {
		Token string `json:"token"`
	}
	err := postJSON(ctx, node+"/ws/token", users[0].Token, map[string]any{}, http.StatusCreated, &out)
	if err != nil && strings.Contains(err.Error(), "404") {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("connection token: %w", err)
	}
	users[0].ConnToken = out.Token
	errs := make(chan error, len(users))
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				var tok struct {
					Token string `json:"token"`
				}
				if err := postJSON(ctx, node+"/ws/token", users[i].Token, map[string]any{}, http.StatusCreated, &tok); err != nil {
					errs <- fmt.Errorf("connection token for %s: %w", users[i].Email, err)
					continue
				}
				users[i].ConnToken = tok.Token
			}
		})
	}
	for i := 1; i < len(users) && ctx.Err() == nil; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	return true, <-errs
}

// apiClient is the HTTP client for the node's REST API (not for publishes,
// which have their own pooled client).
var apiClient = &http.Client{Timeout: 30 * time.Second}

// postJSON posts body as JSON and decodes the answer into out when its
// status is want.
func postJSON(ctx context.Context, url, bearer string, body any, want int, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := apiClient.Do(req)
	if err != nil {
		return fmt.Errorf("POST: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode != want {
		return fmt.Errorf("status %s: %s", resp.Status, bytes.TrimSpace(data))
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	return nil
}
