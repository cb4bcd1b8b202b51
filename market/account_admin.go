package market

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"
)

// The page sizes of the admins' user search.
const (
	DefaultUserSearchPage = 50
	MaxUserSearchPage     = 100
)

// AdminUser is a user as admins see them in a search: who they are and whether they
// may sign in.
type AdminUser struct {
	ID          string     `json:"id" db:"id"`
	Email       string     `json:"email" db:"email"`
	Username    string     `json:"username" db:"username"`
	DisplayName string     `json:"display_name" db:"display_name"`
	IsSeller    bool       `json:"is_seller" db:"is_seller"`
	IsAdmin     bool       `json:"is_admin" db:"is_admin"`
	DisabledAt  *time.Time `json:"disabled_at" db:"disabled_at"`
	DeletedAt   *time.Time `json:"deleted_at" db:"deleted_at"`
	CreatedAt   time.Time  `json:"created_at" db:"created_at"`
}

// SearchUsers finds users for an admin: those whose e-mail or username starts with q
// or whose display name contains it (any case; every user when q is empty), oldest
// first after the key (created_at, id). Non-admins get ErrNotFound; a q over 100
// characters is an invalid Error naming q.
func (a *Accounts) SearchUsers(ctx context.Context, admin User, q string, after *PageKey, limit int) ([]AdminUser, error) {
	if !admin.IsAdmin {
		return nil, ErrNotFound
	}
	q = strings.TrimSpace(q)
	if utf8.RuneCountInString(q) > 100 || !utf8.ValidString(q) {
		return nil, FieldError(CodeInvalid, "q", "at most 100 characters")
	}
	return a.store.SearchUsers(ctx, q, after, limit)
}
