package market

import (
	"fmt"
	"time"
)

// QuietHours is a daily span, in the user's time zone, during which pushes are held
// until it ends. Start after End spans midnight (22:00–07:00).
type QuietHours struct {
	Start    int    // minutes after local midnight, 0…1439
	End      int    // minutes after local midnight, 0…1439, not Start
	TimeZone string // an IANA name, e.g. "Europe/Berlin"
}

func (q *QuietHours) validate() error {
	if _, err := time.LoadLocation(q.TimeZone); err != nil || q.TimeZone == "" || q.TimeZone == "Local" {
		return FieldError(CodeInvalid, "quiet_hours.time_zone", "must be an IANA time zone such as Europe/Berlin")
	}
	if q.Start < 0 || q.Start >= minutesPerDay {
		return FieldError(CodeInvalid, "quiet_hours.start", "must be a time of day HH:MM")
	}
	if q.End < 0 || q.End >= minutesPerDay {
		return FieldError(CodeInvalid, "quiet_hours.end", "must be a time of day HH:MM")
	}
	if q.Start == q.End {
		return FieldError(CodeInvalid, "quiet_hours.end", "must differ from start")
	}
	return nil
}

const minutesPerDay = 24 * 60

// HoldUntil returns when the quiet hours around now end, or the zero time when now is
// outside them. An unknown time zone (which validation keeps out) counts as UTC.
func (q QuietHours) HoldUntil(now time.Time) time.Time {
	loc, err := time.LoadLocation(q.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	local := now.In(loc)
	m := local.Hour()*60 + local.Minute()
	var inside, endsTomorrow bool
	if q.Start < q.End {
		inside = m >= q.Start && m < q.End
	} else {
		inside = m >= q.Start || m < q.End
		endsTomorrow = m >= q.Start
	}
	if !inside {
		return time.Time{}
	}
	day := local.Day()
	if endsTomorrow {
		day++
	}
	// time.Date normalizes day overflow and picks the instant a DST gap moves the end to.
	return time.Date(local.Year(), local.Month(), day, q.End/60, q.End%60, 0, 0, loc)
}

// ClockText formats minutes after midnight as HH:MM.
func ClockText(minutes int) string { return fmt.Sprintf("%02d:%02d", minutes/60, minutes%60) }

// ParseClock reads HH:MM (00:00…23:59) as minutes after midnight.
func ParseClock(s string) (int, bool) {
	t, err := time.Parse("15:04", s)
	if err != nil || len(s) != 5 {
		return 0, false
	}
	return t.Hour()*60 + t.Minute(), true
}

// Languages are the languages mail is written in; DefaultLanguage is used for a user
// who chose none.
var Languages = []string{"en", "de"}

// DefaultLanguage is English.
const DefaultLanguage = "en"

// KnownLanguage reports whether lang is one of Languages.
func KnownLanguage(lang string) bool {
	for _, l := range Languages {
		if l == lang {
			return true
		}
	}
	return false
}
