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
	if res.Connected < res.Conns || res.failed() {
		return 1
	}
	return 0
}
