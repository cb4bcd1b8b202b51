package market

import (
	"context"
	"fmt"
)

// FoldLedger adds the postings the database deferred (credits of the platform's and
// tax accounts, the outside world's postings: they take no shared row lock when
// posted) to their balance rows, and returns how many accounts it folded. Balances
// are the same before and after; the settlement run calls it so the deferred rows
// stay few. It returns the store's error.
func (s *Settlement) FoldLedger(ctx context.Context) (int, error) {
	n, err := s.store.FoldLedger(ctx)
	if err != nil {
		return n, fmt.Errorf("fold ledger: %w", err)
	}
	return n, nil
}
