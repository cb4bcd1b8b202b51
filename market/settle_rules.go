package market

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
)

// settleRequestHash fingerprints what a final action asks, so that a retry under the
// same key matches and a different request under it does not.
func settleRequestHash(in SettleRequest) string {
	sum := sha256.Sum256([]byte(in.Action + "\n" + strconv.FormatInt(in.RefundMinor, 10) + "\n" + in.Reason))
	return hex.EncodeToString(sum[:])
}

// errNotDue is the decision of auto-complete on an order that is no longer due (it
// was accepted, cancelled or re-delivered meanwhile); nothing is written.
var errNotDue = Errorf(CodeConflict, "the order is no longer due for auto-completion")

// decideSettlement is the pure rule of a final action on a locked order:
//   - an earlier final action by the same user under the same key and request is
//     replayed; the same key with another request is invalid (Idempotency-Key); any
//     other earlier final action is a conflict (the order is settled already);
//   - complete: the buyer, on a delivered order; the escrow goes to the seller less
//     the fee;
//   - auto_complete: a delivered order delivered before in.DeliveredBefore;
//   - cancel: buyer or seller on a placed order (no money moved); the seller on a paid,
//     delivered or revision_requested order, refunding the buyer in full; the buyer of
//     a paid order is forbidden (the seller or an admin cancels it);
//   - refund: an admin, on a paid, delivered or revision_requested order: RefundMinor
//     (1…price) back to the buyer, the rest to the seller less the fee on that rest.
func decideSettlement(in SettleRequest, ord Order, prior *PriorSettlement, feeBPS int) (SettleDecision, error) {
	if prior != nil {
		if in.Action == SettleAutoComplete {
			return SettleDecision{}, errNotDue
		}
		if prior.UserID != nil && *prior.UserID == in.UserID && prior.IdempotencyKey == in.IdempotencyKey {
			if prior.RequestHash != in.RequestHash {
				return SettleDecision{}, FieldError(CodeInvalid, "Idempotency-Key", "was already used for a different request on this order; use a new key")
			}
			return SettleDecision{Replay: true}, nil
		}
		return SettleDecision{}, Errorf(CodeConflict, "the order is %s already", ord.Status)
	}
	isBuyer, isSeller := in.UserID != "" && in.UserID == ord.BuyerID, in.UserID != "" && in.UserID == ord.SellerID
	switch in.Action {
	case SettleComplete:
		if !isBuyer {
			return SettleDecision{}, Errorf(CodeForbidden, "only the buyer accepts the delivery")
		}
		return release(ord, ActionComplete, 0, feeBPS, "order.completed")
	case SettleAutoComplete:
		if ord.Status != OrderDelivered || ord.DeliveredAt == nil || !ord.DeliveredAt.Before(in.DeliveredBefore) {
			return SettleDecision{}, errNotDue
		}
		return release(ord, ActionComplete, 0, feeBPS, "order.completed")
	case SettleCancel:
		return decideCancel(ord, isSeller, feeBPS)
	case SettleRefund:
		if !in.Admin {
			return SettleDecision{}, Errorf(CodeForbidden, "only an admin refunds an order")
		}
		if in.RefundMinor < 1 || in.RefundMinor > ord.PriceMinor {
			return SettleDecision{}, FieldError(CodeInvalid, "amount_minor", "must be between 1 and the order's price, "+strconv.FormatInt(ord.PriceMinor, 10))
		}
		d, err := release(ord, ActionRefund, in.RefundMinor, feeBPS, "order.refunded")
		d.Reason = in.Reason
		return d, err
	case SettleResolve:
		return decideResolve(in, ord, feeBPS)
	}
	return SettleDecision{}, Errorf(CodeInvalid, "unknown action %q", in.Action)
}

// decideCancel applies who may cancel what.
func decideCancel(ord Order, isSeller bool, feeBPS int) (SettleDecision, error) {
	if ord.Status == OrderPlaced {
		next, err := NextStatus(ord.Status, ActionCancel)
		return SettleDecision{Status: next, EventTypes: []string{"order.cancelled"}}, err
	}
	if _, err := NextStatus(ord.Status, ActionRefund); err != nil {
		return SettleDecision{}, err
	}
	if !isSeller {
		return SettleDecision{}, Errorf(CodeForbidden, "a paid order is cancelled by its seller (full refund) or an admin")
	}
	d, err := release(ord, ActionRefund, ord.PriceMinor, feeBPS, "order.cancelled", "order.refunded")
	d.Reason = "cancelled by the seller"
	return d, err
}

// release is the decision to move a paid order by action, refunding refund of its
// escrow and giving the rest to the seller.
func release(ord Order, action OrderAction, refund int64, feeBPS int, events ...string) (SettleDecision, error) {
	next, err := NextStatus(ord.Status, action)
	if err != nil {
		return SettleDecision{}, err
	}
	return SettleDecision{Status: next, Paid: true, Split: SplitOrder(ord, refund, feeBPS), EventTypes: events}, nil
}
