// gigstream.js: a small client for the GigStream hub (REST + WebSocket protocol v1,
// docs/protocol.md). Plain ES module, no build step, no dependencies: the package
// @gigstream/client (package.json and the TypeScript declarations gigstream.d.ts sit
// beside it), also served by every hub at /app/gigstream.js. Runs in browsers and in
// Node.js 22+ (or 20 with --experimental-websocket).
//
//   import { GigStreamClient } from '@gigstream/client';   // or '/app/gigstream.js'
//   const gs = new GigStreamClient();
//   await gs.session();                      // or gs.login(email, password)
//   gs.on('signedout', () => showLogin());
//   gs.connect();
//   const off = gs.subscribe('conversation:42', (ev) => render(ev));
//
// What it takes care of, so applications do not have to:
// - one socket, reconnected with exponential backoff and full jitter ('reconnecting'
//   tells when the next try is);
// - per-channel last seq: on reconnect every channel is re-subscribed with `since`, so
//   durable events missed while offline are replayed by the server; events already seen are
//   dropped (dedupe by seq); when the server cannot recover (`recovered: false`) a 'reset'
//   event tells the application to reload that channel's state over REST;
// - close codes: 4001 (session ended) stops reconnecting and emits 'signedout';
// - CSRF: cookie-authenticated writes carry X-CSRF-Token from login or GET /auth/session;
// - bearer tokens (apps, servers): opts.token goes in Authorization, and the socket opens
//   with a one-time ticket from POST /ws/ticket;
// - idempotent sends: a message keeps its client-generated client_id across retries.

/** The protocol version this client speaks, and its WebSocket subprotocol. */
export const PROTOCOL_VERSION = 1;
export const SUBPROTOCOL = 'gigstream.v1';

/** Close codes of protocol v1 (docs/protocol.md, "Limits and close codes"). */
export const CloseCodes = Object.freeze({
  NORMAL: 1000,
  GOING_AWAY: 1001, // node shutting down: reconnect at once (with jitter) and recover
  UNSUPPORTED_DATA: 1003, // we sent a binary frame
  ABNORMAL: 1006, // never sent: the connection broke without a close frame
  POLICY_VIOLATION: 1008, // more frames than frame_rate/frame_burst allow
  MESSAGE_TOO_BIG: 1009, // a frame larger than max_frame
  INTERNAL_ERROR: 1011,
  SLOW_CONSUMER: 4000, // we did not read fast enough: reconnect with backoff and recover
  SESSION_ENDED: 4001, // logout / revoked: do not reconnect until signed in again
  HEARTBEAT_TIMEOUT: 4002, // no frame and no pong in time (also what we close with)
  TOO_MANY_SOCKETS: 4003, // this user or address has too many sockets on the node: reconnect with backoff
});

/** Error codes of error frames (docs/protocol.md, "Error codes"). */
export const ErrorCodes = Object.freeze({
  BAD_FRAME: 'bad_frame',
  UNKNOWN_OP: 'unknown_op',
  BAD_CHANNEL: 'bad_channel',
  FORBIDDEN: 'forbidden',
  ALREADY_SUBSCRIBED: 'already_subscribed',
  NOT_SUBSCRIBED: 'not_subscribed',
  TOO_MANY_CHANNELS: 'too_many_channels',
  UNAVAILABLE: 'unavailable',
  RATE_LIMITED: 'rate_limited',
  RECOVERY_FAILED: 'recovery_failed',
  INTERNAL: 'internal',
});

// A subscribe refused with one of these will be refused again: give up on the channel.
// Any other code, known or not, is retried with backoff (unknown codes count as internal).
const FINAL_SUBSCRIBE_CODES = new Set(['bad_frame', 'unknown_op', 'bad_channel', 'forbidden', 'too_many_channels']);

/** Error thrown by REST helpers: carries the HTTP status and the problem+json body. */
export class GigStreamError extends Error {
  constructor(status, problem, message) {
    super(message || (problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.name = 'GigStreamError';
    this.status = status; // 0 when the request never got an answer (network failure)
    this.problem = problem || null;
  }
}

// Statuses worth retrying with the same request: the server (or a proxy) said "not now".
const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);

const TYPING_THROTTLE_MS = 2000; // the server relays at most one typing per 2 s anyway

/** crypto.randomUUID exists only in secure contexts; fall back to getRandomValues. */
export function newClientId() {
  if (globalThis.crypto && typeof globalThis.crypto.randomUUID === 'function') {
    return globalThis.crypto.randomUUID();
  }
  const b = globalThis.crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40; // version 4
  b[8] = (b[8] & 0x3f) | 0x80; // RFC 4122 variant
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Full-jitter exponential backoff: a random delay in [0, min(max, base * 2^attempt)]. */
export function backoffDelay(attempt, base, max, random = Math.random) {
  const cap = Math.min(max, base * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * cap);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export class GigStreamClient {
  /**
   * @param {object} [opts]
   * @param {string} [opts.baseUrl] hub origin; defaults to the page's origin (same-origin cookies)
   * @param {string} [opts.token] a bearer token (POST /auth/tokens, or loginToken()): sent as
   *   Authorization on REST calls; the socket then always uses a ticket
   * @param {boolean} [opts.useTicket] authenticate the socket with a one-time ticket from
   *   POST /ws/ticket instead of relying on the cookie being sent with the upgrade
   * @param {number} [opts.backoffBase] first reconnect delay cap in ms (default 500)
   * @param {number} [opts.backoffMax] largest reconnect delay cap in ms (default 10000)
   * @param {string[]} [opts.protocols] WebSocket subprotocols to request; none by default,
   *   because a browser fails the handshake when the server does not echo one back
   * @param {boolean} [opts.debug] log every frame to the console (console.debug)
   * @param {Function} [opts.fetch] and [opts.WebSocket]: injectable for tests
   */
  constructor(opts = {}) {
    const loc = globalThis.location;
    this.baseUrl = (opts.baseUrl || (loc ? loc.origin : '')).replace(/\/$/, '');
    this.token = opts.token || null;
    this.useTicket = !!opts.useTicket;
    this.backoffBase = opts.backoffBase ?? 500;
    this.backoffMax = opts.backoffMax ?? 10000;
    this.protocols = opts.protocols || [];
    this.debug = !!opts.debug;
    this._fetch = opts.fetch || globalThis.fetch.bind(globalThis);
    this._WebSocket = opts.WebSocket || globalThis.WebSocket;

    this.user = null; // {id, username, display_name, ...} once signed in
    this.csrfToken = null;
    this.state = 'idle'; // idle | connecting | open | waiting | stopped
    this.hello = null; // the server's hello frame of the current socket

    this._listeners = new Map(); // type -> Set<fn>
    this._subs = new Map(); // channel -> {handlers:Set, lastSeq:number|null, everSubscribed:boolean}
    this._pending = new Map(); // frame id -> {resolve, reject}
    this._nextId = 1;
    this._ws = null;
    this._attempt = 0; // failed connects since the last hello
    this._timer = null; // reconnect timer
    this._pingTimer = null;
    this._wanted = false; // connect() called and not disconnect()ed
    this._typingAt = new Map(); // conversation id -> last typing sent (ms)
    this._typingTimers = new Map(); // conversation id -> trailing typing timer
    this._readSent = new Map(); // conversation id -> highest read seq sent
  }

  // ------------------------------------------------------------------ events

  /**
   * Listen for 'open', 'close', 'state', 'event', 'reset', 'reconnecting', 'signedout',
   * 'error' (gigstream.d.ts types each one's detail). Returns off().
   */
  on(type, fn) {
    if (!this._listeners.has(type)) this._listeners.set(type, new Set());
    this._listeners.get(type).add(fn);
    return () => this.off(type, fn);
  }

  off(type, fn) {
    const set = this._listeners.get(type);
    if (set) set.delete(fn);
  }

  // One throwing listener must not break the socket's read loop or the other listeners.
  _emit(type, detail) {
    for (const fn of [...(this._listeners.get(type) || [])]) {
      try {
        fn(detail);
      } catch (err) {
        console.error(`gigstream: '${type}' listener failed`, err);
      }
    }
  }

  _setState(state) {
    if (this.state === state) return;
    this.state = state;
    this._emit('state', state);
  }

  // ------------------------------------------------------------------ REST

  /**
   * One JSON request to the hub. Cookie sessions need the CSRF header on writes; it is
   * added whenever we know the token. Throws GigStreamError (status 0 on network failure).
   */
  async request(method, path, body) {
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    else if (method !== 'GET' && method !== 'HEAD' && this.csrfToken) headers['X-CSRF-Token'] = this.csrfToken;
    let resp;
    try {
      resp = await this._fetch(this.baseUrl + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        // 'include' also works when the app is served from another origin listed in
        // ALLOWED_ORIGINS; on the same origin it is the same as 'same-origin'.
        credentials: 'include',
        cache: 'no-store',
      });
    } catch (err) {
      throw new GigStreamError(0, null, `network error: ${err && err.message}`);
    }
    const text = await resp.text();
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = null;
      }
    }
    if (!resp.ok) {
      const e = new GigStreamError(resp.status, data);
      e.retryAfter = Number(resp.headers.get('Retry-After')) || 0;
      if (resp.status === 401 && (this.user || this.token)) this._signedOut();
      throw e;
    }
    return data;
  }

  /** Signs in with e-mail and password (cookie session) and keeps the CSRF token. */
  async login(email, password) {
    const s = await this.request('POST', '/auth/login', { email, password });
    this._adoptSession(s);
    return s;
  }

  /**
   * Signs an app in with e-mail and password (a bearer session, POST /auth/tokens) and
   * keeps the token for every later call. Store s.token safely to resume with opts.token.
   */
  async loginToken(email, password) {
    const s = await this.request('POST', '/auth/tokens', { email, password });
    this.token = s.token;
    this._adoptSession(s);
    return s;
  }

  /** Resumes an existing session (cookie, or opts.token); resolves null when not signed in. */
  async session() {
    try {
      const s = await this.request('GET', '/auth/session');
      this._adoptSession(s);
      return s;
    } catch (err) {
      if (err.status === 401) return null;
      throw err;
    }
  }

  async logout() {
    try {
      await this.request('POST', '/auth/logout');
    } finally {
      this.disconnect();
      this.user = null;
      this.csrfToken = null;
      this.token = null;
    }
  }

  _adoptSession(s) {
    this.user = (s && s.user) || null;
    this.csrfToken = (s && s.csrf_token) || this.csrfToken;
  }

  _signedOut() {
    if (this.state === 'stopped' && !this.user && !this.token) return; // told once already
    this.user = null;
    this.csrfToken = null;
    this.token = null;
    this._wanted = false;
    this._clearTimers();
    this._setState('stopped');
    this._emit('signedout');
  }

  listConversations() {
    return this.request('GET', '/conversations');
  }

  /** Opens (or finds) the conversation with participantId, optionally about a gig. */
  openConversation(participantId, gigId) {
    const body = { participant_id: participantId };
    if (gigId) body.gig_id = gigId;
    return this.request('POST', '/conversations', body);
  }

  /** One page of history, newest first; pass next_before of the previous page as before. */
  messages(conversationId, { before, limit = 50 } = {}) {
    const q = new URLSearchParams({ limit: String(limit) });
    if (before != null) q.set('before', String(before));
    return this.request('GET', `/conversations/${encodeURIComponent(conversationId)}/messages?${q}`);
  }

  /**
   * Sends a message over REST. The client_id makes the send idempotent on the server, so a
   * request whose answer was lost (network failure, 502/503/504, 429) is retried with the
   * SAME client_id: at most one message is stored. Pass opts.clientId to resume a send that
   * failed for good earlier (e.g. a "retry" button).
   */
  async sendMessage(conversationId, text, { clientId = newClientId(), attempts = 8, onRetry } = {}) {
    const path = `/conversations/${encodeURIComponent(conversationId)}/messages`;
    this.stopTyping(conversationId); // the message itself ends "typing" on the other side
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.request('POST', path, { client_id: clientId, text });
      } catch (err) {
        const retryable = err.status === 0 || RETRYABLE_STATUS.has(err.status);
        if (!retryable || attempt + 1 >= attempts) {
          err.clientId = clientId;
          throw err;
        }
        if (onRetry) onRetry(err, attempt + 1);
        // "Equal jitter" (half fixed, half random): spreads retries but guarantees the
        // attempts span at least ~15 s, long enough for a node restart or a deploy.
        const cap = Math.min(8000, 500 * 2 ** attempt);
        const wait = err.retryAfter ? err.retryAfter * 1000 : cap / 2 + backoffDelay(attempt, cap / 2, cap / 2);
        await sleep(wait);
      }
    }
  }

  /**
   * Moves the caller's read pointer in a conversation to seq. The server only moves it
   * forward; we also skip requests that could not move it, so calling this on every
   * incoming message is cheap.
   */
  async markRead(conversationId, seq) {
    if (!(seq > (this._readSent.get(conversationId) || 0))) return null;
    this._readSent.set(conversationId, seq);
    try {
      return await this.request('POST', `/conversations/${encodeURIComponent(conversationId)}/read`, { seq });
    } catch (err) {
      // Let a later call try again.
      if ((this._readSent.get(conversationId) || 0) === seq) this._readSent.delete(conversationId);
      throw err;
    }
  }

  /** Tells the read-skip cache that the server already has the pointer at seq. */
  noteRead(conversationId, seq) {
    if (seq > (this._readSent.get(conversationId) || 0)) this._readSent.set(conversationId, seq);
  }

  // ------------------------------------------------------------------ socket

  /** Opens the socket (and keeps it open until disconnect() or the session ends). */
  connect() {
    if (this._wanted) return;
    this._wanted = true;
    this._open();
  }

  /** Closes the socket and stops reconnecting; subscriptions are kept for a later connect(). */
  disconnect() {
    this._wanted = false;
    for (const id of [...this._typingTimers.keys()]) this.stopTyping(id);
    this._clearTimers();
    const ws = this._ws;
    this._ws = null;
    this.hello = null;
    if (ws) ws.close(CloseCodes.NORMAL);
    this._failPending(new Error('disconnected'));
    this._setState('idle');
  }

  _clearTimers() {
    clearTimeout(this._timer);
    clearInterval(this._pingTimer);
    this._timer = null;
    this._pingTimer = null;
  }

  _socketUrl() {
    const u = new URL('/ws', this.baseUrl || globalThis.location.href);
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    return u;
  }

  async _open() {
    if (!this._wanted) return;
    this._setState('connecting');
    const url = this._socketUrl();
    if (this.useTicket || this.token) {
      try {
        const { ticket } = await this.request('POST', '/ws/ticket');
        url.searchParams.set('ticket', ticket);
      } catch (err) {
        if (err.status === 401) {
          this._signedOut(); // no session: reconnecting cannot help
          return;
        }
        this._scheduleReconnect(false, 0);
        return;
      }
      if (!this._wanted) return;
    }
    let ws;
    try {
      ws = new this._WebSocket(url.toString(), this.protocols);
    } catch (err) {
      this._emit('error', { code: 'connect', message: String(err) });
      this._scheduleReconnect(false, 0);
      return;
    }
    this._ws = ws;
    let greeted = false;
    ws.onmessage = (msg) => {
      if (this._ws !== ws) return;
      if (this.debug) console.debug('gigstream <-', msg.data);
      let frame;
      try {
        frame = JSON.parse(msg.data);
      } catch {
        return; // not JSON: nothing we can do with it
      }
      if (frame && frame.op === 'hello') greeted = true;
      this._onFrame(frame);
    };
    ws.onclose = (ev) => {
      if (this._ws !== ws) return; // an old socket we replaced or closed on purpose
      this._ws = null;
      this.hello = null;
      if (this.debug) console.debug('gigstream closed', ev.code, ev.reason);
      clearInterval(this._pingTimer);
      this._failPending(new Error(`socket closed (${ev.code})`));
      this._emit('close', { code: ev.code, reason: ev.reason });
      if (ev.code === CloseCodes.SESSION_ENDED) {
        this._signedOut();
        return;
      }
      if (!greeted) {
        // The upgrade itself failed. Browsers hide the HTTP status (401 looks like any
        // network error), so ask the REST API whether the session is still alive.
        this._checkSessionThenReconnect(ev.code);
        return;
      }
      this._scheduleReconnect(ev.code === CloseCodes.GOING_AWAY, ev.code);
    };
  }

  async _checkSessionThenReconnect(code) {
    if (!this.useTicket && !this.token && this.user) {
      try {
        await this.request('GET', '/auth/session'); // a 401 emits 'signedout' in request()
      } catch (err) {
        if (err.status === 401) return;
      }
    }
    this._scheduleReconnect(false, code);
  }

  // 1001 means "this node is going away, others are fine": come back at once, but spread
  // the herd over half a second. Anything else backs off exponentially (full jitter) from
  // the failed tries since the last hello. code is the close code that led here (0: none).
  _scheduleReconnect(soon, code) {
    if (!this._wanted) return;
    this._setState('waiting');
    const delay = soon ? backoffDelay(0, 500, 500) : backoffDelay(this._attempt, this.backoffBase, this.backoffMax);
    this._attempt++;
    clearTimeout(this._timer);
    this._timer = setTimeout(() => this._open(), delay);
    this._emit('reconnecting', { attempt: this._attempt, delay, code });
  }

  _send(frame) {
    const ws = this._ws;
    if (!ws || ws.readyState !== 1 || !this.hello) return false;
    if (this.debug) console.debug('gigstream ->', JSON.stringify(frame));
    ws.send(JSON.stringify(frame));
    return true;
  }

  /** Sends a request frame and resolves with its reply (rejects with the error frame). */
  _request(frame) {
    const id = this._nextId++;
    return new Promise((resolve, reject) => {
      if (!this._send({ ...frame, id })) {
        reject(new Error('not connected'));
        return;
      }
      this._pending.set(id, { resolve, reject });
    });
  }

  _failPending(err) {
    const pending = [...this._pending.values()];
    this._pending.clear();
    for (const p of pending) p.reject(err);
  }

  _onFrame(f) {
    if (!f || typeof f !== 'object') return;
    switch (f.op) {
      case 'hello':
        this.hello = f;
        this._attempt = 0;
        this._setState('open');
        this._startPings(f.ping);
        this._emit('open', f);
        for (const channel of this._subs.keys()) this._subscribeNow(channel);
        return;
      case 'event':
        this._onEvent(f);
        return;
      case 'reply':
      case 'error': {
        const p = f.id != null ? this._pending.get(f.id) : null;
        if (p) {
          this._pending.delete(f.id);
          if (f.op === 'reply') p.resolve(f);
          else p.reject(Object.assign(new Error(f.message || f.code), { code: f.code, frame: f }));
          return;
        }
        if (f.op === 'error' && f.code === ErrorCodes.RECOVERY_FAILED && f.channel && this._subs.has(f.channel)) {
          // The server dropped the subscription because it could not close a gap:
          // subscribe again from our last seq after a short pause.
          this._retrySubscribe(f.channel, this._subs.get(f.channel));
          return;
        }
        if (f.op === 'error') this._emit('error', f);
        return;
      }
      default:
        // Unknown ops are allowed within v1: ignore them.
    }
  }

  // Application-level pings detect a dead connection that never closes (a laptop waking
  // up, a silently dropped NAT mapping): no answer within 10 s means reconnect.
  _startPings(serverPingSeconds) {
    clearInterval(this._pingTimer);
    const every = Math.max(5, Number(serverPingSeconds) || 25) * 1000;
    const ws = this._ws;
    this._pingTimer = setInterval(() => {
      const timeout = setTimeout(() => {
        if (this._ws === ws) ws.close(4002, 'no pong');
      }, 10000);
      this._request({ op: 'ping' }).then(
        () => clearTimeout(timeout),
        () => clearTimeout(timeout),
      );
    }, every);
  }

  _onEvent(f) {
    const sub = this._subs.get(f.channel);
    if (!sub) return;
    if (typeof f.seq === 'number') {
      // Durable: the server promises order and exactly-once per subscription, but a
      // replay after reconnect may overlap what we already processed. Drop those.
      if (sub.lastSeq != null && f.seq <= sub.lastSeq) return;
      sub.lastSeq = f.seq;
    }
    const ev = { channel: f.channel, seq: f.seq ?? null, type: f.type, data: f.data };
    for (const fn of [...sub.handlers]) {
      try {
        fn(ev);
      } catch (err) {
        console.error('gigstream: event handler failed', err);
      }
    }
    this._emit('event', ev);
  }

  /**
   * Subscribes to channel; onEvent gets {channel, seq, type, data}. Returns an unsubscribe
   * function whose `ready` promise settles when the server first answers the subscribe, so
   * callers can `await off.ready` before loading state over REST: no event falls between
   * the REST snapshot and the live stream (merge the two by seq / id).
   * opts.since: resume from a seq the app already has (e.g. persisted).
   */
  subscribe(channel, onEvent, { since } = {}) {
    let sub = this._subs.get(channel);
    const isNew = !sub;
    if (isNew) {
      sub = { handlers: new Set(), lastSeq: since ?? null, everSubscribed: false, failures: 0 };
      // Settles when the server first answers this subscribe (on this or a later socket).
      sub.ready = new Promise((resolve, reject) => {
        sub.settle = { resolve, reject };
      });
      sub.ready.catch(() => {}); // callers that never await it must not see an unhandled rejection
      this._subs.set(channel, sub);
    }
    if (onEvent) sub.handlers.add(onEvent);
    if (isNew) this._subscribeNow(channel);
    const off = () => this.unsubscribe(channel, onEvent);
    off.ready = sub.ready;
    return off;
  }

  /** Removes onEvent (or every handler when omitted); the last one leaving unsubscribes. */
  unsubscribe(channel, onEvent) {
    const sub = this._subs.get(channel);
    if (!sub) return;
    if (onEvent) sub.handlers.delete(onEvent);
    else sub.handlers.clear();
    if (sub.handlers.size > 0) return;
    this._subs.delete(channel);
    this._request({ op: 'unsubscribe', channel }).catch(() => {});
  }

  /** Last durable seq processed on channel (null when none yet). */
  lastSeq(channel) {
    const sub = this._subs.get(channel);
    return sub ? sub.lastSeq : null;
  }

  /**
   * Tells the client that the application's state of channel is complete up to seq, e.g.
   * after reloading it over REST on 'reset': events up to seq are then dropped as already
   * seen, and the next resubscribe asks for what follows seq.
   */
  setLastSeq(channel, seq) {
    const sub = this._subs.get(channel);
    if (sub && Number.isSafeInteger(seq) && seq >= 0 && (sub.lastSeq == null || seq > sub.lastSeq)) sub.lastSeq = seq;
  }

  // Sends subscribe for a channel we track. Resolves when answered, or when there is no
  // socket yet (the hello handler subscribes again). A subscribe after a reconnect that
  // could not resume from a seq emits 'reset': events may have been missed.
  async _subscribeNow(channel) {
    const sub = this._subs.get(channel);
    if (!sub || !this.hello || !this._ws) return;
    const frame = { op: 'subscribe', channel };
    if (sub.lastSeq != null) frame.since = sub.lastSeq;
    const resumed = sub.everSubscribed;
    try {
      const reply = await this._request(frame);
      sub.everSubscribed = true;
      sub.failures = 0;
      sub.settle.resolve(reply);
      if (frame.since != null && reply.recovered === false) {
        // History is gone or not kept: the application reloads the channel's state over
        // REST (and may call setLastSeq); live events go on meanwhile.
        this._emit('reset', { channel, reason: 'not_recovered' });
      } else if (frame.since == null && resumed) {
        this._emit('reset', { channel, reason: 'no_seq' });
      }
    } catch (err) {
      if (!err.code) return; // the socket closed; the next hello subscribes again
      if (err.code === ErrorCodes.ALREADY_SUBSCRIBED) return;
      if (FINAL_SUBSCRIBE_CODES.has(err.code)) {
        // forbidden, bad_channel, too_many_channels: retrying will not help.
        this._subs.delete(channel);
        sub.settle.reject(err);
        this._emit('error', { channel, code: err.code, message: err.message });
        return;
      }
      // unavailable, internal, recovery_failed and codes this client does not know.
      this._retrySubscribe(channel, sub);
    }
  }

  _retrySubscribe(channel, sub) {
    sub.failures = (sub.failures || 0) + 1;
    setTimeout(() => {
      if (this._subs.get(channel) === sub) this._subscribeNow(channel);
    }, backoffDelay(sub.failures, 250, this.backoffMax));
  }

  /**
   * Tells the other members that we are typing; call it on every keystroke. At most one
   * frame per conversation every 2 s goes out (the server drops extra ones anyway). A
   * keystroke inside the window schedules one trailing frame at its end, so typing that
   * starts right after an earlier burst (e.g. just after sending) is still announced.
   * Best effort: never throws. sendMessage() cancels a pending trailing frame.
   */
  sendTyping(conversationId) {
    const now = Date.now();
    const wait = TYPING_THROTTLE_MS - (now - (this._typingAt.get(conversationId) || 0));
    if (wait > 0) {
      if (!this._typingTimers.has(conversationId)) {
        // A little past the window: the server's own 2 s gate started when it got our frame.
        const timer = setTimeout(() => {
          this._typingTimers.delete(conversationId);
          this.sendTyping(conversationId);
        }, wait + 250);
        this._typingTimers.set(conversationId, timer);
      }
      return false;
    }
    const sent = this._send({
      op: 'publish',
      id: this._nextId++,
      channel: `conversation:${conversationId}`,
      type: 'typing',
      data: {},
    });
    if (sent) this._typingAt.set(conversationId, now);
    return sent;
  }

  /** Drops a scheduled trailing typing frame (the user sent or cleared the message). */
  stopTyping(conversationId) {
    clearTimeout(this._typingTimers.get(conversationId));
    this._typingTimers.delete(conversationId);
  }
}
