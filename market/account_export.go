package market

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// UserExport is the head of a user's GDPR export: the account itself and the small,
// bounded lists about it. The long lists (messages, orders, …) follow it as streamed
// sections; see WriteExport.
type UserExport struct {
	ExportedAt time.Time     `json:"exported_at"`
	User       User          `json:"user"`
	Sessions   []Session     `json:"sessions"`
	Identities []Identity    `json:"identities"`
	Gigs       []ExportedGig `json:"gigs"`
	// NotificationPreferences are the user's notification switches.
	NotificationPreferences NotificationPrefs `json:"notification_preferences"`
}

// ExportedGig is a gig as it appears in a user's export.
type ExportedGig struct {
	ID          string    `json:"id" db:"id"`
	Slug        string    `json:"slug" db:"slug"`
	Title       string    `json:"title" db:"title"`
	Description string    `json:"description" db:"description"`
	Status      string    `json:"status" db:"status"`
	CreatedAt   time.Time `json:"created_at" db:"created_at"`
}

// Export returns the head of the user's export (see UserExport). It returns an error
// wrapping ErrNotFound when the user does not exist.
func (a *Accounts) Export(ctx context.Context, userID string) (UserExport, error) {
	e, err := a.store.ExportUser(ctx, userID)
	if err != nil {
		return UserExport{}, err
	}
	if e.Sessions, err = a.Sessions(ctx, userID); err != nil {
		return UserExport{}, err
	}
	e.ExportedAt = a.now().UTC()
	return e, nil
}

// ExportSection names one streamed list of a GDPR export; its value is the JSON key.
type ExportSection string

// The streamed sections of an export, in the order they are written. What each holds
// is decided in store/account_export_sections.go; README's accounts section lists it.
const (
	ExportConversations  ExportSection = "conversations"
	ExportMessagesSent   ExportSection = "messages_sent"
	ExportBlocks         ExportSection = "blocks"
	ExportDeviceTokens   ExportSection = "device_tokens"
	ExportNotifications  ExportSection = "notifications"
	ExportUploads        ExportSection = "uploads"
	ExportOrders         ExportSection = "orders"
	ExportInvoices       ExportSection = "invoices"
	ExportWithdrawals    ExportSection = "withdrawals"
	ExportLedgerPostings ExportSection = "ledger_postings"
	// ExportAbuseReports are the reports the user filed, with their outcome (not the
	// admins' notes or names); reports others filed about the user are the
	// reporters' data and are not exported.
	ExportAbuseReports ExportSection = "abuse_reports"
)

// ExportSections lists every streamed section in output order.
var ExportSections = []ExportSection{
	ExportConversations, ExportMessagesSent, ExportBlocks, ExportDeviceTokens,
	ExportNotifications, ExportUploads, ExportOrders, ExportInvoices, ExportWithdrawals, ExportLedgerPostings,
	ExportAbuseReports,
}

// ExportRow is one item of a section: its JSON, and the key the next page starts after.
type ExportRow struct {
	Key  string          `db:"key"`
	Data json.RawMessage `db:"data"`
}

// exportPageSize bounds how many rows of a section are in memory at once.
const exportPageSize = 500

// WriteExport writes the whole export as one JSON object to w: the head's fields, then
// every section as an array read page by page (each page its own short query, so the
// export is not a point-in-time snapshot), then `"complete": true`. Memory stays bounded
// by one page whatever the user holds. When w has a Flush method it is flushed after
// each page. Once bytes are written nothing can be taken back: on an error (the
// database, or a reader that went away) the document is left unterminated, which a
// reader detects by the missing `complete`. It returns that error, wrapped.
func (a *Accounts) WriteExport(ctx context.Context, head UserExport, w io.Writer) error {
	b, err := json.Marshal(head)
	if err != nil {
		return fmt.Errorf("export head: %w", err)
	}
	if _, err := w.Write(bytes.TrimSuffix(b, []byte("}"))); err != nil {
		return fmt.Errorf("export head: %w", err)
	}
	for _, s := range ExportSections {
		if err := a.writeSection(ctx, s, head.User.ID, w); err != nil {
			return fmt.Errorf("export %s: %w", s, err)
		}
	}
	_, err = io.WriteString(w, `,"complete":true}`+"\n")
	return flush(w, err)
}

// writeSection writes `,"<section>":[…]`, one page at a time.
func (a *Accounts) writeSection(ctx context.Context, s ExportSection, userID string, w io.Writer) error {
	if _, err := fmt.Fprintf(w, `,%q:[`, s); err != nil {
		return err
	}
	after, first := "", true
	for {
		rows, err := a.store.ExportPage(ctx, s, userID, after, exportPageSize)
		if err != nil {
			return err
		}
		for _, r := range rows {
			if err := writeRow(w, r.Data, first); err != nil {
				return err
			}
			first = false
			after = r.Key
		}
		if err := flush(w, nil); err != nil {
			return err
		}
		if len(rows) < exportPageSize {
			break
		}
	}
	_, err := io.WriteString(w, "]")
	return err
}

func writeRow(w io.Writer, data json.RawMessage, first bool) error {
	if !first {
		if _, err := io.WriteString(w, ","); err != nil {
			return err
		}
	}
	_, err := w.Write(data)
	return err
}

// flush flushes w when it buffers, unless err is already set.
func flush(w io.Writer, err error) error {
	if err != nil {
		return err
	}
	if f, ok := w.(interface{ Flush() error }); ok {
		return f.Flush()
	}
	return nil
}
