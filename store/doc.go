// Package store owns every SQL statement of GigStream: it opens the PostgreSQL pool,
// runs the embedded migrations, and implements the domain's storage interfaces
// (market.AccountStore, market.ChatStore, …) and the tus engine's StateStore, each
// asserted beside its implementation.
//
// Files follow market's concepts: store/order.go is the SQL of market/order.go,
// store/chat_message.go of market/chat_message.go, and so on; the tables keep their
// own names (conversations, messages, order_settlements). Each method begins a
// transaction where it writes, takes the rows it changes under lock, and writes its
// durable events (events) in the same transaction; callers publish them after commit.
// Not found is an error wrapping ErrNotFound, never a nil result.
package store
