// Package market is GigStream's domain: its types, its rules and the use cases that
// combine them. It reaches storage, mail, payments, media and the hub only through the
// small interfaces it declares (AccountStore, PaymentGateway, MediaPipeline, Publisher,
// …), which store/, push/, payments/, media/ and the hub implement and cmd/ wires in.
// It imports nothing else of ours.
//
// One concept, one file stem, the same in handlers/, market/ and store/:
//
//	account       Accounts: registration, sign-in, recovery, identities, profile, export, deletion
//	chat          Chat: conversations, messages, blocks, devices and push
//	gig           Gigs: the catalogue, its search and sorts, a seller's own gigs
//	order         Orders: placing, payment (Stripe, PayPal), deliveries and revisions
//	settle        Settlement: accept, cancel, refund, clearing, balances, withdrawals
//	dispute       Disputes: open, answer, withdraw; the resolution settles the order
//	review        Reviews: a rating per completed order, answers, summaries, insights
//	notification  Notifications: the routing table, in-app list, switches, e-mail
//	upload        Uploads: the pipeline's rows, access, deliverables, resumable uploads
//	realtime      Realtime: channel rules, durable events, the outbox relay
//	audit         Audit: the ledger statement, the admins' queue and ledger check
//
// The concept's own file (gig.go) opens with its service (Gigs), then its config, its
// store interface and its types; the use cases and rules of one aspect live in
// concept_aspect.go (gig_search.go, gig_rules.go). Files named *_rules.go hold pure
// decisions with no I/O, tested without a database.
//
// Errors are *Error values with a Code (CodeInvalid naming the Field, CodeConflict,
// CodeNotFound, …) or wrap ErrNotFound; handlers/errors.go maps each Code to its one
// HTTP status.
package market
