package web

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// protocolDoc is what docs/protocol.md names, read from its tables and examples: the
// truth that gigstream.d.ts must declare, no more and no less.
type protocolDoc struct {
	Version           int
	ServerFrames      []docFrame          // "Server → client"
	ClientFrames      []docFrame          // "Client → server"
	ErrorCodes        []string            // "Error codes"
	CloseCodes        []docCloseCode      // "Limits and close codes"
	Events            map[string][]string // channel kind ("conversation") -> event types, "Product channels and events"
	NotificationKinds []string            // "Notifications"
	Examples          []string            // every JSON frame example, one object each
}

// docFrame is one op and the fields the doc lists for it.
type docFrame struct {
	Op     string
	Fields []string
}

// docCloseCode is one row of the close-code table.
type docCloseCode struct {
	Code int
	Name string // "going away"
}

// docTable is a markdown table: its header cells and rows of cells.
type docTable struct {
	Header []string
	Rows   [][]string
}

var (
	codeSpan     = regexp.MustCompile("`([^`]+)`")
	versionTitle = regexp.MustCompile(`(?m)^# .*protocol, version (\d+)\s*$`)
	parenthesis  = regexp.MustCompile(`\s*\([^)]*\)`)
)

// readProtocolDoc parses ../docs/protocol.md.
func readProtocolDoc(t *testing.T) protocolDoc {
	t.Helper()
	md, err := os.ReadFile("../docs/protocol.md")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := parseProtocolDoc(string(md))
	if err != nil {
		t.Fatalf("docs/protocol.md: %v", err)
	}
	return doc
}

// parseProtocolDoc reads the protocol's names from the doc's tables. It fails when a
// table it needs is missing or empty, so a reworded doc cannot check nothing.
func parseProtocolDoc(md string) (protocolDoc, error) {
	var doc protocolDoc
	m := versionTitle.FindStringSubmatch(md)
	if m == nil {
		return doc, fmt.Errorf(`no "# … protocol, version N" title`)
	}
	doc.Version, _ = strconv.Atoi(m[1])
	steps := []func(string) error{
		func(md string) (err error) { doc.ServerFrames, err = frameTable(md, "Server → client"); return },
		func(md string) (err error) { doc.ClientFrames, err = frameTable(md, "Client → server"); return },
		func(md string) (err error) { doc.ErrorCodes, err = firstColumn(md, "Error codes", "code"); return },
		func(md string) (err error) { doc.CloseCodes, err = closeCodeTable(md); return },
		func(md string) (err error) { doc.Events, err = eventTable(md); return },
		func(md string) (err error) {
			doc.NotificationKinds, err = column(md, "Notifications", "`kind`")
			return
		},
	}
	for _, step := range steps {
		if err := step(md); err != nil {
			return doc, err
		}
	}
	doc.Examples = jsonFrames(md)
	if len(doc.Examples) == 0 {
		return doc, fmt.Errorf("no JSON frame examples")
	}
	return doc, nil
}

// section is the text under the first heading that starts with title, up to the next
// heading of the same or a higher level.
func section(md, title string) (string, error) {
	lines := strings.Split(md, "\n")
	for i, line := range lines {
		level := len(line) - len(strings.TrimLeft(line, "#"))
		if level == 0 || !strings.HasPrefix(strings.TrimSpace(line[level:]), title) {
			continue
		}
		end := len(lines)
		for j := i + 1; j < len(lines); j++ {
			l := len(lines[j]) - len(strings.TrimLeft(lines[j], "#"))
			if l > 0 && l <= level && strings.HasPrefix(lines[j][l:], " ") {
				end = j
				break
			}
		}
		return strings.Join(lines[i+1:end], "\n"), nil
	}
	return "", fmt.Errorf("no section %q", title)
}

// firstTable is the first markdown table of the section named title.
func firstTable(md, title string) (docTable, error) {
	text, err := section(md, title)
	if err != nil {
		return docTable{}, err
	}
	var rows [][]string
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "|") {
			if len(rows) > 0 {
				break
			}
			continue
		}
		rows = append(rows, tableCells(line))
	}
	if len(rows) < 3 {
		return docTable{}, fmt.Errorf("section %q has no table with rows", title)
	}
	return docTable{Header: rows[0], Rows: rows[2:]}, nil
}

// tableCells splits a table row on the pipes outside code spans.
func tableCells(line string) []string {
	line = strings.TrimSuffix(strings.TrimPrefix(line, "|"), "|")
	var cells []string
	var cell strings.Builder
	inCode := false
	for _, r := range line {
		switch {
		case r == '`':
			inCode = !inCode
		case r == '|' && !inCode:
			cells = append(cells, strings.TrimSpace(cell.String()))
			cell.Reset()
			continue
		}
		cell.WriteRune(r)
	}
	return append(cells, strings.TrimSpace(cell.String()))
}

// cellsOf is the named column of every row.
func (tb docTable) cellsOf(name string) ([]string, error) {
	for i, h := range tb.Header {
		if h != name {
			continue
		}
		out := make([]string, 0, len(tb.Rows))
		for _, row := range tb.Rows {
			if i < len(row) {
				out = append(out, row[i])
			} else {
				out = append(out, "")
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("table without a %q column (header %q)", name, tb.Header)
}

// rawSpans are the texts in backticks of a cell.
func rawSpans(cell string) []string {
	var out []string
	for _, m := range codeSpan.FindAllStringSubmatch(cell, -1) {
		out = append(out, m[1])
	}
	return out
}

// codeSpans are the names in backticks of a cell, each cut at its first colon or space
// ("`ok: true`" is ok).
func codeSpans(cell string) []string {
	out := rawSpans(cell)
	for i, s := range out {
		s, _, _ = strings.Cut(s, ":")
		out[i], _, _ = strings.Cut(s, " ")
	}
	return out
}

// column is every code span of a named column of a section's table, in order, once each.
func column(md, title, name string) ([]string, error) {
	tb, err := firstTable(md, title)
	if err != nil {
		return nil, err
	}
	cells, err := tb.cellsOf(name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", title, err)
	}
	var out []string
	seen := map[string]bool{}
	for _, c := range cells {
		for _, v := range codeSpans(c) {
			if !seen[v] {
				seen[v] = true
				out = append(out, v)
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no names in column %q", title, name)
	}
	return out, nil
}

// firstColumn is column, with each row required to name exactly one thing.
func firstColumn(md, title, name string) ([]string, error) {
	out, err := column(md, title, name)
	if err != nil {
		return nil, err
	}
	tb, _ := firstTable(md, title)
	if len(out) != len(tb.Rows) {
		return nil, fmt.Errorf("%s: %d rows but %d names in %q", title, len(tb.Rows), len(out), name)
	}
	return out, nil
}

// frameTable reads a table of ops and their fields.
func frameTable(md, title string) ([]docFrame, error) {
	tb, err := firstTable(md, title)
	if err != nil {
		return nil, err
	}
	ops, err := tb.cellsOf("op")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", title, err)
	}
	fields, err := tb.cellsOf("fields")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", title, err)
	}
	var out []docFrame
	for i, cell := range ops {
		op := codeSpans(cell)
		if len(op) != 1 {
			return nil, fmt.Errorf("%s: row %d names %d ops", title, i+1, len(op))
		}
		// A parenthesis explains a field ("`recovered` (subscribe with `since` only)").
		out = append(out, docFrame{Op: op[0], Fields: codeSpans(parenthesis.ReplaceAllString(fields[i], ""))})
	}
	return out, nil
}

// closeCodeTable reads the close codes and their names.
func closeCodeTable(md string) ([]docCloseCode, error) {
	const title = "Limits and close codes"
	tb, err := firstTable(md, title)
	if err != nil {
		return nil, err
	}
	codes, err := tb.cellsOf("code")
	if err != nil {
		return nil, err
	}
	names, err := tb.cellsOf("name")
	if err != nil {
		return nil, err
	}
	var out []docCloseCode
	for i, c := range codes {
		code, err := strconv.Atoi(c)
		if err != nil {
			return nil, fmt.Errorf("%s: row %d: code %q is not a number", title, i+1, c)
		}
		out = append(out, docCloseCode{Code: code, Name: parenthesis.ReplaceAllString(names[i], "")})
	}
	return out, nil
}

// eventTable reads the product's event types by channel kind; rows whose channel is
// not one of the product's ("anything") name no types of their own.
func eventTable(md string) (map[string][]string, error) {
	const title = "Product channels and events"
	tb, err := firstTable(md, title)
	if err != nil {
		return nil, err
	}
	channels, err := tb.cellsOf("channel")
	if err != nil {
		return nil, err
	}
	types, err := tb.cellsOf("event `type`")
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for i, c := range channels {
		spans := rawSpans(c)
		if len(spans) == 0 {
			continue
		}
		kind, _, ok := strings.Cut(spans[0], ":{")
		if !ok {
			return nil, fmt.Errorf("%s: row %d: channel %q is not kind:{id}", title, i+1, spans[0])
		}
		out[kind] = append(out[kind], codeSpans(types[i])...)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no event types", title)
	}
	return out, nil
}

// jsonFrames are the lines of the doc's json code blocks that are frames (objects
// with an op).
func jsonFrames(md string) []string {
	var out []string
	in := false
	for _, line := range strings.Split(md, "\n") {
		switch trimmed := strings.TrimSpace(line); {
		case strings.HasPrefix(trimmed, "```"):
			in = trimmed == "```json"
		case in && trimmed != "":
			var f struct {
				Op *string `json:"op"`
			}
			if json.Unmarshal([]byte(trimmed), &f) == nil && f.Op != nil {
				out = append(out, trimmed)
			}
		}
	}
	return out
}

// TestProtocolDocParser reads the real doc and shows that a frame, error code, close
// code or event type added to its tables is picked up, so the declaration check sees it.
func TestProtocolDocParser(t *testing.T) {
	md, err := os.ReadFile("../docs/protocol.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := readProtocolDoc(t)
	t.Logf("docs/protocol.md v%d: %d server frames, %d client frames, %d error codes, %d close codes, events %v, %d notification kinds, %d examples",
		doc.Version, len(doc.ServerFrames), len(doc.ClientFrames), len(doc.ErrorCodes), len(doc.CloseCodes), doc.Events, len(doc.NotificationKinds), len(doc.Examples))

	added := addRows(t, string(md), map[string]string{
		"### Server → client":                        "| `token` | `id`, `expires_at` | a new server frame |",
		"### Client → server":                        "| `refresh` | `id`, `token` | `reply` |",
		"## Error codes":                             "| `token_expired` | the token ran out | refresh |",
		"## Limits and close codes":                  "| 4003 | token expired | the token ran out | refresh |",
		"## Product channels and events (GigStream)": "| `gig:{id}` | `gig.updated` | yes | `{gig}` |",
	})
	grown, err := parseProtocolDoc(added)
	if err != nil {
		t.Fatal(err)
	}
	last := func(f []docFrame) docFrame { return f[len(f)-1] }
	checks := []struct {
		what      string
		got, want string
	}{
		{"server frame", fmt.Sprint(last(grown.ServerFrames)), "{token [id expires_at]}"},
		{"client frame", fmt.Sprint(last(grown.ClientFrames)), "{refresh [id token]}"},
		{"error code", grown.ErrorCodes[len(grown.ErrorCodes)-1], "token_expired"},
		{"close code", fmt.Sprint(grown.CloseCodes[len(grown.CloseCodes)-1]), "{4003 token expired}"},
		{"event type", fmt.Sprint(grown.Events["gig"]), "[gig.updated]"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("a documented %s was read as %s, want %s", c.what, c.got, c.want)
		}
	}
	if _, err := parseProtocolDoc(strings.Replace(string(md), "## Error codes", "## Errors", 1)); err == nil {
		t.Error("a doc without its error-code section parsed")
	}
}

// addRows appends a row to the first table under each heading.
func addRows(t *testing.T, md string, rows map[string]string) string {
	t.Helper()
	for heading, row := range rows {
		at := strings.Index(md, "\n"+heading+"\n")
		if at < 0 {
			t.Fatalf("no heading %q", heading)
		}
		rest := md[at:]
		start := strings.Index(rest, "\n|")
		end := start + 1
		for end < len(rest) && rest[end] == '|' {
			end += strings.Index(rest[end:], "\n") + 1
		}
		md = md[:at+end] + row + "\n" + md[at+end:]
	}
	return md
}
