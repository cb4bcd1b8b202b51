package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// goMemory is what a node's Prometheus Go collector says about its memory:
// the split of RSS that explains a per-socket cost.
type goMemory struct {
	HeapInuse  float64 // go_memstats_heap_inuse_bytes
	StackInuse float64 // go_memstats_stack_inuse_bytes
	Goroutines float64 // go_goroutines
}

// goMetricNames maps the exposition names to the goMemory fields.
var goMetricNames = map[string]func(*goMemory) *float64{
	"go_memstats_heap_inuse_bytes":  func(m *goMemory) *float64 { return &m.HeapInuse },
	"go_memstats_stack_inuse_bytes": func(m *goMemory) *float64 { return &m.StackInuse },
	"go_goroutines":                 func(m *goMemory) *float64 { return &m.Goroutines },
}

// readGoMemory fetches node/metrics (with token as bearer when set) and sums
// the Go memory figures over nodes.
func readGoMemory(ctx context.Context, nodes []string, token string) (goMemory, error) {
	var sum goMemory
	for _, node := range nodes {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, node+"/metrics", nil)
		if err != nil {
			return sum, fmt.Errorf("metrics: %w", err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := apiClient.Do(req)
		if err != nil {
			return sum, fmt.Errorf("metrics of %s: %w", node, err)
		}
		err = parseGoMemory(resp, &sum)
		resp.Body.Close()
		if err != nil {
			return sum, fmt.Errorf("metrics of %s: %w", node, err)
		}
	}
	return sum, nil
}

// parseGoMemory adds the figures of one exposition-format answer to m.
func parseGoMemory(resp *http.Response, m *goMemory) error {
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %s", resp.Status)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		field := goMetricNames[name]
		if !ok || field == nil {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		*field(m) += v
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read: %w", err)
	}
	return nil
}
