// Drives @gigstream/client (web/static/gigstream.js) from Node against real hub nodes,
// for e2e/webclient_test.go: one bearer client subscribed to one channel, reporting
// everything it sees as JSON lines on stdout. The test kills and restarts the node
// under it; "exit" on stdin ends the run.
//
//   node --experimental-websocket live.mjs BASE_URL TOKEN CHANNEL
import { createInterface } from 'node:readline';
import { GigStreamClient } from '../../web/static/gigstream.js';

const [baseUrl, token, channel] = process.argv.slice(2);
const say = (kind, detail = {}) => process.stdout.write(JSON.stringify({ kind, at: Date.now(), ...detail }) + '\n');

const gs = new GigStreamClient({ baseUrl, token, WebSocket: globalThis.WebSocket, backoffBase: 100, backoffMax: 1600 });
gs.on('state', (state) => say('state', { state }));
gs.on('open', (hello) => say('open', { node: hello.node }));
gs.on('close', ({ code }) => say('close', { code }));
gs.on('reconnecting', (r) => say('reconnecting', r));
gs.on('reset', (r) => say('reset', r));
gs.on('signedout', () => say('signedout'));
gs.on('error', (e) => say('error', { code: e.code, message: e.message }));

gs.connect();
const off = gs.subscribe(channel, (ev) => say('event', { seq: ev.seq, type: ev.type, data: ev.data }));
off.ready.then(
  () => say('subscribed'),
  (err) => say('refused', { code: err.code }),
);

// Never outlive the test by much.
const deadline = setTimeout(() => {
  say('timeout');
  process.exit(2);
}, 120_000);

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() !== 'exit') return;
  clearTimeout(deadline);
  gs.disconnect();
  say('bye', { lastSeq: gs.lastSeq(channel) });
  process.exit(0);
});
