// Unit checks of static/gigstream.js with a fake WebSocket and fetch (Node 20+):
//   node --test web/
// The browser end to end test is e2e/browser_test.go.
import test from 'node:test';
import assert from 'node:assert/strict';
import { GigStreamClient, backoffDelay } from './static/gigstream.js';

class FakeSocket {
  static all = [];
  constructor(url, protocols) {
    this.url = url;
    this.protocols = protocols;
    this.readyState = 1;
    this.sent = [];
    FakeSocket.all.push(this);
  }
  send(s) {
    this.sent.push(JSON.parse(s));
  }
  close(code) {
    this.readyState = 3;
    this.closedWith = code;
  }
  server(frame) {
    this.onmessage({ data: JSON.stringify(frame) });
  }
  drop(code) {
    this.readyState = 3;
    this.onclose({ code, reason: '' });
  }
  hello() {
    this.server({ op: 'hello', v: 1, ping: 25 });
  }
  answerSubscribes(extra = {}) {
    for (const f of this.sent.filter((f) => f.op === 'subscribe' && !f.answered)) {
      f.answered = true;
      this.server({ op: 'reply', id: f.id, ok: true, ...extra });
    }
  }
}

const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

function client(fetchImpl) {
  FakeSocket.all = [];
  return new GigStreamClient({
    baseUrl: 'http://hub.test',
    WebSocket: FakeSocket,
    backoffBase: 1,
    backoffMax: 2,
    fetch: fetchImpl || (async () => new Response('{}', { status: 200 })),
  });
}

test('backoff is capped and jittered', () => {
  assert.equal(backoffDelay(0, 500, 10000, () => 0.999), 499);
  assert.equal(backoffDelay(10, 500, 10000, () => 0.999), 9990);
  assert.equal(backoffDelay(3, 500, 10000, () => 0), 0);
});

test('resubscribes with since after 1001, dedupes replayed seqs, emits reset when not recovered', async () => {
  const gs = client();
  gs.user = { id: 'u1' };
  const got = [];
  const resets = [];
  gs.on('reset', (r) => resets.push(r));
  gs.connect();
  const off = gs.subscribe('conversation:1', (ev) => got.push(ev.seq));
  let ws = FakeSocket.all[0];
  assert.equal(ws.url, 'ws://hub.test/ws');
  assert.deepEqual(ws.protocols, []);
  ws.hello();
  assert.equal(ws.sent[0].since, undefined);
  ws.answerSubscribes();
  await off.ready;
  ws.server({ op: 'event', channel: 'conversation:1', seq: 1, type: 'message.created', data: {} });
  ws.server({ op: 'event', channel: 'conversation:1', seq: 2, type: 'message.created', data: {} });
  ws.drop(1001);
  await tick(600);
  ws = FakeSocket.all[1];
  assert.ok(ws, 'reconnected after 1001');
  ws.hello();
  assert.equal(ws.sent[0].since, 2);
  ws.answerSubscribes({ recovered: true });
  ws.server({ op: 'event', channel: 'conversation:1', seq: 2, type: 'message.created', data: {} });
  ws.server({ op: 'event', channel: 'conversation:1', seq: 3, type: 'message.created', data: {} });
  assert.deepEqual(got, [1, 2, 3]);
  assert.deepEqual(resets, []);
  ws.drop(1006);
  await tick(600); // 1006 before any hello on the next socket goes through a session check
  ws = FakeSocket.all[2];
  ws.hello();
  ws.answerSubscribes({ recovered: false });
  await tick();
  assert.deepEqual(resets, [{ channel: 'conversation:1', reason: 'not_recovered' }]);
  gs.disconnect();
});

test('4001 stops reconnecting and signs out', async () => {
  const gs = client();
  gs.user = { id: 'u1' };
  let signedOut = 0;
  gs.on('signedout', () => signedOut++);
  gs.connect();
  FakeSocket.all[0].hello();
  FakeSocket.all[0].drop(4001);
  await tick(50);
  assert.equal(signedOut, 1);
  assert.equal(FakeSocket.all.length, 1);
  assert.equal(gs.state, 'stopped');
});

test('typing is throttled to one frame per 2 s per conversation, with one trailing frame', async () => {
  const gs = client();
  gs.connect();
  FakeSocket.all[0].hello();
  const typing = () => FakeSocket.all[0].sent.filter((f) => f.op === 'publish').map((f) => [f.channel, f.type]);
  assert.equal(gs.sendTyping('7'), true);
  assert.equal(gs.sendTyping('7'), false);
  assert.equal(gs.sendTyping('7'), false);
  assert.equal(gs.sendTyping('8'), true);
  gs.sendTyping('8');
  gs.stopTyping('8'); // sent the message: no trailing frame
  assert.deepEqual(typing(), [['conversation:7', 'typing'], ['conversation:8', 'typing']]);
  await tick(2400);
  assert.deepEqual(typing(), [['conversation:7', 'typing'], ['conversation:8', 'typing'], ['conversation:7', 'typing']]);
  gs.disconnect();
});

test('sendMessage retries a network failure with the same client_id and CSRF header', async () => {
  const bodies = [];
  let calls = 0;
  const gs = client(async (url, init) => {
    calls++;
    bodies.push({ url, headers: init.headers, body: JSON.parse(init.body) });
    if (calls === 1) throw new TypeError('Failed to fetch');
    if (calls === 2) return new Response('', { status: 503 });
    return new Response(JSON.stringify({ id: 'm1', seq: 1 }), { status: 201 });
  });
  gs.csrfToken = 'tok';
  const m = await gs.sendMessage('5', '<b>hi</b>', { clientId: '11111111-1111-4111-8111-111111111111' });
  assert.equal(m.seq, 1);
  assert.equal(bodies.length, 3);
  for (const b of bodies) {
    assert.equal(b.url, 'http://hub.test/conversations/5/messages');
    assert.equal(b.body.client_id, '11111111-1111-4111-8111-111111111111');
    assert.equal(b.body.text, '<b>hi</b>');
    assert.equal(b.headers['X-CSRF-Token'], 'tok');
  }
});

test('sendMessage does not retry a refusal', async () => {
  let calls = 0;
  const gs = client(async () => {
    calls++;
    return new Response(JSON.stringify({ title: 'blocked' }), { status: 403 });
  });
  await assert.rejects(gs.sendMessage('5', 'x'), (err) => err.status === 403 && typeof err.clientId === 'string');
  assert.equal(calls, 1);
});

test('markRead skips pointers that cannot move', async () => {
  const seqs = [];
  const gs = client(async (url, init) => {
    seqs.push(JSON.parse(init.body).seq);
    return new Response(JSON.stringify({ last_read_seq: 3 }), { status: 200 });
  });
  await gs.markRead('5', 3);
  await gs.markRead('5', 3);
  await gs.markRead('5', 2);
  gs.noteRead('5', 9);
  await gs.markRead('5', 8);
  await gs.markRead('5', 10);
  assert.deepEqual(seqs, [3, 10]);
});

test('failed connects back off exponentially with full jitter, reported by reconnecting', async () => {
  FakeSocket.all = [];
  const gs = new GigStreamClient({
    baseUrl: 'http://hub.test',
    WebSocket: FakeSocket,
    backoffBase: 4,
    backoffMax: 32,
    fetch: async () => new Response('{}', { status: 200 }),
  });
  const tries = [];
  gs.on('reconnecting', (r) => tries.push(r));
  gs.connect();
  // Six upgrades fail in a row (no hello): each is followed by a longer cap.
  for (let i = 0; i < 6; i++) {
    FakeSocket.all.at(-1).drop(1006);
    await tick(40);
  }
  assert.equal(FakeSocket.all.length, 7);
  assert.deepEqual(tries.map((r) => r.attempt), [1, 2, 3, 4, 5, 6]);
  const caps = [4, 8, 16, 32, 32, 32];
  tries.forEach((r, i) => {
    assert.equal(r.code, 1006);
    assert.ok(r.delay >= 0 && r.delay < caps[i], `try ${i + 1} waited ${r.delay} ms, cap ${caps[i]}`);
  });
  // A hello resets the count: the next drop starts from the first cap again.
  FakeSocket.all.at(-1).hello();
  FakeSocket.all.at(-1).drop(1011);
  assert.equal(tries.at(-1).attempt, 1);
  gs.disconnect();
});

test('a bearer client opens the socket with a ticket and signs out on 401', async () => {
  FakeSocket.all = [];
  const calls = [];
  let ticketStatus = 201;
  const gs = new GigStreamClient({
    baseUrl: 'https://hub.test',
    token: 'tok-1',
    WebSocket: FakeSocket,
    backoffBase: 1,
    backoffMax: 2,
    fetch: async (url, init) => {
      calls.push({ url, method: init.method, auth: init.headers.Authorization, csrf: init.headers['X-CSRF-Token'] });
      if (ticketStatus !== 201) return new Response('{"title":"Unauthorized"}', { status: ticketStatus });
      return new Response(JSON.stringify({ ticket: `t${calls.length}`, expires_in: 60 }), { status: 201 });
    },
  });
  gs.csrfToken = 'ignored-for-bearer';
  let signedOut = 0;
  gs.on('signedout', () => signedOut++);
  gs.connect();
  await tick(10);
  assert.equal(FakeSocket.all[0].url, 'wss://hub.test/ws?ticket=t1');
  assert.deepEqual(calls[0], { url: 'https://hub.test/ws/ticket', method: 'POST', auth: 'Bearer tok-1', csrf: undefined });
  FakeSocket.all[0].hello();
  ticketStatus = 401;
  FakeSocket.all[0].drop(1001);
  await tick(600);
  assert.equal(signedOut, 1);
  assert.equal(gs.state, 'stopped');
  assert.equal(gs.token, null);
  assert.equal(FakeSocket.all.length, 1);
});

test('a subscribe refused with an unknown code is retried like internal; forbidden is final', async () => {
  const gs = client();
  gs.connect();
  const ws = FakeSocket.all[0];
  ws.hello();
  const errors = [];
  gs.on('error', (e) => errors.push(e.code));
  const a = gs.subscribe('conversation:1', () => {});
  const b = gs.subscribe('order:2', () => {});
  const [subA, subB] = ws.sent.filter((f) => f.op === 'subscribe');
  ws.server({ op: 'error', id: subA.id, code: 'not_member_yet', message: 'later' });
  ws.server({ op: 'error', id: subB.id, code: 'forbidden', message: 'subscription refused' });
  await assert.rejects(b.ready, (err) => err.code === 'forbidden');
  await tick(300);
  const again = ws.sent.filter((f) => f.op === 'subscribe' && f.channel === 'conversation:1');
  assert.equal(again.length, 2, 'conversation:1 subscribed again');
  assert.equal(ws.sent.filter((f) => f.op === 'subscribe' && f.channel === 'order:2').length, 1);
  assert.deepEqual(errors, ['forbidden']);
  ws.server({ op: 'reply', id: again[1].id, ok: true });
  await a.ready;
  gs.disconnect();
});

test('setLastSeq after a reset drops what the reload covered and resumes after it', async () => {
  const gs = client();
  gs.connect();
  let ws = FakeSocket.all[0];
  ws.hello();
  const got = [];
  gs.subscribe('user:1', (ev) => got.push(ev.seq), { since: 3 });
  assert.equal(ws.sent[0].since, 3);
  ws.answerSubscribes({ recovered: false });
  await tick();
  gs.setLastSeq('user:1', 9); // the REST reload was complete up to 9
  gs.setLastSeq('user:1', 5); // never backwards
  ws.server({ op: 'event', channel: 'user:1', seq: 9, type: 'unread', data: {} });
  ws.server({ op: 'event', channel: 'user:1', seq: 10, type: 'unread', data: {} });
  assert.deepEqual(got, [10]);
  ws.drop(1001);
  await tick(600);
  ws = FakeSocket.all[1];
  ws.hello();
  assert.equal(ws.sent[0].since, 10);
  gs.disconnect();
});
