package push

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"time"
)

// buildMessage renders e as an RFC 5322 message: the headers a receiving MTA
// and spam filters expect (Date, Message-ID, MIME-Version), then a
// multipart/alternative body with the text part first and the HTML part last,
// since clients show the last alternative they understand. Both parts are
// quoted-printable so long lines and UTF-8 survive any relay. Lines end in CRLF.
func buildMessage(from, to *mail.Address, e Email, now time.Time) ([]byte, error) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if err := writePart(mw, "text/plain", e.Text); err != nil {
		return nil, err
	}
	if err := writePart(mw, "text/html", e.HTML); err != nil {
		return nil, err
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	var msg bytes.Buffer
	writeHeader(&msg, "From", from.String())
	writeHeader(&msg, "To", to.String())
	writeHeader(&msg, "Subject", mime.QEncoding.Encode("utf-8", e.Subject))
	writeHeader(&msg, "Date", now.Format(time.RFC1123Z))
	writeHeader(&msg, "Message-ID", messageID(from.Address))
	if e.unsubscribe != "" {
		// RFC 8058: a POST of "List-Unsubscribe=One-Click" to the URL unsubscribes,
		// so a mail client can offer the button without opening a page.
		writeHeader(&msg, "List-Unsubscribe", "<"+e.unsubscribe+">")
		writeHeader(&msg, "List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
	}
	writeHeader(&msg, "MIME-Version", "1.0")
	writeHeader(&msg, "Content-Type", mime.FormatMediaType("multipart/alternative",
		map[string]string{"boundary": mw.Boundary()}))
	msg.WriteString("\r\n")
	msg.Write(body.Bytes())
	return msg.Bytes(), nil
}

// writePart adds one quoted-printable alternative; an empty content is left out.
func writePart(mw *multipart.Writer, mediaType, content string) error {
	if content == "" {
		return nil
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Type", mediaType+"; charset=UTF-8")
	h.Set("Content-Transfer-Encoding", "quoted-printable")
	w, err := mw.CreatePart(h)
	if err != nil {
		return err
	}
	qp := quotedprintable.NewWriter(w)
	if _, err := qp.Write([]byte(content)); err != nil {
		return err
	}
	return qp.Close()
}

func writeHeader(b *bytes.Buffer, name, value string) {
	fmt.Fprintf(b, "%s: %s\r\n", name, value)
}

// messageID makes a globally unique id in the sender's domain, as RFC 5322
// asks, so replies and bounces can be threaded back to this message.
func messageID(fromAddress string) string {
	domain := "localhost"
	if at := strings.LastIndexByte(fromAddress, '@'); at >= 0 {
		domain = fromAddress[at+1:]
	}
	return fmt.Sprintf("<%s@%s>", hex.EncodeToString(randomBytes(16)), domain)
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b) // crypto/rand.Read never returns an error since Go 1.24
	return b
}
