package market

import (
	"strconv"
	"time"
)

// monthNames are the month names of the languages other than English, January first.
var monthNames = map[string][12]string{
	"de": {"Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"},
}

// FormatDateIn writes an instant for a person who reads lang, in the time zone tz (an
// IANA name; an unknown or empty one is UTC): "3 December 2026, 15:04 UTC" in English,
// "3. Dezember 2026, 15:04 UTC" in German (the zone's abbreviation, e.g. CET, as Go
// knows it). Any other language is DefaultLanguage.
func FormatDateIn(t time.Time, lang, tz string) string {
	loc, err := time.LoadLocation(tz)
	if err != nil || tz == "" {
		loc = time.UTC
	}
	t = t.In(loc)
	clock := t.Format("15:04 MST")
	if names, ok := monthNames[lang]; ok {
		return strconv.Itoa(t.Day()) + ". " + names[t.Month()-1] + " " + strconv.Itoa(t.Year()) + ", " + clock
	}
	return t.Format("2 January 2006") + ", " + clock
}

// MailLanguage is the language mail to a user with prefs p is written in.
func MailLanguage(p NotificationPrefs) string {
	if KnownLanguage(p.Language) {
		return p.Language
	}
	return DefaultLanguage
}
