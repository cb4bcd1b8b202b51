package push

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"net/url"
	"strings"
	texttemplate "text/template"
)

// templateFS holds the email templates: for each email a NAME.html.tmpl and a
// NAME.txt.tmpl defining "content" (and, for notifications, the text template a
// "subject"), rendered inside layout.html.tmpl and layout.txt.tmpl. English ones are
// in templates/, those of another language in templates/LANG/ (German: de), each
// language with its own layout. It is read-only, so it is the one package-level
// value here.
//
//go:embed templates/*.tmpl templates/de/*.tmpl
var templateFS embed.FS

// templateData is what every template sees. Values are inserted by
// html/template in the HTML part, so a display name like "<script>" arrives
// as text, never as markup.
type templateData struct {
	Subject     string
	DisplayName string
	Link        string
	NewEmail    string
	GigTitle    string       // order notifications: user-written, escaped like every value
	Body        string       // order notifications: what happened, in a sentence or two
	From        string       // chat digests: who wrote (user-written names)
	Lines       []DigestLine // chat digests: the unread messages, oldest first
	More        int          // chat digests: unread messages not quoted
	Amount      string       // notifications: an amount, already written for the reader's language
	Currency    string       // notifications: the currency code of a withdrawal
	Note        string       // notifications: what the other party wrote (user-written)
	Rating      int          // notifications: a review's stars
	Date        string       // notifications: when it happened, written for the reader
}

// templateDir is the directory of a language's templates: English (and any language
// without templates) in templates/, German in templates/de/.
func templateDir(lang string) string {
	if lang == "de" {
		return "templates/de/"
	}
	return "templates/"
}

// VerifyEmail builds the "confirm your address" mail with a single-use link.
// It returns an error wrapping ErrInvalidEmail when to is not one address (a
// *HeaderInjectionError for CR/LF) or link is not an absolute http(s) URL.
func VerifyEmail(to, displayName, link string) (Email, error) {
	if err := checkLink(link); err != nil {
		return Email{}, err
	}
	return render("verify_email", to, "Confirm your GigStream email address",
		templateData{DisplayName: displayName, Link: link})
}

// ResetPassword builds the password-reset mail with a single-use link. Errors
// are those of VerifyEmail.
func ResetPassword(to, displayName, link string) (Email, error) {
	if err := checkLink(link); err != nil {
		return Email{}, err
	}
	return render("reset_password", to, "Reset your GigStream password",
		templateData{DisplayName: displayName, Link: link})
}

// EmailChanged builds the notice sent to the old address after the account's
// email changed to newEmail, so a hijacked account is noticed. It returns an
// error wrapping ErrInvalidEmail when to or newEmail is not one address.
func EmailChanged(to, displayName, newEmail string) (Email, error) {
	if _, err := (Email{To: newEmail, Text: "-"}).validate(); err != nil {
		return Email{}, err
	}
	return render("email_changed", to, "Your GigStream email address was changed",
		templateData{DisplayName: displayName, NewEmail: newEmail})
}

// EmailInUse builds the notice sent to the owner of an address when someone asks to
// move another account to it. Its text is fixed: it carries nothing the requester
// wrote. It returns an error wrapping ErrInvalidEmail when to is not one address.
func EmailInUse(to, displayName string) (Email, error) {
	return render("email_in_use", to, "Someone tried to use your GigStream email address",
		templateData{DisplayName: displayName})
}

// render executes NAME.txt.tmpl and NAME.html.tmpl inside their layouts and
// validates the result. Templates are parsed per call: mail is rare, parsing
// takes microseconds, and it keeps parsed state out of package globals.
func render(name, to, subject string, data templateData) (Email, error) {
	return renderIn("en", name, to, subject, data)
}

// renderIn is render in the templates of lang (see templateDir). An empty subject is
// taken from the text template's "subject", with its white space collapsed (a title
// a user wrote never breaks the header).
func renderIn(lang, name, to, subject string, data templateData) (Email, error) {
	dir := templateDir(lang)
	if subject == "" {
		t, err := texttemplate.ParseFS(templateFS, dir+name+".txt.tmpl")
		if err != nil {
			return Email{}, fmt.Errorf("push: parse template %s.txt: %w", name, err)
		}
		var b bytes.Buffer
		if err := t.ExecuteTemplate(&b, "subject", data); err != nil {
			return Email{}, fmt.Errorf("push: render subject of %s: %w", name, err)
		}
		subject = strings.Join(strings.Fields(b.String()), " ")
	}
	data.Subject = subject
	data.DisplayName = strings.TrimSpace(data.DisplayName)
	if data.DisplayName == "" && lang != "de" {
		data.DisplayName = "there"
	}
	text, err := renderText(dir, name, data)
	if err != nil {
		return Email{}, err
	}
	html, err := renderHTML(dir, name, data)
	if err != nil {
		return Email{}, err
	}
	e := Email{To: to, Subject: subject, Text: text, HTML: html}
	if _, err := e.validate(); err != nil {
		return Email{}, err
	}
	return e, nil
}

func renderText(dir, name string, data templateData) (string, error) {
	t, err := texttemplate.ParseFS(templateFS, dir+"layout.txt.tmpl", dir+name+".txt.tmpl")
	if err != nil {
		return "", fmt.Errorf("push: parse template %s.txt: %w", name, err)
	}
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, "layout", data); err != nil {
		return "", fmt.Errorf("push: render template %s.txt: %w", name, err)
	}
	return b.String(), nil
}

func renderHTML(dir, name string, data templateData) (string, error) {
	t, err := htmltemplate.ParseFS(templateFS, dir+"layout.html.tmpl", dir+name+".html.tmpl")
	if err != nil {
		return "", fmt.Errorf("push: parse template %s.html: %w", name, err)
	}
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, "layout", data); err != nil {
		return "", fmt.Errorf("push: render template %s.html: %w", name, err)
	}
	return b.String(), nil
}

// checkLink accepts only absolute http(s) URLs: anything else (javascript:,
// relative paths) in a mail button is a bug or an attack.
func checkLink(link string) error {
	u, err := url.Parse(link)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%w: link %q is not an absolute http(s) URL", ErrInvalidEmail, link)
	}
	return nil
}
