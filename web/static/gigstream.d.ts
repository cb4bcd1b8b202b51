// Type declarations of gigstream.js (the package @gigstream/client): the GigStream hub's
// WebSocket protocol v1 as docs/protocol.md states it, and the client's API.
//
// web/declarations_test.go checks these against docs/protocol.md with tsc: every frame
// and its fields, every error code and close code, every product event type (per
// channel kind) and notification kind in the doc must be declared here, and nothing
// more. Change the doc and this file together.

// --------------------------------------------------------------------- protocol

/** The protocol version of the server's hello frame (`v`). */
export declare const PROTOCOL_VERSION: 1;
/** The WebSocket subprotocol of protocol v1. */
export declare const SUBPROTOCOL: 'gigstream.v1';

/** Error codes of error frames ("Error codes"). */
export type ErrorCode =
  | 'bad_frame'
  | 'unknown_op'
  | 'bad_channel'
  | 'forbidden'
  | 'already_subscribed'
  | 'not_subscribed'
  | 'too_many_channels'
  | 'unavailable'
  | 'rate_limited'
  | 'recovery_failed'
  | 'internal';

/** The error codes by name. */
export declare const ErrorCodes: {
  readonly BAD_FRAME: 'bad_frame';
  readonly UNKNOWN_OP: 'unknown_op';
  readonly BAD_CHANNEL: 'bad_channel';
  readonly FORBIDDEN: 'forbidden';
  readonly ALREADY_SUBSCRIBED: 'already_subscribed';
  readonly NOT_SUBSCRIBED: 'not_subscribed';
  readonly TOO_MANY_CHANNELS: 'too_many_channels';
  readonly UNAVAILABLE: 'unavailable';
  readonly RATE_LIMITED: 'rate_limited';
  readonly RECOVERY_FAILED: 'recovery_failed';
  readonly INTERNAL: 'internal';
};

/**
 * WebSocket close codes ("Limits and close codes"). 1006 is never sent: browsers report
 * it when the connection broke without a close frame.
 */
export type CloseCode = 1000 | 1001 | 1003 | 1006 | 1008 | 1009 | 1011 | 4000 | 4001 | 4002 | 4003;

/** The close codes by name. */
export declare const CloseCodes: {
  readonly NORMAL: 1000;
  readonly GOING_AWAY: 1001;
  readonly UNSUPPORTED_DATA: 1003;
  readonly ABNORMAL: 1006;
  readonly POLICY_VIOLATION: 1008;
  readonly MESSAGE_TOO_BIG: 1009;
  readonly INTERNAL_ERROR: 1011;
  readonly SLOW_CONSUMER: 4000;
  readonly SESSION_ENDED: 4001;
  readonly HEARTBEAT_TIMEOUT: 4002;
  readonly TOO_MANY_SOCKETS: 4003;
};

// Server → client frames.

/** The first frame on every socket. */
export interface HelloFrame {
  op: 'hello';
  /** The protocol version the server speaks. */
  v: number;
  /** This socket's id. */
  client: string;
  /** The id of the node holding the socket. */
  node: string;
  /** The server's ping interval, in seconds. */
  ping: number;
  /** The largest client frame accepted, in bytes. */
  max_frame: number;
  /** Client frames per second refilled into the budget. */
  frame_rate: number;
  /** The budget's size: more frames than this at once close the socket with 1008. */
  frame_burst: number;
}

/** Something happened on a subscribed channel. */
export interface EventFrame {
  op: 'event';
  channel: string;
  /** The per-channel sequence of a durable event; absent for ephemeral ones. */
  seq?: number;
  type: string;
  data: unknown;
}

/** The request with that id succeeded. */
export interface ReplyFrame {
  op: 'reply';
  id?: number;
  ok: true;
  /** Only for a subscribe with since: false means reload the channel's state. */
  recovered?: boolean;
}

/** A request failed, or the server dropped a subscription. */
export interface ErrorFrame {
  op: 'error';
  /** Present when the error answers a request. */
  id?: number;
  /** A documented code, or a callback's own (treat unknown ones like 'internal'). */
  code: ErrorCode | (string & {});
  message: string;
  /** Present when the error is about a subscription (recovery_failed). */
  channel?: string;
}

/** Any frame the server sends in v1. Frames with another op must be ignored. */
export type ServerFrame = HelloFrame | EventFrame | ReplyFrame | ErrorFrame;

// Client → server frames.

export interface SubscribeFrame {
  op: 'subscribe';
  id?: number;
  channel: string;
  /** The highest seq processed; 0 for "everything still kept". */
  since?: number;
}

export interface UnsubscribeFrame {
  op: 'unsubscribe';
  id?: number;
  channel: string;
}

/** A client event such as typing; the server decides whether and where to relay it. */
export interface PublishFrame {
  op: 'publish';
  id?: number;
  channel: string;
  type: string;
  data?: unknown;
}

/** "I have seen channel up to seq" (read receipts). */
export interface AckFrame {
  op: 'ack';
  id?: number;
  channel: string;
  seq: number;
}

/** Application-level keep-alive. */
export interface PingFrame {
  op: 'ping';
  id?: number;
}

/** Any frame a client may send in v1. */
export type ClientFrame = SubscribeFrame | UnsubscribeFrame | PublishFrame | AckFrame | PingFrame;

// --------------------------------------------------------------------- product data

/** An ISO 8601 date-time string. */
export type DateTime = string;

export interface User {
  id: string;
  email: string;
  username: string;
  display_name: string;
  bio: string;
  is_buyer: boolean;
  is_seller: boolean;
  is_admin: boolean;
  email_verified_at: DateTime | null;
  created_at: DateTime;
}

export interface Session {
  id: string;
  kind: 'cookie' | 'bearer';
  user_agent: string;
  ip: string;
  created_at: DateTime;
  last_seen_at: DateTime;
  expires_at: DateTime;
}

/** What login, loginToken and session resolve with. */
export interface SessionResponse {
  user: User;
  session: Session;
  /** Cookie sessions: sent as X-CSRF-Token on writes (the client does that). */
  csrf_token?: string;
  /** Bearer sessions, only when created (loginToken). */
  token?: string;
}

/** One chat message; text is plain text: render it as text, never as markup. */
export interface Message {
  id: string;
  conversation_id: string;
  seq: number;
  sender_id: string;
  client_id: string;
  text: string;
  attachments: string[];
  created_at: DateTime;
  edited_at: DateTime | null;
  deleted: boolean;
}

export interface Participant {
  id: string;
  username: string;
  display_name: string;
}

export interface Conversation {
  id: string;
  kind: 'direct' | 'order';
  gig_id: string | null;
  order_id: string | null;
  participants: Participant[];
  last_message: Message | null;
  unread_count: number;
  last_read_seq: number;
  other_read_seq: number;
  updated_at: DateTime;
}

export interface ConversationList {
  conversations: Conversation[];
  total_unread: number;
}

export interface MessagePage {
  /** Newest first. */
  messages: Message[];
  /** Pass as before for the next, older page; null when there is none. */
  next_before: number | null;
}

export interface ReadState {
  last_read_seq: number;
  unread_count: number;
  total_unread: number;
}

export type OrderStatus = 'placed' | 'paid' | 'delivered' | 'revision_requested' | 'disputed' | 'completed' | 'cancelled';

/** An order as both parties see it (money in minor units of currency). */
export interface Order {
  id: string;
  buyer_id: string;
  seller_id: string;
  gig_id: string;
  package_id: string | null;
  gig_title: string;
  package_tier: 'basic' | 'standard' | 'premium';
  package_title: string;
  price_minor: number;
  currency: string;
  revisions_allowed: number;
  revisions_used: number;
  delivery_days: number;
  status: OrderStatus;
  due_at: DateTime | null;
  paid_at: DateTime | null;
  delivered_at: DateTime | null;
  refunded_minor: number;
  fee_minor: number;
  seller_minor: number;
  settled_at: DateTime | null;
  cleared_at: DateTime | null;
  created_at: DateTime;
  updated_at: DateTime;
}

export interface DeliveryFile {
  upload_id: string;
  filename: string;
  content_type: string;
  size: number;
  sha256: string;
}

export interface Delivery {
  id: string;
  version: number;
  note: string;
  created_at: DateTime;
  files: DeliveryFile[];
  order_id?: string;
}

/** Money a payment provider took back: a chargeback, or a refund made at the provider. */
export interface Reversal {
  id: string;
  order_id: string;
  provider: 'stripe' | 'paypal';
  kind: 'chargeback' | 'refund';
  provider_ref: string;
  status: 'open' | 'won' | 'lost' | 'final';
  provider_status: string;
  reason: string;
  amount_minor: number;
  currency: string;
  from_escrow_minor: number;
  from_seller_minor: number;
  from_platform_minor: number;
}

export interface Refund {
  amount_minor: number;
  currency: string;
  reason: string;
}

export interface Dispute {
  id: string;
  order_id: string;
  opened_by: string;
  reason: string;
  prior_status: 'paid' | 'delivered' | 'revision_requested';
  status: 'open' | 'withdrawn' | 'resolved';
  response: string | null;
  responded_at: DateTime | null;
  withdrawn_at: DateTime | null;
  resolved_by: string | null;
  refund_minor: number | null;
  resolution_note: string | null;
  resolved_at: DateTime | null;
  created_at: DateTime;
}

export interface Review {
  id: string;
  order_id: string;
  gig_id: string;
  seller_id: string;
  buyer: { id: string; username: string; display_name: string };
  rating: 1 | 2 | 3 | 4 | 5;
  comment: string;
  response: string | null;
  responded_at: DateTime | null;
  created_at: DateTime;
}

/** The kinds of notification the router makes from order, balance, takedown and report events ("Notifications"). */
export type NotificationKind =
  | 'order_paid'
  | 'payment_failed'
  | 'order_delivered'
  | 'revision_requested'
  | 'order_completed'
  | 'order_cancelled'
  | 'order_refunded'
  | 'review_received'
  | 'review_answered'
  | 'order_disputed'
  | 'dispute_answered'
  | 'dispute_withdrawn'
  | 'dispute_resolved'
  | 'withdrawal_paid'
  | 'gig_taken_down'
  | 'gig_restored'
  | 'report_resolved';

export interface Notification {
  id: string;
  kind: NotificationKind;
  title: string;
  body: string;
  /** A path in the app, e.g. /orders/{id}. */
  link: string;
  order_id: string | null;
  created_at: DateTime;
  read_at: DateTime | null;
}

/** The data of each event type on conversation:{id}. */
export interface ConversationEventData {
  'message.created': Message;
  'message.edited': Message;
  'message.deleted': { id: string; seq: number };
  /** That member has read up to seq. */
  read: { user_id: string; seq: number };
  /** Ephemeral: clear it after ~6 s without another, or when that user's message arrives. */
  typing: { user_id: string; display_name: string };
}

/** The gig of a gig.taken_down or gig.restored event. */
export interface GigModeration {
  gig_id: string;
  slug: string;
  title: string;
}

/** The data of each event type on user:{id}. */
export interface UserEventData {
  unread: { total: number; conversation_id: string; count: number };
  /** A gig image's or avatar's variants were made (ready) or not (failed): the upload as its owner sees it. */
  'upload.image': {
    id: string;
    kind: string;
    image_status?: 'pending' | 'ready' | 'failed';
    width?: number;
    height?: number;
    placeholder?: string;
    image_error?: string;
  };
  /** Re-read GET /me/balance. */
  'balance.updated': {
    currency: string;
    reason: 'order_settled' | 'earnings_cleared' | 'withdrawal_started' | 'withdrawal' | 'withdrawal_returned' | 'withdrawal_reversed' | 'chargeback' | 'chargeback_won' | 'refunded_at_provider' | (string & {});
    order_id?: string;
  };
  /** A withdrawal moved on; failure says why it failed or was rejected. */
  'withdrawal.updated': {
    id: string;
    status: 'pending' | 'review' | 'in_transit' | 'paid' | 'failed' | 'rejected';
    amount_minor: number;
    currency: string;
    failure: string | null;
  };
  /** The seller's payout method as GET /me/payout-method shows it; withdrawable_from is null here (ask the route). */
  'payout_method.updated': {
    method: '' | 'stripe' | 'paypal';
    stripe_account_id?: string;
    stripe_details_submitted: boolean;
    stripe_payouts_enabled: boolean;
    stripe_requirements: string[];
    stripe_disabled_reason?: string;
    paypal_email?: string;
    changed_at: DateTime | null;
    ready: boolean;
    withdrawable_from: DateTime | null;
  };
  /** An admin took the user's gig down, with the reason they see; the admin is not named. */
  'gig.taken_down': GigModeration & { reason: string };
  /** An admin lifted the takedown; the gig stays paused until its seller publishes it. */
  'gig.restored': GigModeration;
  /** An admin paid the buyer back outside the provider what the platform owed them for a cancelled order. */
  'refund_owed.paid': {
    order_id: string;
    amount_minor: number;
    currency: string;
    method: 'bank_transfer' | 'paypal' | 'cheque' | 'other';
    reference: string;
  };
  /** An admin resolved the user's abuse report; never the admin's note or name. */
  'report.resolved': {
    id: string;
    target_kind: 'gig' | 'message' | 'user';
    target_id: string;
    excerpt: string;
    reason: string;
    status: 'actioned' | 'dismissed';
    resolved_at: DateTime | null;
  };
  notification: Notification;
  'notifications.read': { ids?: string[]; all?: boolean; unread_count: number };
}

/** The data of each event type on order:{id}. */
export interface OrderEventData {
  'order.placed': { order: Order };
  'order.paid': { order: Order };
  'order.payment_failed': { order: Order };
  'order.delivered': { order: Order; delivery: Delivery };
  'order.revision_requested': { order: Order; revision: { note: string; after_version: number } };
  'order.completed': { order: Order };
  'order.cancelled': { order: Order; refund?: Refund };
  'order.refunded': { order: Order; refund: Refund; reversal?: Reversal };
  'order.chargeback': { order: Order; reversal: Reversal };
  'order.disputed': { order: Order; dispute: Dispute };
  'order.dispute_answered': { order: Order; dispute: Dispute };
  'order.dispute_withdrawn': { order: Order; dispute: Dispute };
  'order.dispute_resolved': { order: Order; refund?: Refund };
  'order.reviewed': { order_id: string; review: Review };
  'order.review_answered': { order_id: string; review: Review };
}

/** Every event type the GigStream back end publishes ("Product channels and events"). */
export type EventType = keyof ConversationEventData | keyof UserEventData | keyof OrderEventData;

// --------------------------------------------------------------------- client

/**
 * One event as a subscription handler gets it. seq is null for ephemeral events; a
 * durable event is delivered once, in seq order, even across reconnects.
 */
export interface ChannelEvent<T extends string = string, D = unknown> {
  channel: string;
  seq: number | null;
  type: T;
  data: D;
}

type EventsOf<M> = { [K in keyof M & string]: ChannelEvent<K, M[K]> }[keyof M & string];

export type ConversationEvent = EventsOf<ConversationEventData>;
export type UserEvent = EventsOf<UserEventData>;
export type OrderEvent = EventsOf<OrderEventData>;
/** Any event of the product's channels. */
export type ProductEvent = ConversationEvent | UserEvent | OrderEvent;

/**
 * The events a channel carries, from its name: product channels get their union of
 * documented events (switch on type to narrow data); any other channel (events from
 * POST /api/publish) gets ChannelEvent with unknown data.
 */
export type ChannelEventFor<C extends string> = C extends `conversation:${string}`
  ? ConversationEvent
  : C extends `user:${string}`
    ? UserEvent
    : C extends `order:${string}`
      ? OrderEvent
      : ChannelEvent;

export type ConnectionState = 'idle' | 'connecting' | 'open' | 'waiting' | 'stopped';

/** Why a channel's state must be reloaded over REST. */
export interface ResetDetail {
  channel: string;
  /** not_recovered: the server answered recovered: false; no_seq: no durable event was seen before the socket dropped. */
  reason: 'not_recovered' | 'no_seq';
}

/** A reconnect is scheduled. */
export interface ReconnectingDetail {
  /** Failed tries since the last hello, this one included (1 for the first). */
  attempt: number;
  /** Milliseconds until the try: random in [0, min(backoffMax, backoffBase * 2^(attempt-1))]. */
  delay: number;
  /** The close code that led here; 0 when no socket was made (the ticket request failed). */
  code: number;
}

/** An error the application may want to show. */
export interface ClientErrorDetail {
  code: ErrorCode | 'connect' | (string & {});
  message: string;
  channel?: string;
  id?: number;
}

/** The detail each on() event type is called with. */
export interface ClientEventMap {
  /** The server's hello: the socket is usable. */
  open: HelloFrame;
  close: { code: number; reason: string };
  state: ConnectionState;
  /** Every event of every subscription, after the subscription's own handlers. */
  event: ChannelEvent;
  reset: ResetDetail;
  reconnecting: ReconnectingDetail;
  /** The session ended (4001, or a 401): the client stopped; sign in again. */
  signedout: void;
  error: ClientErrorDetail;
}

export interface GigStreamClientOptions {
  /** The hub's origin; defaults to the page's (same-origin cookies). Required outside browsers. */
  baseUrl?: string;
  /** A bearer token (POST /auth/tokens): sent as Authorization; the socket uses tickets. */
  token?: string;
  /** Open the socket with a one-time ticket from POST /ws/ticket instead of the cookie. */
  useTicket?: boolean;
  /** The first reconnect delay's cap, in ms (default 500). */
  backoffBase?: number;
  /** The largest reconnect delay cap, in ms (default 10000). */
  backoffMax?: number;
  /** WebSocket subprotocols to request (none by default). */
  protocols?: string[];
  /** Log every frame with console.debug. */
  debug?: boolean;
  /** Replaces globalThis.fetch (tests, custom agents). */
  fetch?: FetchLike;
  /** Replaces globalThis.WebSocket (tests; Node 22 has it, Node 20 with --experimental-websocket). */
  WebSocket?: WebSocketConstructorLike;
}

// What the client uses of fetch and WebSocket, so that these declarations need neither
// the DOM library nor @types/node: the platform's own fetch and WebSocket fit.

export interface FetchLike {
  (
    url: string,
    init: { method: string; headers: Record<string, string>; body?: string; credentials: 'include'; cache: 'no-store' },
  ): Promise<{ ok: boolean; status: number; headers: { get(name: string): string | null }; text(): Promise<string> }>;
}

export interface WebSocketLike {
  readonly readyState: number;
  // The client sets these to handlers of ev.data (a string) and ev.code / ev.reason.
  onmessage: ((ev: any) => any) | null;
  onclose: ((ev: any) => any) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export interface WebSocketConstructorLike {
  new (url: string, protocols?: string | string[]): WebSocketLike;
}

export interface SubscribeOptions {
  /** Resume from a seq the application already has (e.g. persisted). */
  since?: number;
}

/** Calling it removes the handler; the last handler leaving unsubscribes. */
export interface Unsubscribe {
  (): void;
  /** Settles when the server first answers the subscribe (rejects when it refuses). */
  readonly ready: Promise<ReplyFrame>;
}

export interface SendMessageOptions {
  /** Resume a send that failed for good earlier with the same idempotency key. */
  clientId?: string;
  /** Tries in all (default 8). */
  attempts?: number;
  onRetry?: (err: GigStreamError, attempt: number) => void;
}

/** An RFC 9457 problem (the body of every REST error). */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  request_id?: string;
  errors?: { field: string; message: string }[];
}

/** Thrown by the REST helpers. */
export declare class GigStreamError extends Error {
  constructor(status: number, problem?: Problem | null, message?: string);
  /** The HTTP status; 0 when the request got no answer (network failure). */
  status: number;
  problem: Problem | null;
  /** Seconds from Retry-After, 0 when absent. */
  retryAfter?: number;
  /** sendMessage's idempotency key, to retry the same send later. */
  clientId?: string;
}

/** A new v4 UUID (also outside secure contexts). */
export declare function newClientId(): string;

/** Full-jitter exponential backoff: random in [0, min(max, base * 2^attempt)). */
export declare function backoffDelay(attempt: number, base: number, max: number, random?: () => number): number;

export declare class GigStreamClient {
  constructor(opts?: GigStreamClientOptions);

  readonly baseUrl: string;
  token: string | null;
  useTicket: boolean;
  backoffBase: number;
  backoffMax: number;
  protocols: string[];
  debug: boolean;
  /** The signed-in user, once known. */
  user: User | null;
  csrfToken: string | null;
  readonly state: ConnectionState;
  /** The current socket's hello, null while there is none. */
  readonly hello: HelloFrame | null;

  on<K extends keyof ClientEventMap>(type: K, fn: (detail: ClientEventMap[K]) => void): () => void;
  off<K extends keyof ClientEventMap>(type: K, fn: (detail: ClientEventMap[K]) => void): void;

  /** One JSON request to the hub; throws GigStreamError. */
  request<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  login(email: string, password: string): Promise<SessionResponse>;
  loginToken(email: string, password: string): Promise<SessionResponse>;
  /** The current session, or null when not signed in. */
  session(): Promise<SessionResponse | null>;
  logout(): Promise<void>;
  listConversations(): Promise<ConversationList>;
  openConversation(participantId: string, gigId?: string): Promise<Conversation>;
  messages(conversationId: string, opts?: { before?: number; limit?: number }): Promise<MessagePage>;
  sendMessage(conversationId: string, text: string, opts?: SendMessageOptions): Promise<Message>;
  /** Resolves null when the pointer could not move (nothing was sent). */
  markRead(conversationId: string, seq: number): Promise<ReadState | null>;
  noteRead(conversationId: string, seq: number): void;

  /** Opens the socket and keeps it open (reconnecting) until disconnect() or sign-out. */
  connect(): void;
  /** Closes the socket; subscriptions are kept for a later connect(). */
  disconnect(): void;
  subscribe<C extends string>(channel: C, onEvent?: (ev: ChannelEventFor<C>) => void, opts?: SubscribeOptions): Unsubscribe;
  unsubscribe<C extends string>(channel: C, onEvent?: (ev: ChannelEventFor<C>) => void): void;
  /** The last durable seq processed on channel, null when none yet. */
  lastSeq(channel: string): number | null;
  /** The application's state of channel is complete up to seq (after a REST reload). */
  setLastSeq(channel: string, seq: number): void;
  /** Announces typing in a conversation; true when a frame went out. */
  sendTyping(conversationId: string): boolean;
  stopTyping(conversationId: string): void;
}
