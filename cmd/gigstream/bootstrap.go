package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/gigstream/hub/market"
	"github.com/gigstream/hub/store"
)

// bootstrapArgs are the flags of `gigstream bootstrap`.
type bootstrapArgs struct {
	email, username, displayName string
	passwordFile                 string // "" reads the password from stdin
	categories                   string // a catalogue file to import; "" imports none
}

// bootstrap runs `gigstream bootstrap --admin-email EMAIL [--admin-username NAME]
// [--admin-name NAME] [--password-file PATH] [--categories FILE]`: it starts a real
// deployment (production mode too) by making the first admin (see
// market.Accounts.BootstrapAdmin) and importing the categories of FILE (see
// catalogue). The password never comes from the command line: it is the first line of
// PATH, or of stdin, read only when the account has to be created. A second run with
// the same arguments changes nothing.
func bootstrap(ctx context.Context, e *envReader, log *slog.Logger, args []string, stdin io.Reader) error {
	b, err := parseBootstrapArgs(args)
	if err != nil {
		return err
	}
	var list []market.NewCategory
	if b.categories != "" {
		if list, err = readCategoryFile(b.categories); err != nil {
			return err
		}
	}
	return withDatabase(ctx, e, log, func(db *store.DB) error {
		if err := checkMigrated(ctx, db, log); err != nil {
			return err
		}
		if err := bootstrapAdmin(ctx, e, db, log, b, stdin); err != nil {
			return err
		}
		if b.categories == "" {
			return nil
		}
		n, err := market.NewGigs(db, market.GigsDeps{}, log).ImportCategories(ctx, list)
		if err != nil {
			return fmt.Errorf("bootstrap categories %s: %w", b.categories, err)
		}
		log.InfoContext(ctx, "categories imported", "file", b.categories, "created", n.Created, "updated", n.Updated, "unchanged", n.Unchanged)
		return nil
	})
}

// parseBootstrapArgs reads bootstrap's flags; a missing e-mail or a stray argument is
// errUsage.
func parseBootstrapArgs(args []string) (bootstrapArgs, error) {
	var b bootstrapArgs
	fs := flag.NewFlagSet("bootstrap", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&b.email, "admin-email", "", "the first admin's e-mail address")
	fs.StringVar(&b.username, "admin-username", "admin", "the first admin's username")
	fs.StringVar(&b.displayName, "admin-name", "Administrator", "the first admin's display name")
	fs.StringVar(&b.passwordFile, "password-file", "", "a file whose first line is the admin's password (default: stdin)")
	fs.StringVar(&b.categories, "categories", "", "a .json or .csv category file to import")
	if err := fs.Parse(args); err != nil {
		return b, fmt.Errorf("%w: bootstrap: %w", errUsage, err)
	}
	if b.email == "" || fs.NArg() > 0 {
		return b, fmt.Errorf("%w: bootstrap takes --admin-email EMAIL and optionally --admin-username, --admin-name, --password-file, --categories", errUsage)
	}
	return b, nil
}

// bootstrapAdmin makes b's admin with the production password hashing settings.
func bootstrapAdmin(ctx context.Context, e *envReader, db *store.DB, log *slog.Logger, b bootstrapArgs, stdin io.Reader) error {
	var cfg config
	loadPasswordHashing(e, &cfg)
	if e.err != nil {
		return e.err
	}
	hasher := market.NewPasswordHasher(market.HasherConfig{MemoryKiB: uint32(cfg.Argon2MemoryKB), Lanes: uint8(cfg.Argon2Lanes)})
	accounts := market.NewAccounts(db, nil, hasher, market.AccountsConfig{}, log)
	u, created, err := accounts.BootstrapAdmin(ctx, market.AdminBootstrap{
		Email: b.email, Username: b.username, DisplayName: b.displayName,
		Password: func() (string, error) { return readPassword(b.passwordFile, stdin) },
	})
	if err != nil {
		return fmt.Errorf("bootstrap admin %s: %w", b.email, err)
	}
	log.InfoContext(ctx, "bootstrap admin", "user_id", u.ID, "username", u.Username, "created", created, "is_admin", u.IsAdmin)
	return nil
}

// readPassword returns the first line of path, or of stdin when path is "", without
// its line ending; an empty one is an error.
func readPassword(path string, stdin io.Reader) (string, error) {
	src := stdin
	if path != "" {
		f, err := os.Open(path)
		if err != nil {
			return "", err
		}
		defer f.Close()
		src = f
	}
	line, err := bufio.NewReader(src).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("none given (the first line of --password-file or of stdin)")
	}
	return line, nil
}
