package market

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"net/textproto"
	"strings"
)

// MailReport is what a report about mail we sent says: which addresses must not be
// mailed any more, and why. Transient failures and delays name no address.
type MailReport struct {
	Reason     SuppressionReason // bounce or complaint
	Recipients []ReportedRecipient
}

// ReportedRecipient is one address a report gives up on.
type ReportedRecipient struct {
	Email      string // lower-cased
	Status     string // the DSN's Status (5.1.1) or the feedback type (abuse)
	Diagnostic string // the remote server's words, at most maxDiagnostic bytes
}

// SuppressionReason is why an address is suppressed.
type SuppressionReason string

// The reasons an address stops receiving notification mail.
const (
	ReasonBounce    SuppressionReason = "bounce"    // a permanent delivery failure (RFC 3464)
	ReasonComplaint SuppressionReason = "complaint" // the recipient reported the mail (RFC 5965)
)

// Limits on what ParseMailReport reads: a report names a handful of recipients, and
// its parts are small.
const (
	maxReportParts      = 10
	maxReportRecipients = 100
	maxReportPart       = 256 << 10
	maxDiagnostic       = 500
)

// ErrNotAReport is wrapped by ParseMailReport for a message that is not a delivery
// status notification or feedback report.
var ErrNotAReport = errors.New("not a delivery status notification or feedback report")

// ParseMailReport reads a raw RFC 5322 message (as an inbound MTA hands it over) that
// is a multipart/report of report-type delivery-status (RFC 3464) or feedback-report
// (RFC 5965). A delivery report yields the recipients whose Action is failed with a
// permanent 5.x.x Status; a feedback report yields the complaining recipient, from its
// Original-Rcpt-To or else from the To of the returned message. A report that gives up
// on nobody (a delay, a transient failure) has no recipients and no error. Errors wrap
// ErrNotAReport for anything else, or say what in the report is malformed.
func ParseMailReport(r io.Reader) (MailReport, error) {
	msg, err := mail.ReadMessage(bufio.NewReader(r))
	if err != nil {
		return MailReport{}, fmt.Errorf("%w: %w", ErrNotAReport, err)
	}
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/report" || params["boundary"] == "" {
		return MailReport{}, fmt.Errorf("%w: content type %q", ErrNotAReport, msg.Header.Get("Content-Type"))
	}
	switch strings.ToLower(params["report-type"]) {
	case "delivery-status":
		return parseDeliveryStatus(multipart.NewReader(msg.Body, params["boundary"]))
	case "feedback-report":
		return parseFeedbackReport(multipart.NewReader(msg.Body, params["boundary"]))
	}
	return MailReport{}, fmt.Errorf("%w: report-type %q", ErrNotAReport, params["report-type"])
}

// reportPart is one part of a report: its media type and its (decoded, capped) body.
type reportPart struct {
	mediaType string
	body      []byte
}

// reportParts reads up to maxReportParts parts, each cut at maxReportPart bytes.
func reportParts(mr *multipart.Reader) ([]reportPart, error) {
	var parts []reportPart
	for len(parts) < maxReportParts {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("report part %d: %w", len(parts)+1, err)
		}
		body, err := io.ReadAll(io.LimitReader(p, maxReportPart))
		if err != nil {
			return nil, fmt.Errorf("report part %d: %w", len(parts)+1, err)
		}
		mt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		parts = append(parts, reportPart{mediaType: strings.ToLower(mt), body: body})
	}
	return parts, nil
}

// findPart returns the first part of one of the media types.
func findPart(parts []reportPart, mediaTypes ...string) (reportPart, bool) {
	for _, p := range parts {
		for _, mt := range mediaTypes {
			if p.mediaType == mt {
				return p, true
			}
		}
	}
	return reportPart{}, false
}

// fieldGroups reads the blank-line separated groups of header fields of a
// message/delivery-status or message/feedback-report body. Each round consumes at
// least one line, so the loop ends with the (capped) body.
func fieldGroups(body []byte) ([]textproto.MIMEHeader, error) {
	tr := textproto.NewReader(bufio.NewReader(bytes.NewReader(bytes.TrimLeft(body, "\r\n"))))
	var groups []textproto.MIMEHeader
	for len(groups) <= maxReportRecipients {
		h, err := tr.ReadMIMEHeader()
		if len(h) > 0 {
			groups = append(groups, h)
		}
		if errors.Is(err, io.EOF) {
			return groups, nil
		}
		if err != nil {
			return groups, fmt.Errorf("report fields: %w", err)
		}
	}
	return groups, nil
}
