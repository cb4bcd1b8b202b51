package market

import (
	"context"
	"log/slog"
	"time"
)

// Disputes holds the parties' side of disputes: open, answer, withdraw and read.
type Disputes struct {
	store    DisputeStore
	realtime *Realtime
	log      *slog.Logger
}

// NewDisputes returns the dispute use cases over their collaborators.
func NewDisputes(s DisputeStore, rt *Realtime, log *slog.Logger) *Disputes {
	if log == nil {
		log = slog.Default()
	}
	return &Disputes{store: s, realtime: rt, log: log}
}

// Dispute is a buyer's complaint about an order, the seller's one answer, and how it
// ended: withdrawn by the buyer, or resolved by an admin refunding RefundMinor.
type Dispute struct {
	ID             string      `json:"id" db:"id"`
	OrderID        string      `json:"order_id" db:"order_id"`
	OpenedBy       string      `json:"opened_by" db:"opened_by"`
	Reason         string      `json:"reason" db:"reason"`
	PriorStatus    OrderStatus `json:"prior_status" db:"prior_status"` // where a withdrawal returns the order
	Status         string      `json:"status" db:"status"`             // open, withdrawn, resolved
	Response       *string     `json:"response" db:"response"`
	RespondedAt    *time.Time  `json:"responded_at" db:"responded_at"`
	WithdrawnAt    *time.Time  `json:"withdrawn_at" db:"withdrawn_at"`
	ResolvedBy     *string     `json:"resolved_by" db:"resolved_by"`
	RefundMinor    *int64      `json:"refund_minor" db:"refund_minor"`
	ResolutionNote *string     `json:"resolution_note" db:"resolution_note"`
	ResolvedAt     *time.Time  `json:"resolved_at" db:"resolved_at"`
	CreatedAt      time.Time   `json:"created_at" db:"created_at"`
	OpenKey        string      `json:"-" db:"open_key"`
	OpenHash       string      `json:"-" db:"open_hash"`
	ResponseKey    *string     `json:"-" db:"response_key"`
	ResponseHash   *string     `json:"-" db:"response_hash"`
	WithdrawKey    *string     `json:"-" db:"withdraw_key"`
}

// The statuses of a dispute.
const (
	DisputeOpen      = "open"
	DisputeWithdrawn = "withdrawn"
	DisputeResolved  = "resolved"
)

// The steps of a dispute that its parties take (an admin's resolution is a final
// action of Settlement).
const (
	DisputeOpenStep     = "open"
	DisputeAnswerStep   = "answer"
	DisputeWithdrawStep = "withdraw"
)

// DisputeChange is one party's step on an order's dispute, under an Idempotency-Key:
// Text is the reason (open) or the answer (answer).
type DisputeChange struct {
	OrderID, UserID string
	Step            string
	Text            string
	IdempotencyKey  string
	RequestHash     string
}

// DisputeDecision is what a step does to the locked order: replay the earlier
// identical request (nothing written), or move the order to Status and store the
// event EventType.
type DisputeDecision struct {
	Replay    bool
	Status    OrderStatus
	EventType string
}

// DisputeOutcome is a step's result: the order and its dispute as they are now,
// whether it replayed, and the events stored with it.
type DisputeOutcome struct {
	Order    Order
	Dispute  Dispute
	Replayed bool
	Events   []Event
}

// DisputeStore keeps disputes; store/ implements it. ChangeDispute locks the order
// (not found for anyone but its buyer and seller), calls decide with it and its latest
// dispute (nil when none), and writes the decided step with its event in the same
// transaction; an error from decide writes nothing. LatestDispute returns the order's
// latest dispute to its parties, or to anyone when admin; not found otherwise, and
// when the order has none.
type DisputeStore interface {
	ChangeDispute(ctx context.Context, in DisputeChange, decide func(Order, *Dispute) (DisputeDecision, error)) (DisputeOutcome, error)
	LatestDispute(ctx context.Context, orderID, userID string, admin bool) (Dispute, error)
}
