// The client against a running server with the plumbing backend (tests/test_js_client.py starts
// it: its "translation" is a word map, "[en] hello to everyone" for "hola a todos", and each
// final comes 300 ms after its sentence ends, so a drop can fall while finals are in flight).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, RttError } from '../rtt.mjs';
import { API_KEY, NO_SERVER, SERVER, collect, startRelay } from './helpers.mjs';

const ES_EN = { source_lang: 'es', target_lang: 'en' };

test('text round trip: partial and final translation, in order, then session.ended', { skip: NO_SERVER }, async () => {
  const session = await connect({ url: SERVER, apiKey: API_KEY, session: ES_EN });
  assert.match(session.id, /^s_/);
  session.sendText('hola a', { final: false });
  session.sendText('todos', { final: true });
  const ended = session.end();
  const events = await collect(session);
  assert.equal((await ended).type, 'session.ended');
  const types = events.map((e) => e.type);
  assert.equal(types[0], 'session.created');
  assert.ok(types.includes('partial_translation'), types.join());
  const finals = events.filter((e) => e.type === 'final_translation');
  assert.deepEqual(finals.map((e) => e.text), ['[en] hello to everyone']);
  assert.ok(types.indexOf('partial_translation') < types.indexOf('final_translation'));
  assert.equal(types.at(-1), 'session.ended');
  assert.equal(session.state, 'closed');
});

test('a token works as well as the key', { skip: NO_SERVER }, async () => {
  const resp = await fetch(SERVER.replace(/^ws/, 'http') + '/v1/tokens', {
    method: 'POST', headers: { Authorization: `Bearer ${API_KEY}`, 'Content-Type': 'application/json' }, body: '{"ttl_s": 60}',
  });
  const { token } = await resp.json();
  const session = await connect({ url: SERVER, token, session: ES_EN });
  session.sendText('buenos días', { final: true });
  assert.equal((await session.waitFor('final_translation')).text, '[en] good morning');
  session.close();
});

test('ping measures the round trip; pingIntervalMs keeps measuring', { skip: NO_SERVER }, async () => {
  const session = await connect({ url: SERVER, apiKey: API_KEY, session: ES_EN, pingIntervalMs: 50 });
  const ms = await session.ping();
  assert.ok(ms > 0 && ms < 2000, `rtt ${ms}`);
  assert.equal(typeof session.rttMs, 'number');
  const pongs = await collect(session, (ev, all) => all.filter((e) => e.type === 'pong').length >= 3);
  const timed = pongs.filter((e) => e.type === 'pong');
  assert.ok(timed.every((p) => p.rtt_ms > 0 && typeof p.server_time === 'number'));
  session.close();
});

test('a bad hello rejects with the server code as an RttError', { skip: NO_SERVER }, async () => {
  await assert.rejects(connect({ url: SERVER, apiKey: API_KEY, session: { source_lang: 'es', target_lang: 'xx' } }),
    (err) => err instanceof RttError && err.code === 'UNSUPPORTED_LANGUAGE' && /xx/.test(err.message));
  await assert.rejects(connect({ url: SERVER, apiKey: API_KEY, session: { target_lang: 'en', audio: { sample_rate: 11025 } } }),
    (err) => err instanceof RttError && err.code === 'UNSUPPORTED_AUDIO_FORMAT');
  await assert.rejects(connect({ url: SERVER, apiKey: 'not-a-key', session: ES_EN }),
    (err) => err instanceof RttError && err.code === 'UNAUTHORIZED');
});

test('a bad message mid-session is an error event; the session goes on', { skip: NO_SERVER }, async () => {
  const session = await connect({ url: SERVER, apiKey: API_KEY, session: ES_EN });
  const seq = session.sendText('', { final: false });
  const error = await session.waitFor('error');
  assert.equal(error.code, 'EMPTY_TEXT');
  assert.equal(error.seq, seq);
  session.sendText('gracias', { final: true });
  assert.equal((await session.waitFor('final_translation')).text, '[en] thanks');
  session.close();
});

test('a dropped connection resumes: every final arrives once, input sent while down is not lost', { skip: NO_SERVER }, async () => {
  const relay = await startRelay(SERVER);
  try {
    const session = await connect({ url: relay.url, apiKey: API_KEY, session: ES_EN });
    const firstId = session.id;
    session.sendText('hola mundo', { final: true });
    await session.waitFor('final_translation');
    // Cut the line right after the next sentence: its final is made while no one is connected
    // (or the sentence itself never reached the server and is sent again after the resume).
    session.sendText('buenos días', { final: true });
    relay.drop();
    session.sendText('gracias a todos', { final: true }); // queued until the resume
    const resumed = await session.waitFor((e) => e.type === 'session.created' && e.resumed, { timeoutMs: 20000 });
    assert.equal(resumed.session_id, firstId);
    await session.waitFor((e) => e.type === 'final_translation' && e.text.includes('thanks'), { timeoutMs: 20000 });
    relay.drop(); // a second drop after the last final: the replay must not repeat it
    await session.waitFor((e) => e.type === 'session.created' && e.resumed, { timeoutMs: 20000 });
    session.end();
    const events = await collect(session);
    const finals = events.filter((e) => e.type === 'final_translation');
    assert.deepEqual(finals.map((e) => e.text),
      ['[en] hello world', '[en] good morning', '[en] thanks to everyone'], JSON.stringify(events.map((e) => e.type)));
    assert.deepEqual(finals.map((e) => e.utterance_id), [0, 1, 2]);
    const ids = events.filter((e) => e.event_id != null).map((e) => e.event_id);
    assert.equal(new Set(ids).size, ids.length, `duplicate event ids ${ids}`);
    assert.ok(events.some((e) => e.type === 'client.reconnecting'));
    assert.ok(relay.connections >= 3, `connections ${relay.connections}`);
    assert.equal(events.at(-1).type, 'session.ended');
  } finally {
    await relay.close();
  }
});

test('a resume of an unknown session is refused with NOT_FOUND', { skip: NO_SERVER }, async () => {
  await assert.rejects(connect({ url: SERVER, apiKey: API_KEY, session: { session_id: 's_nosuchsession' } }),
    (err) => err instanceof RttError && err.code === 'NOT_FOUND');
});

test('drain: the client holds input back while the server queue is full, and loses none of it', { skip: NO_SERVER }, async () => {
  const session = await connect({ url: SERVER, apiKey: API_KEY, session: ES_EN });
  /** @type {number[]} */
  const pausedAtDrain = [];
  session.on('drain', () => pausedAtDrain.push(session.pausedForMs));
  const seqs = [];
  for (let i = 0; i < 40; i++) seqs.push(session.sendText('hola', { final: false }));
  session.sendText('mundo', { final: true });
  const final = await session.waitFor('final_translation', { timeoutMs: 20000 });
  assert.ok(pausedAtDrain.length > 0, 'the server never sent drain (is sizes.input_queue small?)');
  assert.ok(pausedAtDrain[0] > 0, 'the client did not pause after drain');
  assert.equal(final.text, `[en] ${Array(40).fill('hello').join(' ')} world`);
  session.close();
});

test("audioFrames 'json': audio sent across a drop is heard exactly once", { skip: NO_SERVER }, async () => {
  // The plumbing "ASR" says one "hola" per 0.5 s of loud frames: 2.0 s of tone is four, whatever
  // the drop did to the frames in flight (binary frames would lose 0.4 s here: three).
  const relay = await startRelay(SERVER);
  try {
    const session = await connect({ url: relay.url, apiKey: API_KEY, session: ES_EN, audioFrames: 'json' });
    const trail = []; // what happened, for a failure's message
    session.on('*', (e) => { if (e.type !== 'ack') trail.push(`${e.type}:${e.code ?? e.resumed ?? e.text ?? ''}`); });
    const tone = Int16Array.from({ length: 320 }, (_, i) => Math.round(9000 * Math.sin((2 * Math.PI * 220 * i) / 16000)));
    for (let i = 0; i < 100; i++) {
      session.sendAudio(tone);
      if (i === 40) relay.stall(); // frames 40-59 reach no server...
      if (i === 60) relay.drop(); // ...and only the JSON frames' missing acks tell
      // A little slower than real time: the server keeps up and sends no drain (which would hold
      // frames in the client, away from the stalled link).
      await new Promise((r) => setTimeout(r, 25));
    }
    for (let i = 0; i < 25; i++) session.sendAudio(new Int16Array(320)); // 0.5 s of silence ends it
    const asr = await session.waitFor('final_asr', { timeoutMs: 20000 })
      .catch((e) => { throw new Error(`${e.message} (${session.state}): ${trail}`); });
    assert.equal(asr.text, 'hola hola hola hola', `${trail}`);
    assert.ok(relay.connections >= 2);
    session.close();
  } finally {
    await relay.close();
  }
});
