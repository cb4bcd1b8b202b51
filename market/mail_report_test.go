package market

import (
	"errors"
	"strings"
	"testing"
)

// dsnReport is an RFC 3464 report in the shape Postfix sends: a human part, the
// delivery-status part (per-message fields, then one group per recipient) and the
// returned headers.
func dsnReport(groups ...string) string {
	return strings.ReplaceAll(`From: MAILER-DAEMON@mx.example.net (Mail Delivery System)
To: bounces@gigstream.test
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
	boundary="B0UND"

--B0UND
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

I'm sorry to have to inform you that your message could not be delivered.

--B0UND
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net
X-Postfix-Queue-ID: 4F2C81A2
Arrival-Date: Thu,  3 Dec 2026 18:00:00 +0000 (UTC)

`+strings.Join(groups, "\n")+`
--B0UND
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

From: GigStream <no-reply@gigstream.test>
To: gone@example.net
Subject: Your order was paid

--B0UND--
`, "\n", "\r\n")
}

const failedGroup = `Final-Recipient: rfc822; Gone@Example.NET
Original-Recipient: rfc822;gone@example.net
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx.example.net
Diagnostic-Code: smtp; 550 5.1.1 <gone@example.net>: Recipient address rejected: User unknown
`

func TestParseMailReportPermanentFailure(t *testing.T) {
	rep, err := ParseMailReport(strings.NewReader(dsnReport(failedGroup)))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Reason != ReasonBounce || len(rep.Recipients) != 1 {
		t.Fatalf("report %+v", rep)
	}
	r := rep.Recipients[0]
	if r.Email != "gone@example.net" || r.Status != "5.1.1" || !strings.Contains(r.Diagnostic, "User unknown") {
		t.Fatalf("recipient %+v", r)
	}
}

func TestParseMailReportOnlyPermanentFailuresNameAnAddress(t *testing.T) {
	delayed := "Final-Recipient: rfc822; slow@example.net\nAction: delayed\nStatus: 4.4.1\n"
	transient := "Final-Recipient: rfc822; full@example.net\nAction: failed\nStatus: 4.2.2\n"
	delivered := "Final-Recipient: rfc822; fine@example.net\nAction: delivered\nStatus: 2.0.0\n"
	rep, err := ParseMailReport(strings.NewReader(dsnReport(delayed, transient, delivered, failedGroup)))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Recipients) != 1 || rep.Recipients[0].Email != "gone@example.net" {
		t.Fatalf("recipients %+v, want only gone@example.net", rep.Recipients)
	}
	rep, err = ParseMailReport(strings.NewReader(dsnReport(delayed)))
	if err != nil || len(rep.Recipients) != 0 {
		t.Fatalf("a delay: %+v, %v", rep, err)
	}
}

func arfReport(feedbackType, rcptTo string) string {
	return strings.ReplaceAll(`From: fbl@isp.example
To: abuse@gigstream.test
Subject: FW: Your order was paid
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="ARF"

--ARF
Content-Type: text/plain; charset="US-ASCII"

This is an email abuse report for an email message received from IP 192.0.2.1.

--ARF
Content-Type: message/feedback-report

Feedback-Type: `+feedbackType+`
User-Agent: SomeGenerator/1.0
Version: 1
`+rcptTo+`
--ARF
Content-Type: message/rfc822
Content-Disposition: inline

From: GigStream <no-reply@gigstream.test>
To: Ada <Ada@Example.org>
Subject: Your order was paid

Hello
--ARF--
`, "\n", "\r\n")
}

func TestParseMailReportComplaint(t *testing.T) {
	for _, tc := range []struct{ name, rcpt, want string }{
		{"original rcpt to", "Original-Rcpt-To: <ada.rcpt@example.org>", "ada.rcpt@example.org"},
		{"returned message's To", "", "ada@example.org"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := ParseMailReport(strings.NewReader(arfReport("abuse", tc.rcpt)))
			if err != nil {
				t.Fatal(err)
			}
			if rep.Reason != ReasonComplaint || len(rep.Recipients) != 1 || rep.Recipients[0].Email != tc.want || rep.Recipients[0].Status != "abuse" {
				t.Fatalf("report %+v", rep)
			}
		})
	}
	rep, err := ParseMailReport(strings.NewReader(arfReport("not-spam", "")))
	if err != nil || len(rep.Recipients) != 0 {
		t.Fatalf("a not-spam report: %+v, %v", rep, err)
	}
}

func TestParseMailReportRefusesOtherMail(t *testing.T) {
	for name, raw := range map[string]string{
		"plain mail":     "From: a@example.org\r\nTo: b@example.org\r\nSubject: hi\r\n\r\nhello\r\n",
		"other report":   "Content-Type: multipart/report; report-type=disposition-notification; boundary=x\r\n\r\n--x--\r\n",
		"no status part": "Content-Type: multipart/report; report-type=delivery-status; boundary=x\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nhi\r\n--x--\r\n",
		"not a message":  "",
	} {
		if _, err := ParseMailReport(strings.NewReader(raw)); !errors.Is(err, ErrNotAReport) {
			t.Errorf("%s: err %v, want ErrNotAReport", name, err)
		}
	}
}

// FuzzParseMailReport feeds the parser arbitrary messages: it must never panic, and
// what it returns must be usable (lower-cased addresses, bounded fields).
func FuzzParseMailReport(f *testing.F) {
	f.Add(dsnReport(failedGroup))
	f.Add(dsnReport("Final-Recipient: rfc822; slow@example.net\nAction: delayed\nStatus: 4.4.1\n"))
	f.Add(arfReport("abuse", "Original-Rcpt-To: x@example.org"))
	f.Add(arfReport("abuse", ""))
	f.Add("Content-Type: multipart/report; report-type=delivery-status; boundary=x\r\n\r\n--x\r\nContent-Type: message/delivery-status\r\n\r\nFinal-Recipient: rfc822; \"a b\"@x\r\nAction: failed\r\nStatus: 5.0.0\r\n--x--\r\n")
	f.Fuzz(func(t *testing.T, raw string) {
		rep, err := ParseMailReport(strings.NewReader(raw))
		if err != nil {
			return
		}
		if len(rep.Recipients) > maxReportRecipients+1 {
			t.Fatalf("%d recipients", len(rep.Recipients))
		}
		for _, r := range rep.Recipients {
			if r.Email != strings.ToLower(r.Email) || !strings.Contains(r.Email, "@") || len(r.Diagnostic) > maxDiagnostic {
				t.Fatalf("recipient %+v", r)
			}
		}
	})
}
