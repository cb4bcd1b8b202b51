// A front end's use of @gigstream/client, compiled by tsc in `make test`
// (web/declarations_test.go). Lines marked @ts-expect-error must stay errors: they show
// that the declarations refuse what the protocol refuses.
import {
  GigStreamClient,
  GigStreamError,
  CloseCodes,
  ErrorCodes,
  PROTOCOL_VERSION,
  SUBPROTOCOL,
  backoffDelay,
  newClientId,
  type ChannelEvent,
  type ClientFrame,
  type CloseCode,
  type ErrorCode,
  type Message,
  type ServerFrame,
} from '@gigstream/client';

declare const console: { log(...args: unknown[]): void }; // no DOM or Node library here

const gs = new GigStreamClient({ baseUrl: 'https://hub.example', backoffBase: 250, backoffMax: 8000 });
// @ts-expect-error backoffBase is a number of milliseconds
new GigStreamClient({ backoffBase: '250' });

async function main(): Promise<void> {
  const s = await gs.session();
  if (s === null) await gs.login('maya@example.com', 'secret');
  const me: string | undefined = s?.user.id;

  gs.on('signedout', () => undefined);
  gs.on('reconnecting', ({ attempt, delay, code }) => console.log(attempt, delay, code === CloseCodes.GOING_AWAY));
  gs.on('reset', ({ channel, reason }) => {
    if (reason === 'not_recovered') console.log('reload', channel);
  });
  gs.on('open', (hello) => console.log(hello.v === PROTOCOL_VERSION, hello.max_frame));
  // @ts-expect-error not an event of the client
  gs.on('opened', () => undefined);
  gs.connect();

  // A conversation channel narrows each event's data by its type.
  const off = gs.subscribe('conversation:42', (ev) => {
    switch (ev.type) {
      case 'message.created':
      case 'message.edited': {
        const m: Message = ev.data;
        console.log(m.text, ev.seq);
        break;
      }
      case 'message.deleted':
        console.log(ev.data.id);
        break;
      case 'read':
        console.log(ev.data.user_id, ev.data.seq);
        break;
      case 'typing':
        console.log(ev.data.display_name);
        break;
      // @ts-expect-error orders' events never arrive on a conversation
      case 'order.paid':
        break;
    }
  });
  await off.ready;
  off();

  gs.subscribe(`order:${'9'}`, (ev) => {
    if (ev.type === 'order.delivered') console.log(ev.data.delivery.files.length, ev.data.order.status);
    if (ev.type === 'order.refunded') console.log(ev.data.refund.amount_minor);
    // @ts-expect-error a cancel's refund is optional
    if (ev.type === 'order.cancelled') console.log(ev.data.refund.amount_minor);
  });
  gs.subscribe(`user:${me}`, (ev) => {
    if (ev.type === 'notification') console.log(ev.data.kind === 'order_disputed');
    if (ev.type === 'unread') console.log(ev.data.total);
  });
  // Channels of the publish API carry any type and unknown data.
  gs.subscribe('ticker:eur', (ev: ChannelEvent) => console.log(ev.type, ev.data), { since: 0 });

  gs.setLastSeq('conversation:42', 17);
  const last: number | null = gs.lastSeq('conversation:42');
  console.log(last, backoffDelay(3, 500, 10000), newClientId(), SUBPROTOCOL);

  try {
    const m = await gs.sendMessage('42', 'hi', { clientId: newClientId(), attempts: 3 });
    console.log(m.seq);
  } catch (err) {
    if (err instanceof GigStreamError) console.log(err.status, err.problem?.errors?.[0]?.field, err.clientId);
  }
}

// Frames: the discriminant narrows, and fields are those of the doc.
function onFrame(f: ServerFrame): void {
  switch (f.op) {
    case 'hello':
      console.log(f.ping, f.frame_rate, f.frame_burst, f.node, f.client);
      break;
    case 'event':
      console.log(f.channel, f.seq ?? 'ephemeral', f.type, f.data);
      break;
    case 'reply':
      console.log(f.ok, f.recovered);
      break;
    case 'error': {
      const known: boolean = (Object.values(ErrorCodes) as string[]).includes(f.code);
      console.log(known, f.channel);
      break;
    }
  }
}

const frames: ClientFrame[] = [
  { op: 'subscribe', id: 1, channel: 'conversation:12', since: 40 },
  { op: 'unsubscribe', id: 2, channel: 'conversation:12' },
  { op: 'publish', id: 3, channel: 'conversation:12', type: 'typing', data: {} },
  { op: 'ack', id: 4, channel: 'conversation:12', seq: 41 },
  { op: 'ping', id: 5 },
];
// @ts-expect-error an ack needs its seq
const badAck: ClientFrame = { op: 'ack', id: 4, channel: 'conversation:12' };
// @ts-expect-error not an op of v1
const badOp: ClientFrame = { op: 'history', id: 6 };

const code: CloseCode = CloseCodes.SESSION_ENDED;
// @ts-expect-error not a close code of the protocol
const badCode: CloseCode = 4099;
const err: ErrorCode = ErrorCodes.RECOVERY_FAILED;
// @ts-expect-error not an error code of the protocol
const badErr: ErrorCode = 'not_member';

export { main, onFrame, frames, badAck, badOp, code, badCode, err, badErr };
