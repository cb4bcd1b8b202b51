// Uploads one file to a tus endpoint with tus-js-client, resuming after dropped
// connections, and prints {"url": ..., "retries": n} on success.
// Usage: node upload.mjs ENDPOINT FILE BEARER_TOKEN [KIND [ORDER_ID]]
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { Upload } from 'tus-js-client';

const [endpoint, file, token, kind = 'deliverable', orderID] = process.argv.slice(2);
const data = readFileSync(file);
let retries = 0;

const upload = new Upload(data, {
  endpoint,
  headers: { Authorization: `Bearer ${token}` },
  metadata: { filename: basename(file), kind, ...(orderID ? { order_id: orderID } : {}) },
  retryDelays: [0, 500, 1000, 2000, 3000, 5000],
  removeFingerprintOnSuccess: true,
  onShouldRetry(err, attempt) {
    retries++;
    const status = err.originalResponse ? err.originalResponse.getStatus() : 0;
    console.error(`retry ${attempt}: status ${status}: ${err.message.split('\n')[0]}`);
    return status === 0 || status === 409 || status === 423 || status >= 500;
  },
  onError(err) {
    console.error(`failed: ${err.message}`);
    process.exit(1);
  },
  onSuccess() {
    console.log(JSON.stringify({ url: upload.url, retries }));
  },
});
upload.start();
