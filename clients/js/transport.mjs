// Which WebSocket to use.  Browsers and Node >= 22 have a global WebSocket (WHATWG API, no
// custom headers); Node 18-21 take the `ws` package from clients/node_modules, which speaks the
// same onopen/onmessage/onclose API and can also send an Authorization header.

/**
 * @typedef {{ WebSocket: any, headers: boolean }} SocketKind
 *   `headers`: whether the constructor accepts `{headers}` (only `ws` does).
 */

/** @type {Promise<SocketKind> | null} */
let cached = null;

/** @returns {Promise<SocketKind>} */
export function socketKind() {
  if (!cached) {
    cached = (async () => {
      if (typeof globalThis.WebSocket === 'function') return { WebSocket: globalThis.WebSocket, headers: false };
      try {
        const mod = await import('ws');
        return { WebSocket: mod.default ?? mod.WebSocket, headers: true };
      } catch {
        throw new Error('no WebSocket: use Node >= 22 or run `npm ci` in clients/ to install ws');
      }
    })();
  }
  return cached;
}

/**
 * The realtime endpoint for a base URL: `http(s)://host` and `ws(s)://host` both work, with or
 * without the `/v1/realtime` path.
 * @param {string} base
 * @returns {string}
 */
export function realtimeUrl(base) {
  const url = new URL(base);
  if (url.protocol === 'http:') url.protocol = 'ws:';
  if (url.protocol === 'https:') url.protocol = 'wss:';
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/v1/realtime';
  return url.toString();
}

/**
 * Open a socket with a credential: a header where the socket class allows one (keeps keys out
 * of URLs and access logs), else `?token=` (the server accepts keys and tokens there).
 * @param {string} url
 * @param {string | undefined} credential
 * @returns {Promise<WebSocket>}
 */
export async function openSocket(url, credential) {
  const { WebSocket: WS, headers } = await socketKind();
  let socket;
  if (credential && headers) {
    socket = new WS(url, { headers: { Authorization: `Bearer ${credential}` } });
  } else {
    const withToken = new URL(url);
    if (credential) withToken.searchParams.set('token', credential);
    socket = new WS(withToken.toString());
  }
  socket.binaryType = 'arraybuffer';
  return socket;
}
