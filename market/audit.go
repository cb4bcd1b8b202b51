package market

import (
	"context"
	"regexp"
	"time"
)

// Audit holds the ledger statement of a seller and the admins' views: the order
// queue and the ledger check.
type Audit struct {
	store AuditStore
}

// NewAudit returns the audit use cases over their store.
func NewAudit(s AuditStore) *Audit { return &Audit{store: s} }

// LedgerEntry is one posting to an account, as a statement line: the transaction it
// belongs to (its kind and order), the amount, and the account's balance right after
// it, so a page of entries reads as a statement without the pages before it.
type LedgerEntry struct {
	PostingID         int64     `json:"posting_id" db:"id"`
	TransactionID     string    `json:"transaction_id" db:"transaction_id"`
	Kind              string    `json:"kind" db:"kind"` // escrow_funding, order_completion, refund, clearing, withdrawal
	OrderID           *string   `json:"order_id" db:"order_id"`
	Account           string    `json:"account" db:"account"`
	AmountMinor       int64     `json:"amount_minor" db:"amount_minor"`
	Currency          string    `json:"currency" db:"currency"`
	BalanceAfterMinor int64     `json:"balance_after_minor" db:"balance_after_minor"`
	CreatedAt         time.Time `json:"created_at" db:"created_at"`
}

// CurrencyTotal is the sum of every posting in a currency: zero in a double-entry
// ledger.
type CurrencyTotal struct {
	Currency string `json:"currency" db:"currency"`
	SumMinor int64  `json:"sum_minor" db:"sum_minor"`
}

// AccountBalance is an account's balance in a currency.
type AccountBalance struct {
	Account      string `json:"account" db:"account"`
	Currency     string `json:"currency" db:"currency"`
	BalanceMinor int64  `json:"balance_minor" db:"balance_minor"`
}

// LedgerAudit is a live check of the ledger's invariants: every currency's postings
// sum to zero, no account but external:* and the debt accounts is below zero, no debt
// account is above zero, and every kept balance equals
// the sum of its postings. OK says all three hold.
type LedgerAudit struct {
	Currencies []CurrencyTotal  `json:"currencies"`
	Overdrawn  []AccountBalance `json:"overdrawn"`  // out of bounds (below zero, or a debt account above); must be empty
	Mismatched []AccountBalance `json:"mismatched"` // kept balances that differ from their postings; must be empty
	OK         bool             `json:"ok"`
}

// AuditStore reads the ledger and orders across users; store/ implements it.
// LedgerEntries lists up to limit postings to accounts with ids below beforeID (0:
// from the newest), newest first. OrdersByStatus lists up to limit orders of status
// ("" any) after before in (updated_at, id) descending order.
type AuditStore interface {
	LedgerEntries(ctx context.Context, accounts []string, beforeID int64, limit int) ([]LedgerEntry, error)
	OrdersByStatus(ctx context.Context, status OrderStatus, before *PageKey, limit int) ([]Order, error)
	LedgerAudit(ctx context.Context) (LedgerAudit, error)
	ProviderEventStore
}

// errAdminOnly hides an admin route from everyone else: it does not exist for them.
var errAdminOnly = Errorf(CodeNotFound, "not found")

// Statement lists the caller's postings as a seller (their pending and available
// accounts; withdrawals show as postings out of available), newest first, up to
// limit before the posting beforeID (0: from the newest). An admin may name any
// account instead. Errors: forbidden when a non-admin names an account; invalid
// naming account when it is no ledger account.
func (a *Audit) Statement(ctx context.Context, caller User, account string, beforeID int64, limit int) ([]LedgerEntry, error) {
	accounts := []string{SellerPendingAccount(caller.ID), SellerAvailableAccount(caller.ID), SellerDebtAccount(caller.ID)}
	if account != "" {
		if !caller.IsAdmin {
			return nil, Errorf(CodeForbidden, "only an admin reads another account's ledger")
		}
		if !accountPattern.MatchString(account) {
			return nil, FieldError(CodeInvalid, "account", "is no ledger account (external:…, escrow:order:…, seller:…:pending|available|debt, platform:fees|losses, transit:withdrawal:…)")
		}
		accounts = []string{account}
	}
	return a.store.LedgerEntries(ctx, accounts, beforeID, limit)
}

// AdminOrders is the admins' order queue: up to limit orders of status (any when
// ""), most recently changed first, after before. Errors: not found for anyone but
// an admin (the route reveals nothing); invalid naming status for an unknown status.
func (a *Audit) AdminOrders(ctx context.Context, caller User, status OrderStatus, before *PageKey, limit int) ([]Order, error) {
	if !caller.IsAdmin {
		return nil, errAdminOnly
	}
	if status != "" && !knownStatus(status) {
		return nil, FieldError(CodeInvalid, "status", "must be one of placed, paid, delivered, revision_requested, disputed, completed, cancelled")
	}
	return a.store.OrdersByStatus(ctx, status, before, limit)
}

// CheckLedger audits the ledger's invariants live. Errors: not found for anyone but
// an admin.
func (a *Audit) CheckLedger(ctx context.Context, caller User) (LedgerAudit, error) {
	if !caller.IsAdmin {
		return LedgerAudit{}, errAdminOnly
	}
	return a.store.LedgerAudit(ctx)
}

func knownStatus(s OrderStatus) bool {
	switch s {
	case OrderPlaced, OrderPaid, OrderDelivered, OrderRevisionRequested, OrderDisputed, OrderCompleted, OrderCancelled:
		return true
	}
	return false
}

// ProviderEvent is a verified provider event as it was stored: what it was about and
// what applying it did (its outcome; unhandled for types GigStream does not act on).
type ProviderEvent struct {
	Provider   string    `json:"provider" db:"provider"`
	EventID    string    `json:"event_id" db:"event_id"`
	Type       string    `json:"type" db:"type"`
	Outcome    string    `json:"outcome" db:"outcome"`
	ObjectRef  *string   `json:"object_ref" db:"object_ref"`
	OrderID    *string   `json:"order_id" db:"order_id"`
	ReceivedAt time.Time `json:"received_at" db:"received_at"`
}

// ProviderEventKey is a position in the provider events, newest first.
type ProviderEventKey struct {
	At                time.Time
	Provider, EventID string
}

// ProviderEventStore lists stored provider events; store/ implements it.
type ProviderEventStore interface {
	ProviderEvents(ctx context.Context, outcome string, before *ProviderEventKey, limit int) ([]ProviderEvent, error)
}

// ProviderEvents lists up to limit stored provider events whose outcome is outcome
// (OutcomeUnhandled when empty: the events nobody acted on), newest first, after
// before. Errors: not found for anyone but an admin; invalid naming outcome when it
// is not a word of lower-case letters and underscores.
func (a *Audit) ProviderEvents(ctx context.Context, caller User, outcome string, before *ProviderEventKey, limit int) ([]ProviderEvent, error) {
	if !caller.IsAdmin {
		return nil, errAdminOnly
	}
	if outcome == "" {
		outcome = OutcomeUnhandled
	}
	if !outcomePattern.MatchString(outcome) {
		return nil, FieldError(CodeInvalid, "outcome", "must be an outcome such as unhandled, applied, ignored, mismatch, unknown_order")
	}
	return a.store.ProviderEvents(ctx, outcome, before, limit)
}

var outcomePattern = regexp.MustCompile(`^[a-z_]{1,32}$`)
