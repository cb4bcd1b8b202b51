package store

import "github.com/gigstream/hub/market"

var (
	_ market.AccountStore = (*DB)(nil)
	_ market.EventStore   = (*DB)(nil)
	_ market.GigStore     = (*DB)(nil)
	_ market.ChatStore    = (*DB)(nil)
	_ market.UploadStore  = (*DB)(nil)
)

var _ market.OrderStore = (*DB)(nil)

var _ market.ReviewStore = (*DB)(nil)

var _ market.NotificationStore = (*DB)(nil)
