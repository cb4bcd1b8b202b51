package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
)

const usage = `usage: gigstream <command>

commands:
  serve                      run the hub (HTTP + WebSocket) until SIGTERM/SIGINT
  migrate up|down|status     apply, roll back one, or list database migrations
  seed                       load the demo dataset (idempotent; refused in production)
  catalogue import FILE      create or update categories from a .json or .csv file (idempotent)
  bootstrap --admin-email EMAIL [--admin-username NAME] [--admin-name NAME]
            [--password-file PATH] [--categories FILE]
                             make the first admin (password: first line of PATH or stdin,
                             read only when the account is created) and import categories
                             (idempotent; works in production)
  admin grant|revoke EMAIL   give or take the admin role
  admin disable|enable EMAIL disable an account (ends its sessions) or enable it again
  healthcheck                exit 0 when the local hub's /healthz answers 200

Settings come from environment variables; see .env.example.
`

// errUsage marks a command line that names no known command; main exits 2 on it.
var errUsage = errors.New("bad usage")

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "gigstream:", err)
		if errors.Is(err, errUsage) {
			fmt.Fprint(os.Stderr, usage)
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// run dispatches to a subcommand; stderr receives the JSON logs.
func run(ctx context.Context, args []string, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: no command given", errUsage)
	}
	e := newEnvReader()
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: logLevel(e)}))
	if e.err != nil {
		return e.err
	}
	switch args[0] {
	case "serve":
		return serve(ctx, e, log)
	case "migrate":
		return migrate(ctx, e, log, args[1:])
	case "seed":
		return seed(ctx, e, log)
	case "admin":
		return admin(ctx, e, log, args[1:])
	case "catalogue":
		return catalogue(ctx, e, log, args[1:])
	case "bootstrap":
		return bootstrap(ctx, e, log, args[1:], os.Stdin)
	case "healthcheck":
		return healthcheck(ctx, e)
	case "help", "-h", "--help":
		fmt.Fprint(stderr, usage)
		return nil
	default:
		return fmt.Errorf("%w: unknown command %q", errUsage, args[0])
	}
}
