package store

import (
	"github.com/gigstream/hub/market"
)

const zeroUUID = "00000000-0000-0000-0000-000000000000"

// exportSections holds what each section exports. Object keys of uploads (original,
// poster, rendition), tus ids, virus signatures' internals, payment secrets and other
// users' e-mails are never selected; other users appear by username only.
var exportSections = map[market.ExportSection]exportSection{
	// Conversations the user is in; other members by username; messages they received are
	// counted, not copied (their text is the sender's personal data; see README).
	market.ExportConversations: {zeroUUID, `
		SELECT c.id::text AS key, json_build_object(
			'id', c.id, 'kind', c.kind, 'order_id', c.order_id, 'gig_id', c.gig_id,
			'created_at', c.created_at, 'last_activity_at', c.last_activity_at, 'last_read_seq', m.last_read_seq,
			'participants', COALESCE((SELECT json_agg(u.username ORDER BY u.username) FROM conversation_members o
				JOIN users u ON u.id = o.user_id WHERE o.conversation_id = c.id AND o.user_id <> $1), '[]'),
			'messages_received', (SELECT count(*) FROM messages x WHERE x.conversation_id = c.id AND x.sender_id <> $1)
		) AS data
		FROM conversation_members m JOIN conversations c ON c.id = m.conversation_id
		WHERE m.user_id = $1 AND c.id > $2::uuid ORDER BY c.id LIMIT $3`},
	// Messages the user sent, paged along the (sender_id, client_id) index; a deleted
	// message's text is still held, so it is exported, marked deleted.
	market.ExportMessagesSent: {zeroUUID, `
		SELECT client_id::text AS key, json_build_object(
			'id', id, 'conversation_id', conversation_id, 'body', text, 'attachments', attachments,
			'created_at', created_at, 'edited_at', edited_at, 'deleted', deleted_at IS NOT NULL, 'deleted_at', deleted_at
		) AS data
		FROM messages WHERE sender_id = $1 AND client_id > $2::uuid ORDER BY client_id LIMIT $3`},
	market.ExportBlocks: {zeroUUID, `
		SELECT b.blocked_id::text AS key, json_build_object('username', u.username, 'created_at', b.created_at) AS data
		FROM blocks b JOIN users u ON u.id = b.blocked_id
		WHERE b.blocker_id = $1 AND b.blocked_id > $2::uuid ORDER BY b.blocked_id LIMIT $3`},
	// Device tokens are credentials for pushing to the device: only their last 6
	// characters are shown. The table keeps no creation time; updated_at is the last
	// registration.
	market.ExportDeviceTokens: {"", `
		SELECT token AS key, json_build_object(
			'platform', platform, 'app_version', app_version, 'token_suffix', right(token, 6), 'updated_at', updated_at
		) AS data
		FROM device_tokens WHERE user_id = $1 AND token > $2 ORDER BY token LIMIT $3`},
	market.ExportNotifications: {zeroUUID, `
		SELECT id::text AS key, json_build_object(
			'id', id, 'kind', kind, 'title', title, 'body', body, 'link', link, 'order_id', order_id,
			'created_at', created_at, 'read_at', read_at
		) AS data
		FROM notifications WHERE user_id = $1 AND id > $2::uuid ORDER BY id LIMIT $3`},
	// Reports the user filed, with what became of them; the admin's note and name stay
	// out (see market.ReportOutcome).
	market.ExportAbuseReports: {zeroUUID, `
		SELECT id::text AS key, json_build_object(
			'id', id, 'target_kind', target_kind, 'target_id', target_id, 'excerpt', excerpt, 'reason', reason,
			'details', details, 'status', status, 'created_at', created_at, 'resolved_at', resolved_at
		) AS data
		FROM abuse_reports WHERE reporter_id = $1 AND id > $2::uuid ORDER BY id LIMIT $3`},
	market.ExportUploads: {zeroUUID, `
		SELECT id::text AS key, json_build_object(
			'id', id, 'kind', kind, 'status', status, 'filename', filename, 'content_type', content_type,
			'size', size, 'sha256', sha256, 'rejection', rejection, 'gig_id', gig_id,
			'conversation_id', conversation_id, 'order_id', order_id, 'video_status', video_status,
			'duration_ms', duration_ms, 'created_at', created_at, 'updated_at', updated_at
		) AS data
		FROM uploads WHERE owner_id = $1 AND id > $2::uuid ORDER BY id LIMIT $3`},
	market.ExportOrders: {zeroUUID, exportOrdersSQL},
	// Invoices and credit notes of the user's orders, as buyer and as seller: what each
	// states, and the path that downloads its PDF (GET, signed in, as the order's
	// parties may) once it is rendered; the file itself is not copied, as with
	// uploads. The issued document (the buyer's billing details) is the buyer's only.
	market.ExportInvoices: {zeroUUID, `
		SELECT i.id::text AS key, json_build_object(
			'id', i.id, 'order_id', i.order_id, 'role', CASE WHEN o.buyer_id = $1 THEN 'buyer' ELSE 'seller' END,
			'kind', i.kind, 'number', i.document->>'number', 'credits_number', i.document->>'credits_number',
			'currency', i.currency, 'net_minor', i.net_minor, 'tax_minor', i.tax_minor, 'total_minor', i.total_minor,
			'issued_at', i.issued_at, 'lines', i.document->'lines',
			'customer', CASE WHEN o.buyer_id = $1 THEN i.document->'customer' END,
			'pdf_url', CASE WHEN i.object_key IS NOT NULL THEN '/invoices/' || i.id || '/pdf' END
		) AS data
		FROM orders o JOIN invoices i ON i.order_id = o.id
		WHERE (o.buyer_id = $1 OR o.seller_id = $1) AND i.id > $2::uuid ORDER BY i.id LIMIT $3`},
	market.ExportWithdrawals: {zeroUUID, `
		SELECT id::text AS key, json_build_object(
			'id', id, 'amount_minor', amount_minor, 'currency', currency, 'status', status,
			'provider_ref', provider_ref, 'failure', failure, 'created_at', created_at, 'updated_at', updated_at
		) AS data
		FROM withdrawals WHERE user_id = $1 AND id > $2::uuid ORDER BY id LIMIT $3`},
	// Postings on the user's seller accounts (pending and available earnings).
	market.ExportLedgerPostings: {"0", `
		SELECT p.id::text AS key, json_build_object(
			'id', p.id, 'transaction_id', p.transaction_id, 'kind', t.kind, 'order_id', t.order_id,
			'account', split_part(p.account, ':', 3), 'amount_minor', p.amount_minor, 'currency', p.currency,
			'created_at', p.created_at
		) AS data
		FROM ledger_postings p JOIN ledger_transactions t ON t.id = p.transaction_id
		WHERE p.account IN ('seller:' || $1 || ':pending', 'seller:' || $1 || ':available')
			AND p.id > $2::bigint ORDER BY p.id LIMIT $3`},
}

// exportOrdersSQL exports the user's orders as buyer and as seller with what hangs off
// each (deliveries and their files' metadata, revision requests, disputes, the review);
// a page's nested lists are small, as each order has few of them.
const exportOrdersSQL = `
	SELECT o.id::text AS key, json_build_object(
		'id', o.id, 'role', CASE WHEN o.buyer_id = $1 THEN 'buyer' ELSE 'seller' END,
		'counterparty', (SELECT username FROM users WHERE id = CASE WHEN o.buyer_id = $1 THEN o.seller_id ELSE o.buyer_id END),
		'gig_id', o.gig_id, 'gig_title', o.gig_title, 'package_tier', o.package_tier, 'package_title', o.package_title,
		'price_minor', o.price_minor, 'currency', o.currency, 'refunded_minor', o.refunded_minor,
		'fee_minor', o.fee_minor, 'seller_minor', o.seller_minor, 'status', o.status,
		'revisions_allowed', o.revisions_allowed, 'revisions_used', o.revisions_used, 'delivery_days', o.delivery_days,
		'due_at', o.due_at, 'paid_at', o.paid_at, 'delivered_at', o.delivered_at, 'settled_at', o.settled_at,
		'cleared_at', o.cleared_at, 'created_at', o.created_at, 'updated_at', o.updated_at,
		'deliveries', COALESCE((SELECT json_agg(json_build_object(
			'version', d.version, 'note', d.note, 'created_at', d.created_at,
			'files', COALESCE((SELECT json_agg(json_build_object('upload_id', u.id, 'filename', u.filename,
				'content_type', u.content_type, 'size', u.size, 'sha256', u.sha256) ORDER BY f.position)
				FROM delivery_files f JOIN uploads u ON u.id = f.upload_id WHERE f.delivery_id = d.id), '[]')
			) ORDER BY d.version) FROM deliveries d WHERE d.order_id = o.id), '[]'),
		'revision_requests', COALESCE((SELECT json_agg(json_build_object(
			'after_version', r.after_version, 'note', r.note, 'created_at', r.created_at) ORDER BY r.created_at)
			FROM revision_requests r WHERE r.order_id = o.id), '[]'),
		'disputes', COALESCE((SELECT json_agg(json_build_object(
			'id', d.id, 'opened_by_me', d.opened_by = $1, 'reason', d.reason, 'status', d.status,
			'response', d.response, 'responded_at', d.responded_at, 'refund_minor', d.refund_minor,
			'resolution_note', d.resolution_note, 'resolved_at', d.resolved_at, 'withdrawn_at', d.withdrawn_at,
			'created_at', d.created_at) ORDER BY d.created_at)
			FROM disputes d WHERE d.order_id = o.id), '[]'),
		'review', (SELECT json_build_object('id', v.id, 'rating', v.rating, 'comment', v.comment,
			'response', v.response, 'responded_at', v.responded_at, 'created_at', v.created_at)
			FROM reviews v WHERE v.order_id = o.id)
	) AS data
	FROM orders o WHERE (o.buyer_id = $1 OR o.seller_id = $1) AND o.id > $2::uuid ORDER BY o.id LIMIT $3`
