package market

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"unicode/utf8"
)

// disputeRequestHash fingerprints a step, so that a retry under the same key matches
// and a different request under it does not.
func disputeRequestHash(in DisputeChange) string {
	sum := sha256.Sum256([]byte(in.Step + "\n" + in.Text))
	return hex.EncodeToString(sum[:])
}

// checkDisputeText trims text and holds it to 10…2000 characters (reason) or
// 1…2000 (answer), naming field when it does not fit.
func checkDisputeText(text, field string, least int) (string, error) {
	text = strings.TrimSpace(text)
	if n := utf8.RuneCountInString(text); n < least || n > 2000 || !utf8.ValidString(text) {
		return "", FieldError(CodeInvalid, field, "must be plain text of "+strconv.Itoa(least)+" to 2000 characters")
	}
	return text, nil
}

// replayed applies the Idempotency-Key rule to a step already taken under key with
// hash: the same request replays, another one is invalid.
func replayed(hash, requestHash string) (DisputeDecision, error) {
	if hash != requestHash {
		return DisputeDecision{}, FieldError(CodeInvalid, "Idempotency-Key", "was already used for a different request on this order; use a new key")
	}
	return DisputeDecision{Replay: true}, nil
}

// decideDispute is the pure rule of a party's step on a locked order and its latest
// dispute (nil when none):
//   - open: the buyer, on a paid, delivered or revision_requested order → disputed;
//   - answer: the seller, once, on an open dispute;
//   - withdraw: the buyer, on an open dispute → the status the order had.
//
// A step repeated under the key that took it replays; the other party is forbidden;
// a step the dispute's state does not allow is a conflict.
func decideDispute(in DisputeChange, ord Order, d *Dispute) (DisputeDecision, error) {
	isBuyer := in.UserID == ord.BuyerID
	switch in.Step {
	case DisputeOpenStep:
		if d != nil && d.OpenedBy == in.UserID && d.OpenKey == in.IdempotencyKey {
			return replayed(d.OpenHash, in.RequestHash)
		}
		if !isBuyer {
			return DisputeDecision{}, Errorf(CodeForbidden, "only the buyer opens a dispute")
		}
		next, err := NextStatus(ord.Status, ActionDispute)
		if err != nil {
			return DisputeDecision{}, err
		}
		return DisputeDecision{Status: next, EventType: "order.disputed"}, nil
	case DisputeAnswerStep:
		if d != nil && d.ResponseKey != nil && *d.ResponseKey == in.IdempotencyKey && !isBuyer {
			return replayed(deref(d.ResponseHash), in.RequestHash)
		}
		if isBuyer {
			return DisputeDecision{}, Errorf(CodeForbidden, "only the seller answers a dispute")
		}
		if err := requireOpen(d); err != nil {
			return DisputeDecision{}, err
		}
		if d.Response != nil {
			return DisputeDecision{}, Errorf(CodeConflict, "the seller answered this dispute already")
		}
		return DisputeDecision{Status: ord.Status, EventType: "order.dispute_answered"}, nil
	case DisputeWithdrawStep:
		if d != nil && d.WithdrawKey != nil && *d.WithdrawKey == in.IdempotencyKey && isBuyer {
			return DisputeDecision{Replay: true}, nil // a withdrawal has no body to differ
		}
		if !isBuyer {
			return DisputeDecision{}, Errorf(CodeForbidden, "only the buyer withdraws a dispute")
		}
		if err := requireOpen(d); err != nil {
			return DisputeDecision{}, err
		}
		next, err := WithdrawnStatus(ord.Status, d.PriorStatus)
		if err != nil {
			return DisputeDecision{}, err
		}
		return DisputeDecision{Status: next, EventType: "order.dispute_withdrawn"}, nil
	}
	return DisputeDecision{}, Errorf(CodeInvalid, "unknown dispute step %q", in.Step)
}

// requireOpen is a conflict unless d is an open dispute.
func requireOpen(d *Dispute) error {
	if d == nil || d.Status != DisputeOpen {
		return Errorf(CodeConflict, "the order has no open dispute")
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
