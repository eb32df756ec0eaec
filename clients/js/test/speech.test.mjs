// PCM16 streaming against a server with the real models (tests/test_js_client.py starts one and
// decodes a FLEURS clip to raw PCM16 16 kHz: RTT_SPEECH_URL, RTT_PCM_FILE, RTT_EXPECT_WORDS).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { bytesToPcm16 } from '../audio.mjs';
import { connect } from '../rtt.mjs';
import { collect } from './helpers.mjs';

const URL_ = process.env.RTT_SPEECH_URL;
const PCM = process.env.RTT_PCM_FILE;
const SKIP = URL_ && PCM ? false : 'RTT_SPEECH_URL / RTT_PCM_FILE not set (tests/test_js_client.py sets them)';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('a spoken Spanish clip streamed in 20 ms PCM16 frames gets an English final', { skip: SKIP, timeout: 240000 }, async () => {
  const pcm = bytesToPcm16(new Uint8Array(await readFile(PCM)));
  const session = await connect({
    url: URL_, apiKey: process.env.RTT_API_KEY,
    session: { source_lang: 'es', target_lang: 'en', features: { vad: true, partial_results: true, refinement: false },
               audio: { encoding: 'pcm16le', sample_rate: 16000, channels: 1 } },
  });
  const frame = 320; // 20 ms at 16 kHz
  const t0 = performance.now();
  for (let i = 0, n = 0; i < pcm.length; i += frame, n++) {
    session.sendAudio(pcm.subarray(i, i + frame));
    // Twice real time: a live capture's pacing, so partials come before the final.
    const wait = t0 + (n + 1) * 10 - performance.now();
    if (wait > 0) await sleep(wait);
  }
  session.commit();
  session.end();
  const events = await collect(session);
  const types = events.map((e) => e.type);
  assert.ok(types.includes('partial_asr'), types.join());
  const finals = events.filter((e) => e.type === 'final_translation');
  assert.ok(finals.length >= 1, types.join());
  const text = finals.map((e) => e.text).join(' ').toLowerCase();
  for (const word of (process.env.RTT_EXPECT_WORDS || '').split(',').filter(Boolean)) {
    assert.ok(text.includes(word), `"${word}" not in "${text}"`);
  }
  assert.ok(finals.every((e) => typeof e.latency_ms.endpoint_to_final === 'number'));
  assert.equal(types.at(-1), 'session.ended');
});
