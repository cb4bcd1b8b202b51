package main

import (
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// result is everything a run measured; -json prints it as one object.
type result struct {
	Label    string   `json:"label,omitempty"`
	Target   string   `json:"target"`
	SubNodes []string `json:"sub_nodes"`
	PubNodes []string `json:"pub_nodes"`
	Conns    int      `json:"conns"`
	Channels int      `json:"channels"`
	// SharedUsers is true when several sockets belong to one user and
	// subscribe to the same user channel.
	SharedUsers bool `json:"shared_users"`

	Connected     int       `json:"connected"`
	SetupSeconds  float64   `json:"setup_seconds"`
	SetupPerSec   float64   `json:"setup_per_sec"` // connects + subscribes per second
	RSS           []rssStep `json:"rss,omitempty"`
	RSSPerConnKiB float64   `json:"rss_per_conn_kib,omitempty"` // at the last step

	ConnectCPU *cpuUse `json:"cpu_during_connect,omitempty"` // CPU while connecting, all steps

	Publish  *publishFigures  `json:"publish,omitempty"`
	Storm    *stormFigures    `json:"storm,omitempty"`
	Delivery *deliveryFigures `json:"delivery,omitempty"`
	CPU      *cpuUse          `json:"cpu_during_publish,omitempty"`

	LoadAverage  float64        `json:"load_average_1m"` // from /proc/loadavg at the end of the run
	Dropped      int64          `json:"sockets_dropped"`
	Errors       int            `json:"errors"`
	ErrorKinds   map[string]int `json:"error_kinds,omitempty"`
	ErrorSamples []string       `json:"error_samples,omitempty"`
	Notes        []string       `json:"notes,omitempty"`
}

// rssStep is the server memory after a number of sockets were connected.
type rssStep struct {
	Conns      int     `json:"conns"`
	BeforeKiB  int64   `json:"before_kib"`
	AfterKiB   int64   `json:"after_kib"`
	PerConnKiB float64 `json:"per_conn_kib"`
	// From the nodes' Go collector (-go-metrics): growth per socket.
	HeapPerConnKiB    float64 `json:"heap_inuse_per_conn_kib,omitempty"`
	StackPerConnKiB   float64 `json:"stack_inuse_per_conn_kib,omitempty"`
	GoroutinesPerConn float64 `json:"goroutines_per_conn,omitempty"`
}

// publishFigures describes the publishing side.
type publishFigures struct {
	TargetRate   float64 `json:"target_per_sec"`
	Attempted    int     `json:"attempted"`
	Accepted     int64   `json:"accepted"`
	Seconds      float64 `json:"seconds"`
	Durable      bool    `json:"durable"`
	CallP50Ms    float64 `json:"call_p50_ms"`
	CallP99Ms    float64 `json:"call_p99_ms"`
	MaxBehindMs  float64 `json:"max_behind_schedule_ms"`
	NodesPerCall int     `json:"pub_nodes"`
}

// deliveryFigures describes what the subscribers received.
type deliveryFigures struct {
	Expected    int64   `json:"expected"`
	Received    int64   `json:"received"`
	Lost        int64   `json:"lost"`  // expected − received, summed over the sockets that got too few
	Extra       int64   `json:"extra"` // received beyond expected (duplicates), summed likewise
	PerSec      float64 `json:"delivered_per_sec"`
	P50Ms       float64 `json:"p50_ms"`
	P95Ms       float64 `json:"p95_ms"`
	P99Ms       float64 `json:"p99_ms"`
	P999Ms      float64 `json:"p999_ms"`
	MaxMs       float64 `json:"max_ms"`
	DrainWaitMs float64 `json:"drain_wait_ms"`
	// Durable runs: seqs a socket skipped over, and seqs it saw twice.
	MissingSeqs   int64 `json:"missing_seqs"`
	DuplicateSeqs int64 `json:"duplicate_seqs"`
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// latencyFigures fills the percentiles from h.
func (d *deliveryFigures) latencyFigures(h *histogram) {
	d.P50Ms, d.P95Ms, d.P99Ms = ms(h.Quantile(0.50)), ms(h.Quantile(0.95)), ms(h.Quantile(0.99))
	d.P999Ms, d.MaxMs = ms(h.Quantile(0.999)), ms(h.Max())
}

// writeJSON prints r as one JSON object on one line.
func (r *result) writeJSON(w io.Writer) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode result: %w", err)
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// writeText prints r for a human.
func (r *result) writeText(w io.Writer) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format+"\n", a...) }
	if r.Label != "" {
		p("== %s", r.Label)
	}
	p("sockets      %d/%d connected on %v, %d channel(s)%s", r.Connected, r.Conns, r.SubNodes, r.Channels,
		map[bool]string{true: " (sockets share users)", false: ""}[r.SharedUsers])
	p("setup        %.0f connects+subscribes/s (%.1fs)", r.SetupPerSec, r.SetupSeconds)
	if c := r.ConnectCPU; c != nil {
		p("  cpu        servers %.0f%%, gigload %.0f%%, other %.0f%% of a core while connecting", c.Servers, c.Gigload, c.Other)
	}
	for _, s := range r.RSS {
		p("server RSS   %d sockets: %d → %d KiB, %.1f KiB per socket", s.Conns, s.BeforeKiB, s.AfterKiB, s.PerConnKiB)
		if s.GoroutinesPerConn > 0 {
			p("  of which   Go heap in use %.1f KiB, stacks %.1f KiB, %.1f goroutines per socket", s.HeapPerConnKiB, s.StackPerConnKiB, s.GoroutinesPerConn)
		}
	}
	if pf := r.Publish; pf != nil {
		p("publish      %d/%d accepted in %.1fs (target %.0f/s) via %v; call p50 %.2f ms, p99 %.2f ms; worst %.1f ms behind schedule",
			pf.Accepted, pf.Attempted, pf.Seconds, pf.TargetRate, r.PubNodes, pf.CallP50Ms, pf.CallP99Ms, pf.MaxBehindMs)
	}
	if d := r.Delivery; d != nil {
		p("delivery     %d/%d received, %.0f msgs/s; lost %d, extra %d", d.Received, d.Expected, d.PerSec, d.Lost, d.Extra)
		p("latency      p50 %.2f  p95 %.2f  p99 %.2f  p99.9 %.2f  max %.2f ms", d.P50Ms, d.P95Ms, d.P99Ms, d.P999Ms, d.MaxMs)
	}
	if st := r.Storm; st != nil {
		p("storm        %d victims on %d survivors: all whole %.0f ms after the kill (resubscribed by %.0f ms; whole p50 %.0f, p99 %.0f ms); not whole %d, retries %d, gave up %d, not recovered %d",
			st.Victims, st.Survivors, st.AllWholeMs, st.ResubscribedMs, st.WholeP50Ms, st.WholeP99Ms, st.NotWhole, st.Retries, st.GaveUp, st.NotRecovered)
		p("  others     p50 %.2f, p99 %.2f ms over %d events until the last victim was whole; victims got %d events after the kill",
			st.BystanderP50Ms, st.BystanderP99Ms, st.BystanderCount, st.RecoveredEvents)
		p("  seqs       %d missing, %d duplicated", st.Gaps, st.Duplicates)
	}
	if c := r.CPU; c != nil {
		p("cpu          servers %.0f%%, gigload %.0f%%, other %.0f%% of a core (machine %.0f%%)", c.Servers, c.Gigload, c.Other, c.Machine)
	}
	p("load         %.2f (1-minute average at the end)", r.LoadAverage)
	p("errors       %d, sockets dropped %d", r.Errors, r.Dropped)
	for _, s := range r.ErrorSamples {
		p("  %s", s)
	}
	for _, n := range r.Notes {
		p("note         %s", n)
	}
}

// failed reports a lost, duplicated or unrecovered message.
func (r *result) failed() bool {
	if d := r.Delivery; d != nil && (d.Lost > 0 || d.Extra > 0 || d.MissingSeqs > 0 || d.DuplicateSeqs > 0) {
		return true
	}
	return r.Storm != nil && (r.Storm.NotWhole > 0 || r.Storm.Gaps > 0 || r.Storm.Duplicates > 0)
}
