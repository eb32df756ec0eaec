// What the server tests share: where the server is (set by tests/test_js_client.py, which starts
// a real one) and a TCP relay that can cut every connection through it, the way a network drop
// does (no close frame: the client sees an abnormal close, the server a vanished peer).
import net from 'node:net';

export const SERVER = process.env.RTT_URL; // ws://127.0.0.1:PORT
export const API_KEY = process.env.RTT_API_KEY;
export const NO_SERVER = SERVER ? false : 'RTT_URL is not set (tests/test_js_client.py starts a server)';

/**
 * @param {string} target ws://host:port
 * @returns {Promise<{ url: string, drop: () => void, stall: () => void, close: () => Promise<void>, connections: number }>}
 */
export async function startRelay(target) {
  const { hostname, port } = new URL(target);
  /** @type {Set<net.Socket>} */
  const open = new Set();
  /** @type {Set<net.Socket>} */
  const clients = new Set();
  const relay = { url: '', connections: 0, drop, stall, close };
  const server = net.createServer((client) => {
    relay.connections++;
    const upstream = net.connect(Number(port), hostname);
    for (const s of [client, upstream]) {
      open.add(s);
      s.on('error', () => {});
      s.on('close', () => { open.delete(s); client.destroy(); upstream.destroy(); });
    }
    clients.add(client);
    client.on('close', () => clients.delete(client));
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  relay.url = `ws://127.0.0.1:${/** @type {net.AddressInfo} */ (server.address()).port}`;
  // What the client writes from now on is swallowed, as by a link that died before the drop is
  // noticed: the client believes it sent it.
  function stall() { for (const c of clients) { c.unpipe(); c.on('data', () => {}); c.resume(); } }
  function drop() { for (const s of [...open]) s.resetAndDestroy ? s.resetAndDestroy() : s.destroy(); }
  function close() { drop(); return new Promise((resolve) => server.close(() => resolve())); }
  return relay;
}

/** Every event of a session until it ends (or `until` accepts one). */
export async function collect(session, until = () => false) {
  const events = [];
  for await (const ev of session) {
    events.push(ev);
    if (until(ev, events)) break;
  }
  return events;
}
