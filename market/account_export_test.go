package market

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
)

// pagesOnly serves export pages from rows and fails on one section; the embedded nil
// AccountStore panics if anything else is called.
type pagesOnly struct {
	AccountStore
	rows     map[ExportSection][]ExportRow
	failOn   ExportSection
	lastSeen map[ExportSection]string
}

func (p *pagesOnly) ExportPage(_ context.Context, s ExportSection, _ string, after string, limit int) ([]ExportRow, error) {
	if s == p.failOn {
		return nil, errors.New("database went away")
	}
	p.lastSeen[s] = after
	all := p.rows[s]
	start := 0
	for i, r := range all {
		if r.Key == after {
			start = i + 1
		}
	}
	return all[start:min(start+limit, len(all))], nil
}

func TestWriteExportIsOneDocumentAndMarksItsEnd(t *testing.T) {
	rows := make([]ExportRow, exportPageSize+1)
	for i := range rows {
		rows[i] = ExportRow{Key: fmt.Sprint(i), Data: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))}
	}
	p := &pagesOnly{rows: map[ExportSection][]ExportRow{ExportMessagesSent: rows}, lastSeen: map[ExportSection]string{}}
	a := NewAccounts(p, nil, nil, AccountsConfig{}, nil)
	var buf bytes.Buffer
	if err := a.WriteExport(context.Background(), UserExport{User: User{ID: "u"}}, &buf); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		MessagesSent []struct{ N int } `json:"messages_sent"`
		Orders       []any             `json:"orders"`
		Complete     bool              `json:"complete"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, buf.String())
	}
	if len(doc.MessagesSent) != exportPageSize+1 || doc.MessagesSent[exportPageSize].N != exportPageSize || doc.Orders == nil || !doc.Complete {
		t.Fatalf("document: %d messages, orders %v, complete %v", len(doc.MessagesSent), doc.Orders, doc.Complete)
	}
	if p.lastSeen[ExportMessagesSent] != fmt.Sprint(exportPageSize-1) {
		t.Fatalf("second page asked after %q", p.lastSeen[ExportMessagesSent])
	}

	p.failOn = ExportOrders
	buf.Reset()
	if err := a.WriteExport(context.Background(), UserExport{}, &buf); err == nil || bytes.Contains(buf.Bytes(), []byte("complete")) {
		t.Fatalf("a failing section: %v, body ends %q", err, buf.String()[max(0, buf.Len()-40):])
	}
}
