// In a browser the platform's fetch and WebSocket are what GigStreamClient uses by
// default; passing them explicitly must type-check too.
import { GigStreamClient, type FetchLike, type WebSocketConstructorLike } from '@gigstream/client';

const ws: WebSocketConstructorLike = WebSocket;
const f: FetchLike = fetch;
export const gs = new GigStreamClient({ baseUrl: location.origin, WebSocket: ws, fetch: f, useTicket: true });
