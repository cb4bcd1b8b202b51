// Command gigload is the load generator of the GigStream hub. It opens many
// WebSocket clients on one or more nodes, subscribes each to a user channel,
// publishes ~60-byte events through POST /api/publish at a fixed rate and
// measures, on the same clock, the time from the start of each publish call
// to its receipt at every subscriber. It reports delivered messages per
// second, latency percentiles, the connection set-up rate, the server's RSS
// per idle socket (from /proc), lost messages and errors.
//
// Every simulated client is a real user with a bearer token: gigload
// registers them through the public API (set ARGON2_MEMORY_KIB=8192 and high
// RATE_LIMIT_* on the nodes) and caches them in -users-file.
//
// Exit status: 0 when every expected message arrived and every socket
// connected, 1 when a message was lost or a socket failed, 2 on bad flags or
// a failure before the measurement.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

// run parses args, runs one load test or seeding, and returns the exit code.
func run(args []string) int {
	cfg, err := parseConfig(args)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gigload:", err)
		return 2
	}
	if _, err := raiseFileLimit(); err != nil {
		fmt.Fprintln(os.Stderr, "gigload:", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logf := func(format string, a ...any) { fmt.Fprintf(os.Stderr, "gigload: "+format+"\n", a...) }

	if cfg.SeedUsers > 0 {
		if _, err := ensureUsers(ctx, cfg.PubNodes[0], cfg.UsersFile, cfg.SeedUsers, cfg.SeedWorkers, logf); err != nil {
			logf("%v", err)
			return 2
		}
		return 0
	}
	res, err := loadTest(ctx, cfg, logf)
	if err != nil {
		logf("%v", err)
		return 2
	}
	if cfg.JSON {
		if err := res.writeJSON(os.Stdout); err != nil {
			logf("%v", err)
			return 2
		}
	} else {
		res.writeText(os.Stdout)
	}
	if res.Connected < res.Conns || (res.Delivery != nil && res.Delivery.Lost > 0) {
		return 1
	}
	return 0
}
