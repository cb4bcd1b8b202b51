package market

// OrderStatus is where an order stands in its life.
type OrderStatus string

// The statuses of an order. completed and cancelled are final.
const (
	OrderPlaced            OrderStatus = "placed"
	OrderPaid              OrderStatus = "paid"
	OrderDelivered         OrderStatus = "delivered"
	OrderRevisionRequested OrderStatus = "revision_requested"
	OrderDisputed          OrderStatus = "disputed" // the buyer opened a dispute; only its end moves the order
	OrderCompleted         OrderStatus = "completed"
	OrderCancelled         OrderStatus = "cancelled"
)

// OrderAction is something that moves an order.
type OrderAction string

// The actions on an order.
const (
	ActionPay             OrderAction = "pay"              // the provider confirmed the money (escrow funded)
	ActionDeliver         OrderAction = "deliver"          // the seller sends a version of the work
	ActionRequestRevision OrderAction = "request_revision" // the buyer asks for changes
	ActionComplete        OrderAction = "complete"         // the buyer accepts, or auto-complete: escrow to the seller
	ActionCancel          OrderAction = "cancel"           // before payment: no money moved yet
	ActionRefund          OrderAction = "refund"           // after payment: escrow back to the buyer, fully or partly
	ActionDispute         OrderAction = "dispute"          // the buyer opens a dispute
	ActionResolveSeller   OrderAction = "resolve_seller"   // an admin resolves a dispute with no refund: escrow to the seller
	ActionResolveRefund   OrderAction = "resolve_refund"   // an admin resolves a dispute refunding part or all of the escrow
)

// transitions is the order state machine: from each status, what each action leads to.
var transitions = map[OrderStatus]map[OrderAction]OrderStatus{
	OrderPlaced:            {ActionPay: OrderPaid, ActionCancel: OrderCancelled},
	OrderPaid:              {ActionDeliver: OrderDelivered, ActionRefund: OrderCancelled, ActionDispute: OrderDisputed},
	OrderDelivered:         {ActionDeliver: OrderDelivered, ActionRequestRevision: OrderRevisionRequested, ActionComplete: OrderCompleted, ActionRefund: OrderCancelled, ActionDispute: OrderDisputed},
	OrderRevisionRequested: {ActionDeliver: OrderDelivered, ActionRefund: OrderCancelled, ActionDispute: OrderDisputed},
	// A disputed order leaves only by its dispute: resolved here, or withdrawn back to
	// the status it had (WithdrawnStatus).
	OrderDisputed: {ActionResolveSeller: OrderCompleted, ActionResolveRefund: OrderCancelled},
}

// WithdrawnStatus is the status a disputed order returns to when its buyer withdraws
// the dispute: prior, the status it had when the dispute opened. It returns a conflict
// Error when the order is not disputed, and invalid when prior is no status a dispute
// can open from.
func WithdrawnStatus(current, prior OrderStatus) (OrderStatus, error) {
	if current != OrderDisputed {
		return "", Errorf(CodeConflict, "an order that is %s has no open dispute to withdraw", current)
	}
	if transitions[prior][ActionDispute] != OrderDisputed {
		return "", Errorf(CodeInvalid, "a dispute cannot return an order to %s", prior)
	}
	return prior, nil
}

// NextStatus is the order state machine as a pure function: the status action leads
// to from status from. It returns a conflict Error naming the status when the action
// is not allowed there (paying twice, delivering before payment, …).
func NextStatus(from OrderStatus, action OrderAction) (OrderStatus, error) {
	if to, ok := transitions[from][action]; ok {
		return to, nil
	}
	if from == OrderDisputed {
		return "", Errorf(CodeConflict, "the order is disputed: it cannot %s until an admin resolves the dispute or the buyer withdraws it", actionText(action))
	}
	return "", Errorf(CodeConflict, "an order that is %s cannot %s", from, actionText(action))
}

func actionText(a OrderAction) string {
	switch a {
	case ActionPay:
		return "be paid"
	case ActionDeliver:
		return "take a delivery"
	case ActionRequestRevision:
		return "take a revision request"
	case ActionComplete:
		return "be completed"
	case ActionCancel:
		return "be cancelled"
	case ActionRefund:
		return "be refunded"
	case ActionDispute:
		return "be disputed"
	case ActionResolveSeller, ActionResolveRefund:
		return "have a dispute resolved"
	}
	return string(a)
}
