// chat.js: the hub's small chat page, built only on gigstream.js.
//
// Rules this file keeps:
// - Chat text is user input: it is only ever put in the page with textContent, never
//   parsed as markup, so "<b>hi</b>" shows as those nine characters.
// - The thread is a map of messages keyed by seq; REST pages, live events and replays after
//   a reconnect are all merged into it, so nothing shows twice and order is by seq.
// - Our own sends show at once as "pending" (keyed by client_id) and are replaced by the
//   stored message, whichever of the REST answer or the live event comes first.
import { GigStreamClient, newClientId } from './gigstream.js';

const TYPING_EXPIRY_MS = 6000; // a typing indicator lives this long without a refresh
const SUBSCRIBE_WAIT_MS = 5000; // how long to wait for a subscribe before loading anyway

// ?debug in the page's address logs every socket frame to the console.
const gs = new GigStreamClient({ debug: new URLSearchParams(location.search).has('debug') });
const $ = (sel) => document.querySelector(sel);

const state = {
  me: null, // the signed-in user
  conversations: new Map(), // id -> Conversation summary from the REST API / user channel
  totalUnread: 0,
  open: null, // the open conversation (see openConversation)
  offUser: null, // unsubscribes user:{me}
};

// ----------------------------------------------------------------- helpers

const sameId = (a, b) => a != null && b != null && String(a) === String(b);

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text != null) node.textContent = text; // text, never HTML
  return node;
}

function withTimeout(promise, ms) {
  return Promise.race([promise, new Promise((resolve) => setTimeout(resolve, ms))]);
}

function personName(p) {
  return (p && (p.display_name || p.username)) || 'Someone';
}

function conversationTitle(c) {
  const others = ((c && c.participants) || []).filter((p) => !sameId(p.id, state.me.id));
  return others.map(personName).join(', ') || 'Conversation';
}

function senderName(open, senderId) {
  if (sameId(senderId, state.me.id)) return 'You';
  const c = state.conversations.get(open.id);
  const p = ((c && c.participants) || []).find((x) => sameId(x.id, senderId));
  return personName(p);
}

// The page is "being read" only when it is visible and focused: only then do new messages
// count as read.
function isWatching() {
  return document.visibilityState === 'visible' && document.hasFocus();
}

// ----------------------------------------------------------------- sign-in

function showLogin(message) {
  closeConversation();
  if (state.offUser) state.offUser();
  state.offUser = null;
  state.me = null;
  state.conversations.clear();
  gs.disconnect();
  $('#chat-view').hidden = true;
  $('#login-view').hidden = false;
  const err = $('#login-error');
  err.textContent = message || '';
  err.hidden = !message;
}

async function onLoginSubmit(e) {
  e.preventDefault();
  const button = $('#login-submit');
  button.disabled = true;
  try {
    await gs.login($('#login-email').value.trim(), $('#login-password').value);
    $('#login-password').value = '';
    await startChat();
  } catch (err) {
    showLogin(err.status === 401 ? 'Wrong e-mail or password.' : `Could not sign in: ${err.message}`);
  } finally {
    button.disabled = false;
  }
}

async function startChat() {
  state.me = gs.user;
  $('#login-view').hidden = true;
  $('#chat-view').hidden = false;
  $('#me').textContent = personName(state.me);
  gs.connect();
  // Subscribe before loading the list, so no unread/conversation update falls in between.
  const off = gs.subscribe(`user:${state.me.id}`, onUserEvent);
  state.offUser = off;
  await withTimeout(off.ready, SUBSCRIBE_WAIT_MS).catch(() => {});
  await loadConversations();
  const wanted = decodeURIComponent(location.hash.slice(1));
  if (wanted) openConversation(wanted);
}

// ----------------------------------------------------------------- conversation list

async function loadConversations() {
  let data;
  try {
    data = await gs.listConversations();
  } catch (err) {
    setStatus(`Could not load conversations: ${err.message}`);
    return;
  }
  state.conversations.clear();
  for (const c of data.conversations || []) {
    state.conversations.set(String(c.id), c);
    gs.noteRead(String(c.id), c.last_read_seq || 0);
  }
  state.totalUnread = data.total_unread || 0;
  const open = state.open;
  const c = open && state.conversations.get(open.id);
  if (c) {
    open.otherReadSeq = Math.max(open.otherReadSeq, c.other_read_seq || 0);
    renderThreadTitle(open);
    renderSeen(open);
  }
  renderConversations();
}

function renderConversations() {
  const list = $('#conversations');
  const sorted = [...state.conversations.values()].sort(
    (a, b) => Date.parse(b.updated_at || 0) - Date.parse(a.updated_at || 0),
  );
  const items = sorted.map((c) => {
    const li = el('li', 'conversation');
    li.dataset.id = c.id;
    if (state.open && sameId(state.open.id, c.id)) li.classList.add('active');
    li.append(el('span', 'conversation-name', conversationTitle(c)));
    const badge = el('span', 'unread-badge', String(c.unread_count || 0));
    badge.hidden = !(c.unread_count > 0);
    li.append(badge);
    const last = c.last_message;
    li.append(el('span', 'conversation-preview', last ? (last.deleted ? 'Message deleted' : last.text) : ''));
    return li;
  });
  list.replaceChildren(...items);
  $('#no-conversations').hidden = items.length > 0;
  $('#total-unread').textContent = String(state.totalUnread);
}

function onUserEvent(ev) {
  const d = ev.data || {};
  switch (ev.type) {
    case 'unread': {
      state.totalUnread = d.total ?? state.totalUnread;
      const c = state.conversations.get(String(d.conversation_id));
      if (c) c.unread_count = d.count ?? c.unread_count;
      renderConversations();
      break;
    }
    case 'conversation.updated': {
      const id = String(d.id);
      state.conversations.set(id, { ...(state.conversations.get(id) || {}), ...d });
      const open = state.open;
      if (open && open.id === id) {
        open.otherReadSeq = Math.max(open.otherReadSeq, d.other_read_seq || 0);
        renderSeen(open);
      }
      renderConversations();
      break;
    }
    default:
    // Unknown event types are fine: newer servers may send more.
  }
}

// ----------------------------------------------------------------- thread

function closeConversation() {
  const open = state.open;
  if (!open) return;
  open.off();
  for (const t of open.typing.values()) clearTimeout(t.timer);
  state.open = null;
}

async function openConversation(id) {
  id = String(id);
  if (state.open && state.open.id === id) return;
  closeConversation();
  const c = state.conversations.get(id);
  const open = {
    id,
    messages: new Map(), // seq -> Message
    pending: new Map(), // client_id -> {text, failed}
    otherReadSeq: (c && c.other_read_seq) || 0,
    nextBefore: undefined, // undefined: not loaded yet; null: no older page
    typing: new Map(), // user id -> {name, timer}
    off: null,
  };
  state.open = open;
  history.replaceState(null, '', `#${encodeURIComponent(id)}`);
  renderThreadTitle(open);
  $('#composer').hidden = false;
  renderThread(open, true);
  renderTyping(open);
  renderConversations();
  // Subscribe first, then load the latest page: an event committed in between is in one
  // or both, and merging by seq removes the overlap.
  open.off = gs.subscribe(`conversation:${id}`, (ev) => onConversationEvent(open, ev));
  await withTimeout(open.off.ready, SUBSCRIBE_WAIT_MS).catch(() => {});
  if (state.open !== open) return;
  await loadLatest(open);
  if (state.open !== open) return;
  markRead(open, true); // opening a conversation reads it
  $('#message-input').focus();
}

function renderThreadTitle(open) {
  const c = state.conversations.get(open.id);
  $('#thread-title').textContent = c ? conversationTitle(c) : 'Conversation';
}

async function loadLatest(open) {
  try {
    const page = await gs.messages(open.id, { limit: 50 });
    if (state.open !== open) return;
    for (const m of page.messages || []) putMessage(open, m);
    if (open.nextBefore === undefined) open.nextBefore = page.next_before ?? null;
    renderThread(open, true);
  } catch (err) {
    setStatus(`Could not load messages: ${err.message}`);
  }
}

async function loadOlder() {
  const open = state.open;
  if (!open || open.nextBefore == null) return;
  try {
    const page = await gs.messages(open.id, { before: open.nextBefore, limit: 50 });
    if (state.open !== open) return;
    for (const m of page.messages || []) putMessage(open, m);
    open.nextBefore = page.next_before ?? null;
    renderThread(open, false);
  } catch (err) {
    setStatus(`Could not load messages: ${err.message}`);
  }
}

// putMessage merges one stored message; a later version (edit, delete) replaces it.
function putMessage(open, m) {
  if (!m || typeof m.seq !== 'number') return;
  open.messages.set(m.seq, { ...(open.messages.get(m.seq) || {}), ...m });
  if (m.client_id) open.pending.delete(m.client_id);
}

function onConversationEvent(open, ev) {
  if (state.open !== open) return;
  const d = ev.data || {};
  switch (ev.type) {
    case 'message.created':
      putMessage(open, d);
      // The sender's message ends their typing at once.
      if (open.typing.has(String(d.sender_id))) {
        clearTimeout(open.typing.get(String(d.sender_id)).timer);
        open.typing.delete(String(d.sender_id));
        renderTyping(open);
      }
      renderThread(open, true);
      if (!sameId(d.sender_id, state.me.id)) markRead(open, false);
      break;
    case 'message.edited':
      putMessage(open, d);
      renderThread(open, false);
      break;
    case 'message.deleted': {
      const m = [...open.messages.values()].find((x) => sameId(x.id, d.id)) || open.messages.get(d.seq);
      if (m) {
        m.deleted = true;
        m.text = '';
        renderThread(open, false);
      }
      break;
    }
    case 'read':
      if (sameId(d.user_id, state.me.id)) {
        gs.noteRead(open.id, d.seq); // read on another device
      } else {
        open.otherReadSeq = Math.max(open.otherReadSeq, d.seq || 0);
        renderSeen(open);
      }
      break;
    case 'typing':
      if (!sameId(d.user_id, state.me.id)) showTyping(open, String(d.user_id), d.display_name);
      break;
    default:
    // Unknown event types are ignored.
  }
}

function renderThread(open, toBottom) {
  const list = $('#messages');
  const items = [];
  for (const m of [...open.messages.values()].sort((a, b) => a.seq - b.seq)) items.push(messageItem(open, m));
  for (const [clientId, p] of open.pending) items.push(pendingItem(open, clientId, p));
  list.replaceChildren(...items);
  $('#load-older').hidden = open.nextBefore == null;
  renderSeen(open);
  if (toBottom) list.scrollTop = list.scrollHeight;
}

function messageItem(open, m) {
  const own = sameId(m.sender_id, state.me.id);
  const li = el('li', `message ${own ? 'own' : 'theirs'}${m.deleted ? ' deleted' : ''}`);
  li.dataset.seq = String(m.seq);
  li.dataset.id = m.id;
  li.dataset.sender = m.sender_id;
  li.append(el('p', 'message-text', m.deleted ? 'Message deleted' : m.text));
  const when = m.created_at ? new Date(m.created_at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) : '';
  li.append(el('span', 'message-meta', `${senderName(open, m.sender_id)} · ${when}${m.edited_at ? ' · edited' : ''}`));
  return li;
}

function pendingItem(open, clientId, p) {
  const li = el('li', `message own pending${p.failed ? ' failed' : ''}`);
  li.dataset.clientId = clientId;
  li.append(el('p', 'message-text', p.text));
  if (p.failed) {
    const retry = el('button', 'link retry', 'Not sent. Retry');
    retry.type = 'button';
    retry.addEventListener('click', () => send(open, p.text, clientId));
    li.append(retry);
  } else {
    li.append(el('span', 'message-meta', 'Sending…'));
  }
  return li;
}

// "Seen" goes under our last stored message once the other member has read up to it.
function renderSeen(open) {
  if (state.open !== open) return;
  for (const s of document.querySelectorAll('#messages .seen')) s.remove();
  const own = [...open.messages.values()].filter((m) => sameId(m.sender_id, state.me.id));
  if (own.length === 0) return;
  const last = own.reduce((a, b) => (b.seq > a.seq ? b : a));
  if (open.otherReadSeq < last.seq) return;
  const li = document.querySelector(`#messages .message[data-seq="${last.seq}"]`);
  if (li) li.append(el('span', 'seen', 'Seen'));
}

// ----------------------------------------------------------------- typing

function showTyping(open, userId, name) {
  const prev = open.typing.get(userId);
  if (prev) clearTimeout(prev.timer);
  const timer = setTimeout(() => {
    open.typing.delete(userId);
    renderTyping(open);
  }, TYPING_EXPIRY_MS);
  open.typing.set(userId, { name: name || 'Someone', timer });
  renderTyping(open);
}

function renderTyping(open) {
  const box = $('#typing');
  const names = [...open.typing.values()].map((t) => t.name);
  box.hidden = names.length === 0;
  box.textContent =
    names.length === 0 ? '' : names.length === 1 ? `${names[0]} is typing…` : `${names.join(', ')} are typing…`;
}

// ----------------------------------------------------------------- sending and reading

async function send(open, text, clientId = newClientId()) {
  open.pending.set(clientId, { text, failed: false });
  renderThread(open, true);
  try {
    const m = await gs.sendMessage(open.id, text, { clientId });
    putMessage(open, m);
  } catch (err) {
    const p = open.pending.get(clientId);
    if (p) p.failed = true;
    setStatus(`Message not sent: ${err.message}`);
  }
  if (state.open === open) renderThread(open, true);
}

function onComposerSubmit(e) {
  e.preventDefault();
  const open = state.open;
  const input = $('#message-input');
  const text = input.value;
  if (!open || text.trim() === '') return;
  input.value = '';
  send(open, text);
}

// markRead moves our read pointer to the newest message; on new messages only while the
// user is looking at the page (force is for opening the conversation).
function markRead(open, force) {
  if (state.open !== open || (!force && !isWatching())) return;
  let last = 0;
  for (const seq of open.messages.keys()) last = Math.max(last, seq);
  if (last === 0) return;
  gs.markRead(open.id, last)
    .then((r) => {
      if (!r) return;
      const c = state.conversations.get(open.id);
      if (c) {
        c.unread_count = r.unread_count;
        c.last_read_seq = r.last_read_seq;
      }
      state.totalUnread = r.total_unread ?? state.totalUnread;
      renderConversations();
    })
    .catch((err) => setStatus(`Could not mark as read: ${err.message}`));
}

// ----------------------------------------------------------------- connection state

let statusNote = '';
function setStatus(note) {
  statusNote = note;
  renderStatus();
}

function renderStatus() {
  const s = $('#status');
  s.dataset.state = gs.state;
  const conn = { connecting: 'Connecting…', waiting: 'Reconnecting…', stopped: 'Signed out' }[gs.state] || '';
  s.textContent = [conn, statusNote].filter(Boolean).join(' · ');
}

// A channel the server could not replay: reload its state over REST.
function onReset({ channel }) {
  if (!state.me) return;
  if (channel === `user:${state.me.id}`) loadConversations();
  const open = state.open;
  if (open && channel === `conversation:${open.id}`) {
    loadLatest(open).then(() => markRead(open, false));
    loadConversations(); // for the other member's read pointer
  }
}

// ----------------------------------------------------------------- wiring

function wire() {
  $('#login-form').addEventListener('submit', onLoginSubmit);
  $('#composer').addEventListener('submit', onComposerSubmit);
  $('#message-input').addEventListener('input', () => {
    if (!state.open) return;
    if ($('#message-input').value !== '') gs.sendTyping(state.open.id);
    else gs.stopTyping(state.open.id);
  });
  $('#message-input').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) onComposerSubmit(e);
  });
  $('#conversations').addEventListener('click', (e) => {
    const li = e.target.closest('.conversation');
    if (li) openConversation(li.dataset.id);
  });
  $('#load-older').addEventListener('click', loadOlder);
  $('#logout').addEventListener('click', () => gs.logout().finally(() => showLogin()));
  const catchUp = () => state.open && markRead(state.open, false);
  window.addEventListener('focus', catchUp);
  document.addEventListener('visibilitychange', catchUp);
  gs.on('state', renderStatus);
  gs.on('reset', onReset);
  gs.on('signedout', () => showLogin('Your session ended. Sign in again.'));
  gs.on('error', (f) => f && f.channel && setStatus(`${f.channel}: ${f.code}`));
}

async function boot() {
  wire();
  let s = null;
  try {
    s = await gs.session();
  } catch (err) {
    showLogin(`The hub is not reachable: ${err.message}`);
    return;
  }
  if (s && s.user) await startChat();
  else showLogin();
}

boot();
