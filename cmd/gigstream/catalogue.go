package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gigstream/hub/market"
	"github.com/gigstream/hub/store"
)

// catalogue runs `gigstream catalogue import FILE`: it creates or updates the
// categories of a JSON or CSV file (see readCategoryFile) in one transaction, so a
// real deployment starts its catalogue without the demo seed. A second run of the same
// file changes nothing.
func catalogue(ctx context.Context, e *envReader, log *slog.Logger, args []string) error {
	if len(args) != 2 || args[0] != "import" {
		return fmt.Errorf("%w: catalogue takes import and a .json or .csv file", errUsage)
	}
	list, err := readCategoryFile(args[1])
	if err != nil {
		return err
	}
	return withDatabase(ctx, e, log, func(db *store.DB) error {
		if err := checkMigrated(ctx, db, log); err != nil {
			return err
		}
		n, err := market.NewGigs(db, market.GigsDeps{}, log).ImportCategories(ctx, list)
		if err != nil {
			return fmt.Errorf("catalogue import %s: %w", args[1], err)
		}
		log.InfoContext(ctx, "categories imported", "file", args[1], "created", n.Created, "updated", n.Updated, "unchanged", n.Unchanged)
		return nil
	})
}

// readCategoryFile reads categories by the file's extension: .json is an array of
// {"slug", "name", "parent"} objects (or an object holding one as "categories"), .csv
// has a header row naming the columns slug, name and, optionally, parent.
func readCategoryFile(path string) ([]market.NewCategory, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("catalogue file: %w", err)
	}
	defer f.Close()
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json":
		return readCategoryJSON(f)
	case ".csv":
		return readCategoryCSV(f)
	default:
		return nil, fmt.Errorf("catalogue file %s: want a .json or .csv file", path)
	}
}

// readCategoryJSON reads a JSON catalogue file; unknown fields are errors, so a typo
// in a column name is not silently dropped.
func readCategoryJSON(r io.Reader) ([]market.NewCategory, error) {
	raw, err := io.ReadAll(io.LimitReader(r, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("catalogue file: %w", err)
	}
	var wrapped struct {
		Categories []market.NewCategory `json:"categories"`
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if strings.HasPrefix(strings.TrimSpace(string(raw)), "[") {
		err = dec.Decode(&wrapped.Categories)
	} else {
		err = dec.Decode(&wrapped)
	}
	if err != nil {
		return nil, fmt.Errorf("catalogue file: not a list of categories: %w", err)
	}
	return wrapped.Categories, nil
}

// errCategoryCSVHeader is a CSV catalogue whose first row does not name its columns.
var errCategoryCSVHeader = errors.New("catalogue file: the first row must name the columns slug, name and optionally parent")

// readCategoryCSV reads a CSV catalogue file with a header row.
func readCategoryCSV(r io.Reader) ([]market.NewCategory, error) {
	rows, err := csv.NewReader(r).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("catalogue file: %w", err)
	}
	if len(rows) == 0 {
		return nil, errCategoryCSVHeader
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[strings.ToLower(strings.TrimSpace(name))] = i
	}
	slug, okSlug := col["slug"]
	name, okName := col["name"]
	parent, okParent := col["parent"]
	if !okSlug || !okName || len(col) > 3 || (len(col) == 3 && !okParent) {
		return nil, errCategoryCSVHeader
	}
	out := make([]market.NewCategory, 0, len(rows)-1)
	for _, row := range rows[1:] {
		if slices.Equal(row, make([]string, len(row))) {
			continue // a blank line
		}
		c := market.NewCategory{Slug: strings.TrimSpace(row[slug]), Name: row[name]}
		if okParent {
			c.Parent = strings.TrimSpace(row[parent])
		}
		out = append(out, c)
	}
	return out, nil
}
