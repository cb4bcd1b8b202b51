package main

import (
	"fmt"
	"sync"
)

// maxErrorSamples is how many error messages a run keeps verbatim.
const maxErrorSamples = 10

// errorLog counts errors by kind and keeps the first few messages. It is safe
// for concurrent use.
type errorLog struct {
	mu      sync.Mutex
	counts  map[string]int
	samples []string
}

// add records one error of the given kind ("connect", "publish", …).
func (l *errorLog) add(kind string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.counts == nil {
		l.counts = map[string]int{}
	}
	l.counts[kind]++
	if len(l.samples) < maxErrorSamples {
		l.samples = append(l.samples, fmt.Sprintf("%s: %v", kind, err))
	}
}

// snapshot returns the counts by kind, their total and the kept messages.
func (l *errorLog) snapshot() (map[string]int, int, []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	counts := make(map[string]int, len(l.counts))
	total := 0
	for k, n := range l.counts {
		counts[k] = n
		total += n
	}
	return counts, total, append([]string(nil), l.samples...)
}
