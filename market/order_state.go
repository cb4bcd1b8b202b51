package market

// OrderStatus is where an order stands in its life.
type OrderStatus string

// The statuses of an order. completed and cancelled are final.
const (
	OrderPlaced            OrderStatus = "placed"
	OrderPaid              OrderStatus = "paid"
	OrderDelivered         OrderStatus = "delivered"
	OrderRevisionRequested OrderStatus = "revision_requested"
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
)

// transitions is the order state machine: from each status, what each action leads to.
var transitions = map[OrderStatus]map[OrderAction]OrderStatus{
	OrderPlaced:            {ActionPay: OrderPaid, ActionCancel: OrderCancelled},
	OrderPaid:              {ActionDeliver: OrderDelivered, ActionRefund: OrderCancelled},
	OrderDelivered:         {ActionDeliver: OrderDelivered, ActionRequestRevision: OrderRevisionRequested, ActionComplete: OrderCompleted, ActionRefund: OrderCancelled},
	OrderRevisionRequested: {ActionDeliver: OrderDelivered, ActionRefund: OrderCancelled},
}

// NextStatus is the order state machine as a pure function: the status action leads
// to from status from. It returns a conflict Error naming the status when the action
// is not allowed there (paying twice, delivering before payment, …).
func NextStatus(from OrderStatus, action OrderAction) (OrderStatus, error) {
	if to, ok := transitions[from][action]; ok {
		return to, nil
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
	}
	return string(a)
}
