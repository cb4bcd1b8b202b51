package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/gigstream/hub/market"
)

// likeEscaper escapes LIKE's wildcards, so a search for "a_b" finds only "a_b".
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// SearchUsers lists up to limit users whose e-mail or username starts with q, or
// whose display name contains it, in any case (every user when q is empty), oldest
// first after the key (created_at, id).
func (db *DB) SearchUsers(ctx context.Context, q string, after *market.PageKey, limit int) ([]market.AdminUser, error) {
	query, args := searchUsersQuery(q, after, limit)
	out := []market.AdminUser{}
	if err := db.x.SelectContext(ctx, &out, query, args...); err != nil {
		return nil, fmt.Errorf("search users %q: %w", q, err)
	}
	return out, nil
}

// searchUsersQuery is SearchUsers' statement and arguments. The trigram indexes of
// migration 00060 serve the three LIKEs; the empty q is left out of the statement (not
// "$1 = ” OR ...") so a plan never has to allow for it.
func searchUsersQuery(q string, after *market.PageKey, limit int) (string, []any) {
	query := `SELECT id, email, username, display_name, is_seller, is_admin, disabled_at, deleted_at, created_at
		FROM users WHERE true`
	var args []any
	if q != "" {
		args = append(args, likeEscaper.Replace(strings.ToLower(q)))
		query += ` AND (lower(email) LIKE $1 || '%' OR lower(username) LIKE $1 || '%' OR lower(display_name) LIKE '%' || $1 || '%')`
	}
	if after != nil {
		query += fmt.Sprintf(` AND (created_at, id) > ($%d, $%d)`, len(args)+1, len(args)+2)
		args = append(args, after.At, after.ID)
	}
	query += fmt.Sprintf(` ORDER BY created_at, id LIMIT $%d`, len(args)+1)
	return query, append(args, limit)
}
