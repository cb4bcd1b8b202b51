package market

import (
	"context"
	"strings"
)

// WithdrawalsInReview lists up to limit withdrawals waiting for an admin, oldest
// first. It returns forbidden for anyone but an admin.
func (s *Settlement) WithdrawalsInReview(ctx context.Context, admin User, after *PageKey, limit int) ([]Withdrawal, error) {
	if !admin.IsAdmin {
		return nil, Errorf(CodeForbidden, "only admins review withdrawals")
	}
	return s.store.WithdrawalsInReview(ctx, after, limit)
}

// ApproveWithdrawal is an admin letting a withdrawal above the approval threshold go:
// it becomes pending and is paid out at once (as Withdraw would). It returns
// forbidden for anyone but an admin, not found for an unknown id and conflict when
// the withdrawal is not in review (approved or rejected already).
func (s *Settlement) ApproveWithdrawal(ctx context.Context, admin User, id string) (Withdrawal, error) {
	if !admin.IsAdmin {
		return Withdrawal{}, Errorf(CodeForbidden, "only admins review withdrawals")
	}
	w, events, err := s.store.ReviewWithdrawal(ctx, id, admin.ID, true, "")
	if err != nil {
		return Withdrawal{}, err
	}
	s.publish(ctx, events)
	s.log.InfoContext(ctx, "withdrawal approved", "withdrawal_id", id, "admin_id", admin.ID)
	w, _, err = s.payOut(ctx, w)
	return w, err
}

// RejectWithdrawal is an admin refusing a withdrawal in review, with a reason the
// seller sees: its reservation is released, nothing moved. It returns forbidden for
// anyone but an admin, invalid naming reason when it is empty or over 1000
// characters, not found for an unknown id and conflict when it is not in review.
func (s *Settlement) RejectWithdrawal(ctx context.Context, admin User, id, reason string) (Withdrawal, error) {
	if !admin.IsAdmin {
		return Withdrawal{}, Errorf(CodeForbidden, "only admins review withdrawals")
	}
	reason = strings.TrimSpace(reason)
	if reason == "" || len(reason) > 1000 {
		return Withdrawal{}, FieldError(CodeInvalid, "reason", "must be 1 to 1000 characters")
	}
	w, events, err := s.store.ReviewWithdrawal(ctx, id, admin.ID, false, reason)
	if err != nil {
		return Withdrawal{}, err
	}
	s.publish(ctx, events)
	s.log.InfoContext(ctx, "withdrawal rejected", "withdrawal_id", id, "admin_id", admin.ID)
	return w, nil
}
