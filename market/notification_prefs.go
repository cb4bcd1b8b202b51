package market

import (
	"context"
	"encoding/json"
	"time"
)

// NotificationPrefs are a user's notification choices: which categories reach them on
// which channel, whether pushes show details, quiet hours, and the language of mail.
// Every sender asks Allowed before it sends.
type NotificationPrefs struct {
	// Off holds the switches the user turned off; every other category and channel is on.
	Off          map[Switch]bool
	HidePreviews bool
	QuietHours   *QuietHours // nil: none
	Language     string      // one of Languages; "" means DefaultLanguage
	TimeZone     string      // the IANA zone dates in mail are written in; "" is UTC
	// ConversationMuted is set by a loader that reads the prefs for one conversation's
	// message: the user muted it, so it sends no push and no e-mail.
	ConversationMuted bool
}

// NotificationCategory groups notification kinds for the user's switches.
type NotificationCategory string

// Channel is a way a notification reaches a user.
type Channel string

// The categories and channels a user switches. CategorySecurity cannot be switched off.
const (
	CategoryMessages      NotificationCategory = "messages"
	CategoryOrders        NotificationCategory = "orders"
	CategoryDeliveries    NotificationCategory = "deliveries" // deliveries and revisions
	CategoryDisputes      NotificationCategory = "disputes"
	CategoryReviews       NotificationCategory = "reviews"
	CategoryPayments      NotificationCategory = "payments" // payments, refunds and withdrawals
	CategorySavedSearches NotificationCategory = "saved_searches"
	CategorySecurity      NotificationCategory = "security"

	ChannelInApp Channel = "in_app"
	ChannelPush  Channel = "push"
	ChannelEmail Channel = "email"
)

// Categories lists the categories in the order the API shows them; Channels the channels.
var (
	Categories = []NotificationCategory{CategoryMessages, CategoryOrders, CategoryDeliveries, CategoryDisputes,
		CategoryReviews, CategoryPayments, CategorySavedSearches, CategorySecurity}
	Channels = []Channel{ChannelInApp, ChannelPush, ChannelEmail}
	// orderCategories are what the legacy order_email and order_push switches stand for.
	orderCategories = []NotificationCategory{CategoryOrders, CategoryDeliveries, CategoryDisputes, CategoryReviews, CategoryPayments}
)

// Switch is one category on one channel.
type Switch struct {
	Category NotificationCategory
	Channel  Channel
}

// Kinds of notifications that are not order events: a chat message (push, digest
// e-mail), a saved search's new match, and an account security notice.
const (
	KindMessage          = "message"
	KindSavedSearchMatch = "saved_search_match"
	KindSecurity         = "security"
)

// kindCategories files every notification kind under the switch that governs it.
var kindCategories = map[string]NotificationCategory{
	KindMessage:           CategoryMessages,
	KindOrderPaid:         CategoryOrders,
	KindOrderCompleted:    CategoryOrders,
	KindOrderCancelled:    CategoryOrders,
	KindOrderDelivered:    CategoryDeliveries,
	KindRevisionRequested: CategoryDeliveries,
	KindOrderDisputed:     CategoryDisputes,
	KindDisputeAnswered:   CategoryDisputes,
	KindDisputeWithdrawn:  CategoryDisputes,
	KindDisputeResolved:   CategoryDisputes,
	KindReviewReceived:    CategoryReviews,
	KindReviewAnswered:    CategoryReviews,
	KindPaymentFailed:     CategoryPayments,
	KindOrderRefunded:     CategoryPayments,
	KindWithdrawalPaid:    CategoryPayments,
	KindSavedSearchMatch:  CategorySavedSearches,
	KindSecurity:          CategorySecurity,
	KindGigTakenDown:      CategorySecurity,
	KindGigRestored:       CategorySecurity,
	KindReportResolved:    CategorySecurity,
}

// CategoryOf returns the category of a notification kind; ok is false for a kind no
// category knows.
func CategoryOf(kind string) (NotificationCategory, bool) {
	c, ok := kindCategories[kind]
	return c, ok
}

// Switchable reports whether the user may turn a category off on a channel: security
// never, and messages not in-app (a chat is in the app; mute the conversation instead).
func Switchable(s Switch) bool {
	return s.Category != CategorySecurity && (s.Category != CategoryMessages || s.Channel != ChannelInApp)
}

// Enabled reports whether the switch is on.
func (p NotificationPrefs) Enabled(s Switch) bool {
	return !Switchable(s) || !p.Off[s]
}

// Allowed is the one decision every sender makes: may a notification of kind reach the
// user on channel at now? It returns false when the user switched the kind's category
// off on that channel, muted the conversation (messages, push and e-mail), or the kind
// is unknown (in-app only). It returns true and a zero time to send at once, or true and
// the end of the user's quiet hours, when a push must be held until then. Security
// notices always go at once.
func Allowed(p NotificationPrefs, kind string, ch Channel, now time.Time) (bool, time.Time) {
	cat, known := CategoryOf(kind)
	switch {
	case cat == CategorySecurity:
		return true, time.Time{}
	case !known:
		return ch == ChannelInApp, time.Time{}
	case !p.Enabled(Switch{cat, ch}):
		return false, time.Time{}
	case cat == CategoryMessages && p.ConversationMuted && ch != ChannelInApp:
		return false, time.Time{}
	case ch == ChannelPush && p.QuietHours != nil:
		return true, p.QuietHours.HoldUntil(now)
	}
	return true, time.Time{}
}

// NotificationPrefsUpdate changes the parts of the prefs that are set.
type NotificationPrefsUpdate struct {
	Switches     map[Switch]bool // switches to set on (true) or off
	HidePreviews *bool
	QuietHours   **QuietHours // set to a nil *QuietHours to clear them
	Language     *string
}

// Prefs returns the user's notification preferences.
func (n *Notifications) Prefs(ctx context.Context, userID string) (NotificationPrefs, error) {
	return n.store.NotificationPrefs(ctx, userID)
}

// SetPrefs checks and applies an update and returns the preferences after it. Errors:
// invalid naming the field (a switch that cannot be turned off, an unknown language,
// bad quiet hours); no half-applied update.
func (n *Notifications) SetPrefs(ctx context.Context, userID string, u NotificationPrefsUpdate) (NotificationPrefs, error) {
	if err := u.validate(); err != nil {
		return NotificationPrefs{}, err
	}
	return n.store.SetNotificationPrefs(ctx, userID, u)
}

func (u NotificationPrefsUpdate) validate() error {
	for s, on := range u.Switches {
		if !knownSwitch(s) {
			return FieldError(CodeInvalid, "channels", "unknown category "+string(s.Category)+" or channel "+string(s.Channel))
		}
		if !on && !Switchable(s) {
			return FieldError(CodeInvalid, "channels."+string(s.Category)+"."+string(s.Channel), "cannot be switched off")
		}
	}
	if u.Language != nil && !KnownLanguage(*u.Language) {
		return FieldError(CodeInvalid, "language", "must be one of en, de")
	}
	if u.QuietHours != nil && *u.QuietHours != nil {
		return (*u.QuietHours).validate()
	}
	return nil
}

func knownSwitch(s Switch) bool {
	okCat, okCh := false, false
	for _, c := range Categories {
		okCat = okCat || c == s.Category
	}
	for _, c := range Channels {
		okCh = okCh || c == s.Channel
	}
	return okCat && okCh
}

// LegacyOrderSwitch reports the old order_email / order_push switch on a channel: on
// when every order category is on there.
func (p NotificationPrefs) LegacyOrderSwitch(ch Channel) bool {
	for _, c := range orderCategories {
		if !p.Enabled(Switch{c, ch}) {
			return false
		}
	}
	return true
}

// SetLegacyOrderSwitch sets every order category on channel, as the old order_email and
// order_push switches did.
func (u *NotificationPrefsUpdate) SetLegacyOrderSwitch(ch Channel, on bool) {
	if u.Switches == nil {
		u.Switches = map[Switch]bool{}
	}
	for _, c := range orderCategories {
		u.Switches[Switch{c, ch}] = on
	}
}

// MarshalJSON writes the prefs as the API shows them (the account export includes
// them): every switch by category and channel, hide_previews, quiet_hours, language.
func (p NotificationPrefs) MarshalJSON() ([]byte, error) {
	chans := map[NotificationCategory]map[Channel]bool{}
	for _, c := range Categories {
		chans[c] = map[Channel]bool{}
		for _, ch := range Channels {
			chans[c][ch] = p.Enabled(Switch{c, ch})
		}
	}
	return json.Marshal(struct {
		Channels     map[NotificationCategory]map[Channel]bool `json:"channels"`
		HidePreviews bool                                      `json:"hide_previews"`
		QuietHours   *QuietHours                               `json:"quiet_hours"`
		Language     string                                    `json:"language"`
	}{chans, p.HidePreviews, p.QuietHours, p.Language})
}
