// The rtt realtime client for browsers and Node (ESM, no build step).  One session over the
// WebSocket protocol of docs/api.md (version 1): hello, text, PCM16/Opus audio as binary frames,
// commit, pings, and every server message as an async-iterable stream.  It rides out a dropped
// connection: it reconnects, resumes the session with hello {session_id, last_event_id}, sends
// again what the server had not processed (session.created.last_seq) and drops finals it
// already has, so the stream holds each final once.
//
//   import { connect } from './rtt.mjs';
//   const session = await connect({ url: 'ws://127.0.0.1:8000', apiKey: 'key1',
//                                   session: { source_lang: 'es', target_lang: 'en' } });
//   session.sendText('hola a todos', { final: true });
//   for await (const ev of session) if (ev.type === 'final_translation') console.log(ev.text);

import { bytesToBase64, pcm16Bytes } from './audio.mjs';
import { EventQueue } from './queue.mjs';
import { openSocket, realtimeUrl } from './transport.mjs';

export { realtimeUrl } from './transport.mjs';

export const PROTOCOL_VERSION = 1;
// Finals the server keeps until acknowledged, and sends again on a resume (rtt/protocol.py).
const REPLAYABLE = new Set(['final_asr', 'final_translation', 'revised_asr', 'revised_translation']);
// A resume must land within the server's grace period (serve.timeouts.resume_grace_s, 30 s).
const BACKOFF_MS = [100, 250, 500, 1000, 2000, 2000, 4000, 4000, 8000];
// Resume refusals that no retry will change.
const PERMANENT = new Set(['NOT_FOUND', 'UNAUTHORIZED', 'FORBIDDEN', 'UNSUPPORTED_VERSION']);

/** A structured server error (`{type: "error", code, message, retry_after_ms}`) as an Error. */
export class RttError extends Error {
  /** @param {string} code @param {string} message @param {{retryAfterMs?: number, seq?: number, fatal?: boolean}} [extra] */
  constructor(code, message, extra = {}) {
    super(`${code}: ${message}`);
    this.name = 'RttError';
    this.code = code;
    this.retryAfterMs = extra.retryAfterMs;
    this.seq = extra.seq;
    this.fatal = extra.fatal ?? false;
  }

  /** @param {any} msg an `error` message */
  static from(msg) {
    return new RttError(msg.code, msg.message, { retryAfterMs: msg.retry_after_ms, seq: msg.seq, fatal: msg.fatal });
  }
}

/**
 * @typedef {Object} ConnectOptions
 * @property {string | string[]} url  server (`http(s)://` or `ws(s)://`, `/v1/realtime` optional);
 *   several: a reconnect tries the next one (a drained replica's sessions resume on another)
 * @property {string} [apiKey]
 * @property {string} [token]  a short-lived token from POST /v1/tokens (what a browser page holds)
 * @property {Record<string, any>} session  hello fields: target_lang, source_lang, features, audio, ...
 * @property {boolean} [reconnect]  resume after a dropped connection (default true)
 * @property {number} [pingIntervalMs]  measure the round trip every so often (default 0: only on ping())
 * @property {'binary' | 'json'} [audioFrames]  'binary' (default): raw bytes, no seq; 'json': input_audio
 *   with a seq, sent again after a reconnect if the server had not processed it (exactly once)
 * @property {number} [connectTimeoutMs]  per attempt (default 10000)
 * @property {(url: string, credential?: string) => Promise<any>} [transport]  opens the socket-like
 *   channel the session talks over (default: a WebSocket; webrtc.mjs has a DataChannel one)
 */

/**
 * Open a session: resolves once the server answered hello with session.created, rejects with an
 * RttError carrying the server's code (UNAUTHORIZED, UNSUPPORTED_LANGUAGE, ...) otherwise.
 * @param {ConnectOptions} options
 * @returns {Promise<RealtimeSession>}
 */
export async function connect(options) {
  const session = new RealtimeSession(options);
  await session.open();
  return session;
}

export class RealtimeSession {
  /** @type {string | null} */ id = null;
  /** @type {any} the latest session.created */ created = null;
  /** @type {number | null} highest final event_id received */ lastEventId = null;
  /** @type {number | null} the latest ping's round trip, ms */ rttMs = null;
  /** @type {'connecting' | 'open' | 'reconnecting' | 'closed'} */ state = 'connecting';

  /** @type {WebSocket | null} */ #socket = null;
  #urls;
  #urlIndex = 0;
  #credential;
  #options;
  #events = new EventQueue();
  /** @type {Map<string, Set<(ev: any) => void>>} */ #listeners = new Map();
  #nextSeq = 0;
  /** Written to a socket, not yet acknowledged: sent again after a resume if the server lacks it. */
  /** @type {Map<number, string | Uint8Array>} */ #unacked = new Map();
  /** Not yet written (disconnected, or the server asked for a pause with drain). */
  /** @type {{ data: string | Uint8Array, seq?: number }[]} */ #outbox = [];
  #pausedUntil = 0;
  /** @type {any} */ #drainTimer = null;
  /** @type {any} */ #pingTimer = null;
  /** @type {Map<number, { t0: number, resolve: (ms: number) => void, reject: (e: Error) => void }>} */ #pings = new Map();
  #seenEvents = new Set();
  #ended = false; // session.ended received or close() called: a closed socket is not a drop
  #shutdown = false; // the server drained: the session may resume on another replica

  /** @param {ConnectOptions} options */
  constructor(options) {
    if (!options || !options.url) throw new TypeError('connect: url is required');
    if (!options.session || (!options.session.target_lang && !options.session.session_id)) {
      throw new TypeError('connect: session.target_lang is required');
    }
    this.#urls = (Array.isArray(options.url) ? options.url : [options.url]).map(realtimeUrl);
    this.#credential = options.token ?? options.apiKey;
    this.#options = { reconnect: true, pingIntervalMs: 0, audioFrames: 'binary', connectTimeoutMs: 10000, ...options };
  }

  /** The session's audio encoding (hello.audio.encoding; the server's default is pcm16le). */
  get encoding() { return this.created?.config?.audio?.encoding ?? 'pcm16le'; }

  /** Ms until sending resumes after a drain (0: not paused). */
  get pausedForMs() { return Math.max(0, this.#pausedUntil - now()); }

  /** @internal first connection: a new session */
  async open() {
    const { session_id: resumeId, last_event_id: lastEventId, ...config } = this.#options.session;
    const hello = resumeId
      ? { type: 'hello', version: PROTOCOL_VERSION, session_id: resumeId, ...(lastEventId != null ? { last_event_id: lastEventId } : {}) }
      : { type: 'hello', version: PROTOCOL_VERSION, ...config };
    if (lastEventId != null) this.lastEventId = lastEventId;
    try {
      await this.#attach(hello);
    } catch (err) {
      this.state = 'closed';
      this.#events.close();
      throw err;
    }
  }

  // -- sending ----------------------------------------------------------------------------------

  /** @param {string} text @param {{ final?: boolean }} [opts] @returns {number} the message's seq */
  sendText(text, { final = false } = {}) {
    return this.#sendJson({ type: 'input_text', text, final });
  }

  /**
   * Audio in the session's format: PCM16 samples (Int16Array) or bytes (PCM16LE, or one Opus
   * packet for an opus session).  Binary frames by default; see ConnectOptions.audioFrames.
   * @param {Int16Array | Uint8Array | ArrayBuffer} audio
   * @returns {number | undefined} the seq (JSON frames only)
   */
  sendAudio(audio) {
    const bytes = audio instanceof Int16Array ? pcm16Bytes(audio)
      : audio instanceof ArrayBuffer ? new Uint8Array(audio) : audio;
    const limit = this.created?.limits?.max_audio_frame_bytes ?? Infinity;
    if (bytes.byteLength > limit && this.encoding === 'pcm16le') {
      // Long PCM buffers go as several frames (whole samples each) rather than FRAME_TOO_LARGE.
      const step = Math.floor(limit / 2) * 2;
      let seq;
      for (let i = 0; i < bytes.byteLength; i += step) seq = this.sendAudio(bytes.subarray(i, i + step));
      return seq;
    }
    if (this.#options.audioFrames === 'json') {
      return this.#sendJson({ type: 'input_audio', audio: bytesToBase64(bytes) });
    }
    // A copy: the caller may reuse its buffer while the frame waits in the outbox.
    this.#write({ data: bytes.slice() });
    return undefined;
  }

  /** One Opus packet (a session opened with audio.encoding "opus"). @param {Uint8Array | ArrayBuffer} packet */
  sendOpus(packet) {
    if (this.encoding !== 'opus') throw new RttError('UNSUPPORTED_AUDIO_FORMAT', `this session takes ${this.encoding}, not opus`);
    return this.sendAudio(packet instanceof ArrayBuffer ? new Uint8Array(packet) : packet);
  }

  /** End the current utterance now (its finals follow). */
  commit() { return this.control('commit'); }

  /** @param {string} lang */
  setTargetLang(lang) { return this.control('set_target_lang', { target_lang: lang }); }

  /** @param {Record<string, any>} dictionary */
  setDictionary(dictionary) { return this.control('set_dictionary', { dictionary }); }

  /**
   * Any control action (pause, resume, commit, set_target_lang, set_dictionary, end, ack).
   * @param {string} action @param {Record<string, any>} [fields]
   */
  control(action, fields = {}) {
    return this.#sendJson({ type: 'control', action, ...fields });
  }

  /**
   * Round trip through the session (control ping -> pong), in ms; also kept in `rttMs`.
   * @param {{ timeoutMs?: number }} [opts]
   * @returns {Promise<number>}
   */
  ping({ timeoutMs = 10000 } = {}) {
    if (this.state !== 'open') return Promise.reject(new RttError('NOT_CONNECTED', 'no open connection'));
    const seq = this.#nextSeq++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { this.#pings.delete(seq); reject(new RttError('TIMEOUT', 'no pong')); }, timeoutMs);
      const t0 = now();
      this.#pings.set(seq, {
        t0,
        resolve: (ms) => { clearTimeout(timer); resolve(ms); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      });
      // Straight to the socket, past a drain pause: a pong held back would measure the pause.
      this.#socket?.send(JSON.stringify({ type: 'control', action: 'ping', seq, client_time: Date.now() / 1000 }));
    });
  }

  /** Deliver what is in flight, then end: resolves with session.ended. */
  end() {
    const ended = this.waitFor('session.ended', { timeoutMs: 0 });
    this.control('end');
    return ended;
  }

  /** Close the connection now without ending the session (it waits for a resume until the server's grace runs out). */
  close() {
    this.#ended = true;
    this.#finish();
  }

  // -- receiving --------------------------------------------------------------------------------

  /** Every server message, in order (finals once, also across resumes), until the session ends. */
  [Symbol.asyncIterator]() { return this.#events[Symbol.asyncIterator](); }

  /**
   * Call `listener` for each message of a type ('*': all); returns the unsubscribe function.
   * @param {string} type @param {(ev: any) => void} listener
   */
  on(type, listener) {
    if (!this.#listeners.has(type)) this.#listeners.set(type, new Set());
    this.#listeners.get(type)?.add(listener);
    return () => this.#listeners.get(type)?.delete(listener);
  }

  /**
   * The next message of a type, or the next one a predicate accepts.
   * @param {string | ((ev: any) => boolean)} match
   * @param {{ timeoutMs?: number }} [opts] 0: no timeout
   * @returns {Promise<any>}
   */
  waitFor(match, { timeoutMs = 30000 } = {}) {
    const test = typeof match === 'string' ? (/** @type {any} */ ev) => ev.type === match : match;
    return new Promise((resolve, reject) => {
      /** @type {any} */ let timer = null;
      const off = this.on('*', (ev) => {
        if (!test(ev)) return;
        off(); offEnd(); clearTimeout(timer);
        resolve(ev);
      });
      const offEnd = this.on('client.closed', (ev) => {
        off(); offEnd(); clearTimeout(timer);
        reject(ev.error ?? new RttError('CLOSED', `session closed before ${typeof match === 'string' ? match : 'a match'}`));
      });
      if (timeoutMs > 0) {
        timer = setTimeout(() => { off(); offEnd(); reject(new RttError('TIMEOUT', `no ${typeof match === 'string' ? match : 'match'} within ${timeoutMs} ms`)); }, timeoutMs);
      }
    });
  }

  // -- internals --------------------------------------------------------------------------------

  /** @param {Record<string, any>} msg */
  #sendJson(msg) {
    const seq = this.#nextSeq++;
    this.#write({ data: JSON.stringify({ ...msg, seq }), seq });
    return seq;
  }

  /** @param {{ data: string | Uint8Array, seq?: number }} item */
  #write(item) {
    if (this.state === 'closed') throw new RttError('CLOSED', 'the session is closed');
    if (this.state === 'open' && !this.pausedForMs && this.#outbox.length === 0) this.#put(item);
    else this.#outbox.push(item);
  }

  /** @param {{ data: string | Uint8Array, seq?: number }} item */
  #put(item) {
    if (item.seq !== undefined) this.#unacked.set(item.seq, item.data);
    this.#socket?.send(item.data);
  }

  #flush() {
    while (this.#outbox.length && this.state === 'open' && !this.pausedForMs) {
      this.#put(/** @type {any} */ (this.#outbox.shift()));
    }
  }

  /**
   * One connection: open the socket, send hello, wait for session.created.
   * @param {Record<string, any>} hello
   */
  async #attach(hello) {
    const url = this.#urls[this.#urlIndex % this.#urls.length];
    const socket = await (this.#options.transport ?? openSocket)(url, this.#credential);
    const created = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => { fail(new RttError('TIMEOUT', `no session.created from ${url}`)); }, this.#options.connectTimeoutMs);
      /** @param {Error} err */
      const fail = (err) => { clearTimeout(timer); socket.onclose = null; socket.onmessage = null; socket.close(); reject(err); };
      socket.onopen = () => socket.send(JSON.stringify(hello));
      socket.onerror = () => {}; // the close event that follows says what happened
      socket.onclose = (ev) => fail(new RttError('CONNECTION_FAILED', `${url}: closed (${ev.code}) before session.created`));
      socket.onmessage = (ev) => {
        const msg = JSON.parse(typeof ev.data === 'string' ? ev.data : new TextDecoder().decode(ev.data));
        if (msg.type === 'session.created') { clearTimeout(timer); resolve(msg); }
        else if (msg.type === 'error') fail(RttError.from(msg));
      };
    });
    this.#socket = socket;
    socket.onmessage = (ev) => this.#onMessage(JSON.parse(typeof ev.data === 'string' ? ev.data : new TextDecoder().decode(ev.data)));
    socket.onclose = () => this.#onClose(socket);
    this.#onCreated(created);
  }

  /** @param {any} created */
  #onCreated(created) {
    this.id = created.session_id;
    this.created = created;
    this.state = 'open';
    this.#shutdown = false;
    // What the server processed needs no resend; what it did not goes first, in seq order,
    // before anything queued while disconnected.
    const last = created.last_seq ?? -1;
    this.#nextSeq = Math.max(this.#nextSeq, last + 1);
    const resend = [...this.#unacked.entries()].filter(([seq]) => seq > last).sort((a, b) => a[0] - b[0]);
    this.#unacked.clear();
    for (const [seq, data] of resend) this.#put({ data, seq });
    this.#emit(created);
    this.#flush();
    if (this.#options.pingIntervalMs > 0 && !this.#pingTimer) {
      this.#pingTimer = setInterval(() => { if (this.state === 'open') this.ping().catch(() => {}); }, this.#options.pingIntervalMs);
      this.#pingTimer.unref?.(); // Node: a ping timer alone does not keep the process alive
    }
  }

  /** @param {any} msg */
  #onMessage(msg) {
    if (msg.event_id != null && REPLAYABLE.has(msg.type)) {
      // A resume resends every final after last_event_id; one written just before the drop may
      // have arrived after all: show each once.
      if (this.#seenEvents.has(msg.event_id)) return;
      this.#seenEvents.add(msg.event_id);
      this.lastEventId = Math.max(this.lastEventId ?? -1, msg.event_id);
    }
    switch (msg.type) {
      case 'ack':
        this.#unacked.delete(msg.seq);
        break;
      case 'pong': {
        const ping = this.#pings.get(msg.seq);
        if (ping) {
          this.#pings.delete(msg.seq);
          this.rttMs = now() - ping.t0;
          msg = { ...msg, rtt_ms: this.rttMs };
          ping.resolve(this.rttMs);
        }
        break;
      }
      case 'drain':
        // The server's input queue is filling: hold input back for retry_after_ms.
        this.#pausedUntil = now() + msg.retry_after_ms;
        clearTimeout(this.#drainTimer);
        // The timer ends the pause itself: timers may fire a little before performance.now()
        // says the time is up, and a flush that found the pause still on would wait for the next send.
        this.#drainTimer = setTimeout(() => { this.#pausedUntil = 0; this.#flush(); }, msg.retry_after_ms);
        break;
      case 'error':
        // A refused message was not processed; sending it again unchanged would be refused again.
        if (msg.seq != null) this.#unacked.delete(msg.seq);
        if (msg.code === 'SHUTTING_DOWN') this.#shutdown = true;
        break;
      case 'session.ended':
        if (msg.reason === 'shutdown') this.#shutdown = true;
        else this.#ended = true;
        break;
    }
    this.#emit(msg);
  }

  /** @param {WebSocket} socket */
  async #onClose(socket) {
    if (socket !== this.#socket) return;
    this.#socket = null;
    for (const ping of this.#pings.values()) ping.reject(new RttError('CONNECTION_LOST', 'the connection dropped'));
    this.#pings.clear();
    if (this.#ended || !this.#options.reconnect || !this.id) {
      this.#finish();
      return;
    }
    // A drop (or a draining server): resume, on the next URL after a shutdown.
    this.state = 'reconnecting';
    if (this.#shutdown) this.#urlIndex++;
    for (let attempt = 0; attempt < BACKOFF_MS.length; attempt++) {
      const delay = BACKOFF_MS[attempt];
      this.#emit({ type: 'client.reconnecting', attempt: attempt + 1, delay_ms: delay });
      await sleep(delay);
      if (this.state === 'closed') return;
      try {
        await this.#attach({ type: 'hello', version: PROTOCOL_VERSION, session_id: this.id,
          ...(this.lastEventId != null ? { last_event_id: this.lastEventId } : {}) });
        return;
      } catch (err) {
        const e = /** @type {RttError} */ (err);
        if (PERMANENT.has(e.code)) {
          // After a shutdown with no replica holding the session, the session simply ended.
          this.#finish(this.#shutdown && e.code === 'NOT_FOUND' ? null : e);
          return;
        }
        if (this.#urls.length > 1) this.#urlIndex++;
      }
    }
    this.#finish(new RttError('CONNECTION_LOST', `could not resume session ${this.id}`));
  }

  /** @param {RttError | null} [error] */
  #finish(error = null) {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearInterval(this.#pingTimer);
    clearTimeout(this.#drainTimer);
    const socket = this.#socket;
    this.#socket = null;
    if (socket) { socket.onclose = null; socket.close(); }
    this.#emit({ type: 'client.closed', ...(error ? { error } : {}) }, false);
    this.#events.close(error);
  }

  /** @param {any} msg @param {boolean} [queue] */
  #emit(msg, queue = true) {
    if (queue) this.#events.push(msg);
    for (const key of [msg.type, '*']) {
      for (const listener of this.#listeners.get(key) ?? []) listener(msg);
    }
  }
}

const now = () => globalThis.performance.now();
/** @param {number} ms */
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
