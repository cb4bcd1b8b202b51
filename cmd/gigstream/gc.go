package main

import (
	"os"
	"runtime/debug"
)

// defaultGCPercent is the GOGC a node runs with unless the environment sets GOGC. Go's
// own 100 lets the heap grow to twice what is live before a collection; a node's live
// heap is mostly its search index (about 60 MiB per 100,000 gigs) and its caches, which
// every cycle marks again although they hardly change, so at 100 a node serving cold
// searches collected every 2-3 s, each cycle marking for 40-650 ms of wall time on the
// shared 2-core machine (README "Search"). 300 lets the heap reach four times the live
// heap between cycles: a third of the cycles for twice the headroom. GOMEMLIMIT, when
// set, still makes the collector run earlier as the process nears it.
const defaultGCPercent = 300

// gcPercent is defaultGCPercent when GOGC is unset, 0 (leave it to the runtime) when
// it is set.
func gcPercent() int {
	if _, set := os.LookupEnv("GOGC"); set {
		return 0
	}
	return defaultGCPercent
}

// tuneGC applies percent as GOGC; 0 leaves the runtime's setting alone.
func tuneGC(percent int) {
	if percent > 0 {
		debug.SetGCPercent(percent)
	}
}
