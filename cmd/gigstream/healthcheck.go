package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"
)

// healthcheck runs `gigstream healthcheck`: it asks the local hub's /healthz, for
// container health checks in images without a shell. It fails on any answer but 200.
func healthcheck(ctx context.Context, e *envReader) error {
	_, port, err := net.SplitHostPort(e.str("HTTP_ADDR", ":8080"))
	if err != nil {
		return fmt.Errorf("config: HTTP_ADDR: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1:"+port+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthz: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthz: status %d", resp.StatusCode)
	}
	return nil
}
