package main

import (
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// config is every setting of one gigload run, from the command line.
type config struct {
	Target           string // targetGigStream or targetCentrifugo
	WSAuth           string // how GigStream sockets authenticate: token or bearer
	CentrifugoSecret string // HMAC key of Centrifugo's connection tokens

	SubNodes []string // base URLs the sockets connect to, round-robin
	PubNodes []string // base URLs the publishes go to, round-robin

	Conns       int   // sockets to open
	ConnSteps   []int // connect in stages and read RSS after each; the last is Conns
	Channels    int   // distinct user channels (= distinct users); socket i uses user i % Channels
	ConnWorkers int   // connects in flight at once
	Settle      time.Duration
	Idle        time.Duration // hold the idle sockets this long before publishing

	Rate       float64 // publishes per second, over all channels
	Duration   time.Duration
	PubWorkers int
	Durable    bool
	Chat       bool // send chat messages instead of publishing
	EventType  string
	APIKey     string
	Drain      time.Duration // how long to wait for late deliveries after the last publish

	// A reconnect storm (storm.go): VictimConns sockets on Victim, whose
	// process (KillPID) is killed KillAfter into the publishing.
	Victim          string
	VictimConns     int
	KillPID         int
	KillAfter       time.Duration
	ReconnectJitter time.Duration
	// ReconnectWorkers caps gigload's own reconnects in flight: real
	// clients reconnect independently, so it is only a guard for gigload.
	ReconnectWorkers int
	StormTimeout     time.Duration

	UsersFile   string
	SeedUsers   int // only create this many users (cached in UsersFile) and exit
	SeedWorkers int

	ServerPIDs   []int
	GoMetrics    bool   // also read the nodes' /metrics for the Go heap and stacks
	MetricsToken string // bearer for /metrics, when the nodes require one
	JSON         bool
	Label        string
}

// parseConfig reads the flags in args (without the program name).
func parseConfig(args []string) (config, error) {
	var c config
	fs := flag.NewFlagSet("gigload", flag.ContinueOnError)
	nodes := fs.String("nodes", "http://127.0.0.1:8080", "comma-separated base URLs of the hub nodes (sockets and publishes)")
	subNodes := fs.String("sub-nodes", "", "base URLs for the sockets (default: -nodes)")
	pubNodes := fs.String("pub-nodes", "", "base URLs for the publishes (default: -nodes)")
	fs.StringVar(&c.Target, "target", targetGigStream, "server under test: gigstream, or centrifugo (its JSON client protocol and HTTP API)")
	fs.StringVar(&c.WSAuth, "ws-auth", "token", "how sockets open on GigStream: token (a connection token from POST /ws/token, fetched before connecting; the bearer when the hub has none) or bearer (the session on every upgrade)")
	fs.StringVar(&c.CentrifugoSecret, "centrifugo-secret", os.Getenv("CENTRIFUGO_TOKEN_SECRET"), "HMAC key for Centrifugo's HS256 connection tokens (default $CENTRIFUGO_TOKEN_SECRET)")
	fs.IntVar(&c.Conns, "conns", 1000, "WebSocket clients to open")
	steps := fs.String("conn-steps", "", "comma-separated socket counts to stop at and read the server RSS (e.g. 1000,5000); -conns is always the last")
	fs.IntVar(&c.Channels, "channels", 1, "distinct channels user:<id>, one user each; socket i belongs to user i%channels")
	fs.IntVar(&c.ConnWorkers, "conn-workers", 32, "connects (dial, hello, subscribe) in flight at once")
	fs.DurationVar(&c.Settle, "settle", 3*time.Second, "pause after connecting before reading the server RSS")
	fs.DurationVar(&c.Idle, "idle", 0, "keep the sockets idle this long (after the RSS reading) before publishing")
	fs.Float64Var(&c.Rate, "rate", 0, "publishes per second over all channels (0: connect only)")
	fs.DurationVar(&c.Duration, "duration", 20*time.Second, "how long to publish")
	fs.IntVar(&c.PubWorkers, "pub-workers", 16, "publish calls in flight at most")
	fs.BoolVar(&c.Durable, "durable", false, "publish durable events (stored in Postgres) instead of ephemeral ones")
	fs.BoolVar(&c.Chat, "chat", false, "send durable chat messages (POST /conversations/{id}/messages) instead of publishing: channel i is a conversation between user i (subscribed) and user channels+i (sending)")
	fs.StringVar(&c.EventType, "type", "bench", "event type of the publishes")
	fs.StringVar(&c.APIKey, "api-key", os.Getenv("PUBLISH_API_KEY"), "publish API key (default $PUBLISH_API_KEY)")
	fs.DurationVar(&c.Drain, "drain", 5*time.Second, "wait at most this long after the last publish for deliveries still under way")
	fs.StringVar(&c.Victim, "victim", "", "storm: base URL of the node whose sockets are killed with it")
	fs.IntVar(&c.VictimConns, "victim-conns", 0, "storm: sockets on -victim (socket i belongs to user i%channels, like the others)")
	fs.IntVar(&c.KillPID, "kill-pid", 0, "storm: pid of the -victim node, killed (SIGKILL) -kill-after into the publishing; its sockets reconnect to -sub-nodes with since")
	fs.DurationVar(&c.KillAfter, "kill-after", 10*time.Second, "storm: when to kill the victim, from the start of the publishing")
	fs.DurationVar(&c.ReconnectJitter, "reconnect-jitter", time.Second, "storm: each victim waits a random pause up to this long before reconnecting, as clients do")
	fs.IntVar(&c.ReconnectWorkers, "reconnect-workers", 1000, "storm: victims reconnecting at once at most (clients reconnect independently; this only guards gigload)")
	fs.DurationVar(&c.StormTimeout, "storm-timeout", time.Minute, "storm: give up on victims not whole this long after the kill")
	fs.StringVar(&c.UsersFile, "users-file", "gigload-users.json", "cache of created users and their bearer tokens, reused across runs")
	fs.IntVar(&c.SeedUsers, "seed-users", 0, "make sure this many users exist in -users-file, then exit")
	fs.IntVar(&c.SeedWorkers, "seed-workers", 8, "registrations in flight at once")
	pids := fs.String("server-pids", "", "comma-separated pids of the node processes, for RSS and CPU readings")
	fs.BoolVar(&c.GoMetrics, "go-metrics", false, "with the RSS readings, read the sub nodes' /metrics for Go heap, stack and goroutines per socket")
	fs.StringVar(&c.MetricsToken, "metrics-token", os.Getenv("METRICS_TOKEN"), "bearer token for /metrics (default $METRICS_TOKEN)")
	fs.BoolVar(&c.JSON, "json", false, "print the result as one JSON object")
	fs.StringVar(&c.Label, "label", "", "name of the scenario, echoed in the result")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	var err error
	if c.SubNodes, err = urlList(*subNodes, *nodes); err != nil {
		return c, err
	}
	if c.PubNodes, err = urlList(*pubNodes, *nodes); err != nil {
		return c, err
	}
	if c.Victim != "" {
		victim, err := urlList(c.Victim, "")
		if err != nil {
			return c, fmt.Errorf("-victim: %w", err)
		}
		c.Victim = victim[0]
	}
	if c.ServerPIDs, err = intList(*pids); err != nil {
		return c, fmt.Errorf("-server-pids: %w", err)
	}
	if c.ConnSteps, err = intList(*steps); err != nil {
		return c, fmt.Errorf("-conn-steps: %w", err)
	}
	return c, c.check()
}

// check validates the settings that depend on each other.
func (c *config) check() error {
	if c.SeedUsers > 0 {
		return nil
	}
	switch {
	case c.Conns < 1:
		return errors.New("-conns must be at least 1")
	case c.Channels < 1 || c.Channels > c.Conns:
		return errors.New("-channels must be from 1 to -conns")
	case c.ConnWorkers < 1 || c.PubWorkers < 1 || c.SeedWorkers < 1:
		return errors.New("worker counts must be at least 1")
	case c.Rate < 0:
		return errors.New("-rate must not be negative")
	case c.Rate > 0 && c.APIKey == "":
		return errors.New("publishing needs -api-key or $PUBLISH_API_KEY")
	case c.WSAuth != "token" && c.WSAuth != "bearer":
		return fmt.Errorf("-ws-auth %q: want token or bearer", c.WSAuth)
	case c.Target != targetGigStream && c.Target != targetCentrifugo:
		return fmt.Errorf("-target %q: want gigstream or centrifugo", c.Target)
	case c.Target == targetCentrifugo && (c.Durable || c.Chat || c.GoMetrics):
		return errors.New("-durable, -chat and -go-metrics are GigStream's own; not with -target centrifugo")
	case c.KillPID > 0 && (c.Victim == "" || c.VictimConns < 1 || !c.Durable || c.Rate <= 0 || c.Target != targetGigStream):
		return errors.New("-kill-pid (a storm) needs -victim, -victim-conns, -durable and -rate, on GigStream")
	case c.Target == targetCentrifugo && c.CentrifugoSecret == "":
		return errors.New("-target centrifugo needs -centrifugo-secret or $CENTRIFUGO_TOKEN_SECRET")
	}
	steps := c.ConnSteps[:0]
	for _, s := range c.ConnSteps {
		if s > 0 && s < c.Conns && (len(steps) == 0 || s > steps[len(steps)-1]) {
			steps = append(steps, s)
		}
	}
	c.ConnSteps = append(steps, c.Conns)
	return nil
}

// publishes is how many events the run publishes.
func (c *config) publishes() int { return int(c.Rate*c.Duration.Seconds() + 0.5) }

func urlList(s, fallback string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		s = fallback
	}
	var out []string
	for _, u := range strings.Split(s, ",") {
		u = strings.TrimRight(strings.TrimSpace(u), "/")
		if u == "" {
			continue
		}
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return nil, fmt.Errorf("node %q: want an http:// or https:// base URL", u)
		}
		out = append(out, u)
	}
	if len(out) == 0 {
		return nil, errors.New("no node URL given")
	}
	return out, nil
}

func intList(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", f, err)
		}
		out = append(out, n)
	}
	return out, nil
}
