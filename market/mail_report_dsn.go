package market

import (
	"fmt"
	"mime/multipart"
	"net/mail"
	"strings"
)

// parseDeliveryStatus reads an RFC 3464 report: the message/delivery-status part is a
// group of per-message fields, then one group per recipient.
func parseDeliveryStatus(mr *multipart.Reader) (MailReport, error) {
	parts, err := reportParts(mr)
	if err != nil {
		return MailReport{}, err
	}
	status, ok := findPart(parts, "message/delivery-status", "message/global-delivery-status")
	if !ok {
		return MailReport{}, fmt.Errorf("%w: no message/delivery-status part", ErrNotAReport)
	}
	groups, err := fieldGroups(status.body)
	if err != nil {
		return MailReport{}, err
	}
	rep := MailReport{Reason: ReasonBounce}
	for _, g := range groups {
		if rc, ok := permanentFailure(g); ok {
			rep.Recipients = append(rep.Recipients, rc)
		}
	}
	return rep, nil
}

// permanentFailure returns the recipient of a per-recipient group whose delivery
// failed for good: Action failed and a Status of class 5. A group without a
// recipient (the per-message fields) or with an unreadable address is skipped.
func permanentFailure(g map[string][]string) (ReportedRecipient, bool) {
	action := strings.ToLower(strings.TrimSpace(first(g, "Action")))
	status := strings.TrimSpace(first(g, "Status"))
	if action != "failed" || !strings.HasPrefix(status, "5.") {
		return ReportedRecipient{}, false
	}
	addr, ok := typedAddress(first(g, "Final-Recipient"))
	if !ok {
		addr, ok = typedAddress(first(g, "Original-Recipient"))
	}
	if !ok {
		return ReportedRecipient{}, false
	}
	return ReportedRecipient{Email: addr, Status: cut(status, 32), Diagnostic: cut(first(g, "Diagnostic-Code"), maxDiagnostic)}, true
}

// typedAddress reads an RFC 3464 address field, "rfc822; user@example.com", and
// returns the lower-cased address.
func typedAddress(field string) (string, bool) {
	typ, addr, ok := strings.Cut(field, ";")
	if !ok || !strings.EqualFold(strings.TrimSpace(typ), "rfc822") {
		return "", false
	}
	return plainAddress(addr)
}

// plainAddress parses one address, with or without angle brackets and a name.
func plainAddress(s string) (string, bool) {
	a, err := mail.ParseAddress(strings.TrimSpace(s))
	if err != nil {
		return "", false
	}
	return NormalizeEmail(a.Address), true
}

// first is the first value of a field, "" when absent.
func first(g map[string][]string, key string) string {
	if v := g[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// cut shortens s to at most n bytes on a rune boundary.
func cut(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
