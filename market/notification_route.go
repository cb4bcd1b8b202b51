package market

import (
	"encoding/json"
	"strconv"
	"strings"
)

// RoutableEvent is a durable event as the router sees it: the event, and for events on
// an order's channel the order as it is now (nil when the order is gone).
type RoutableEvent struct {
	Event
	Order *Order
}

// Routed is a notification just stored, with what its push needs.
type Routed struct {
	Notification
	Prefs NotificationPrefs
}

// Recipient roles of an order notification.
const (
	toBuyer  = "buyer"
	toSeller = "seller"
)

// RouteNotifications is the routing table: what each durable event tells whom. It is
// pure, so every node routes an event the same way. Events it does not know (chat,
// uploads, its own notification events), and order events that concern nobody's
// attention (order.placed: an unpaid order is not news to the seller yet), give none.
func RouteNotifications(ev RoutableEvent) []Notification {
	if ev.Type == "balance.updated" {
		return routeBalance(ev.Event)
	}
	if strings.HasPrefix(ev.Type, "gig.") {
		return routeGigModeration(ev.Event)
	}
	if ev.Type == "report.resolved" {
		return routeReportOutcome(ev.Event)
	}
	if ev.Order == nil || !strings.HasPrefix(ev.Channel, "order:") {
		return nil
	}
	o := *ev.Order
	title := quoted(o.GigTitle)
	switch ev.Type {
	case "order.paid":
		return orderNotes(o, KindOrderPaid, "New order: "+title,
			"A buyer paid "+FormatMoney(o.PriceMinor, o.Currency)+" for "+title+". Time to get started.", amountOf(o, o.PriceMinor), toSeller)
	case "order.payment_failed":
		return orderNotes(o, KindPaymentFailed, "Payment failed", "Your payment for "+title+" did not go through.", amountOf(o, o.PriceMinor), toBuyer)
	case "order.delivered":
		return orderNotes(o, KindOrderDelivered, "Delivered: "+title, "The seller delivered your order. Review the work and accept it or ask for a revision.", NotificationFacts{}, toBuyer)
	case "order.revision_requested":
		body, facts := revisionBody(ev.Data)
		return orderNotes(o, KindRevisionRequested, "Revision requested: "+title, body, facts, toSeller)
	case "order.completed":
		return orderNotes(o, KindOrderCompleted, "Completed: "+title,
			"The order is complete; "+FormatMoney(o.SellerMinor, o.Currency)+" will be available after clearing.", amountOf(o, o.SellerMinor), toSeller)
	case "order.cancelled":
		return orderNotes(o, KindOrderCancelled, "Cancelled: "+title, "The order was cancelled.", NotificationFacts{}, toBuyer, toSeller)
	case "order.refunded":
		return routeRefund(ev)
	case "order.reviewed":
		body, facts := reviewBody(ev.Data)
		return orderNotes(o, KindReviewReceived, "New review: "+title, body, facts, toSeller)
	case "order.disputed", "order.dispute_answered", "order.dispute_withdrawn", "order.dispute_resolved":
		return routeDispute(ev)
	case "order.review_answered":
		return orderNotes(o, KindReviewAnswered, "The seller answered your review", "On "+title+".", NotificationFacts{}, toBuyer)
	}
	return nil
}

// sellerCancelReason is the refund reason of a seller's cancel of a paid order (see
// settle_rules.go); its order.cancelled notice already told both parties.
const sellerCancelReason = "cancelled by the seller"

// routeRefund tells the buyer of the money back, and the seller too unless the refund
// is part of their own cancel, which order.cancelled announced.
func routeRefund(ev RoutableEvent) []Notification {
	o := *ev.Order
	var d struct {
		Refund struct {
			AmountMinor int64  `json:"amount_minor"`
			Reason      string `json:"reason"`
		} `json:"refund"`
	}
	_ = json.Unmarshal(ev.Data, &d) // without a refund amount the order's total is shown
	amount := d.Refund.AmountMinor
	if amount == 0 {
		amount = o.RefundedMinor
	}
	roles := []string{toBuyer}
	if d.Refund.Reason != sellerCancelReason {
		roles = append(roles, toSeller)
	}
	return orderNotes(o, KindOrderRefunded, "Refunded: "+quoted(o.GigTitle),
		FormatMoney(amount, o.Currency)+" was refunded to the buyer.", amountOf(o, amount), roles...)
}

// routeBalance tells a seller their withdrawal was paid out.
func routeBalance(ev Event) []Notification {
	kind, userID, err := ParseChannel(ev.Channel)
	if err != nil || kind != "user" {
		return nil
	}
	var d struct{ Currency, Reason string }
	if json.Unmarshal(ev.Data, &d) != nil || d.Reason != "withdrawal" {
		return nil
	}
	return []Notification{{UserID: userID, Kind: KindWithdrawalPaid, Title: "Withdrawal paid",
		Body: "Your " + d.Currency + " withdrawal was paid out.", Link: "/me/withdrawals", Facts: NotificationFacts{Currency: d.Currency}}}
}

// amountOf is the facts of an amount of the order's currency.
func amountOf(o Order, minor int64) NotificationFacts {
	return NotificationFacts{AmountMinor: minor, Currency: o.Currency}
}

func orderNotes(o Order, kind, title, body string, facts NotificationFacts, roles ...string) []Notification {
	out := make([]Notification, 0, len(roles))
	for _, role := range roles {
		user := o.BuyerID
		if role == toSeller {
			user = o.SellerID
		}
		id := o.ID
		out = append(out, Notification{UserID: user, Kind: kind, Title: title, Body: body, Link: "/orders/" + o.ID, OrderID: &id, Facts: facts})
	}
	return out
}

func revisionBody(data []byte) (string, NotificationFacts) {
	var d struct {
		Revision struct{ Note string } `json:"revision"`
	}
	if json.Unmarshal(data, &d) != nil || strings.TrimSpace(d.Revision.Note) == "" {
		return "The buyer asked for a revision.", NotificationFacts{}
	}
	note := preview(d.Revision.Note)
	return "The buyer asked for a revision: " + note, NotificationFacts{Note: note}
}

func reviewBody(data []byte) (string, NotificationFacts) {
	var d struct {
		Review struct {
			Rating  int
			Comment string
		} `json:"review"`
	}
	_ = json.Unmarshal(data, &d)
	body := strconv.Itoa(d.Review.Rating) + "/5 stars"
	facts := NotificationFacts{Rating: d.Review.Rating}
	if c := strings.TrimSpace(d.Review.Comment); c != "" {
		facts.Note = preview(c)
		body += ": " + facts.Note
	}
	return body, facts
}

func quoted(s string) string { return "“" + s + "”" }
