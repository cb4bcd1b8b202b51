package market

import (
	"bufio"
	"bytes"
	"fmt"
	"mime/multipart"
	"net/textproto"
	"strings"
)

// parseFeedbackReport reads an RFC 5965 abuse report (ARF): the recipient who
// complained is its Original-Rcpt-To, or else the To of the returned message or
// headers. Feedback types other than abuse and fraud (not-spam, virus, other) name
// nobody.
func parseFeedbackReport(mr *multipart.Reader) (MailReport, error) {
	parts, err := reportParts(mr)
	if err != nil {
		return MailReport{}, err
	}
	fb, ok := findPart(parts, "message/feedback-report")
	if !ok {
		return MailReport{}, fmt.Errorf("%w: no message/feedback-report part", ErrNotAReport)
	}
	groups, err := fieldGroups(fb.body)
	if err != nil {
		return MailReport{}, err
	}
	rep := MailReport{Reason: ReasonComplaint}
	if len(groups) == 0 {
		return rep, nil
	}
	kind := strings.ToLower(strings.TrimSpace(first(groups[0], "Feedback-Type")))
	if kind != "abuse" && kind != "fraud" {
		return rep, nil
	}
	addr, ok := plainAddress(first(groups[0], "Original-Rcpt-To"))
	if !ok {
		addr, ok = returnedRecipient(parts)
	}
	if ok {
		rep.Recipients = append(rep.Recipients, ReportedRecipient{Email: addr, Status: kind,
			Diagnostic: cut(first(groups[0], "User-Agent"), maxDiagnostic)})
	}
	return rep, nil
}

// returnedRecipient is the To of the message (or headers) a feedback report returns.
func returnedRecipient(parts []reportPart) (string, bool) {
	p, ok := findPart(parts, "message/rfc822", "text/rfc822-headers")
	if !ok {
		return "", false
	}
	h, err := textproto.NewReader(bufio.NewReader(bytes.NewReader(p.body))).ReadMIMEHeader()
	if len(h) == 0 && err != nil {
		return "", false
	}
	return plainAddress(h.Get("To"))
}
