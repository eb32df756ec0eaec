// The PCM helpers the browser's AudioWorklet and the Node client share (no server needed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Framer, Resampler, base64ToBytes, bytesToBase64, bytesToPcm16, floatToPcm16, pcm16Bytes, pcm16ToFloat } from '../audio.mjs';

const tone = (freq, rate, seconds, amp = 0.5) =>
  Float32Array.from({ length: Math.round(rate * seconds) }, (_, i) => amp * Math.sin((2 * Math.PI * freq * i) / rate));
const rms = (x, from = 0, to = x.length) => Math.sqrt(x.slice(from, to).reduce((a, v) => a + v * v, 0) / (to - from));

test('float samples become PCM16 with clipping, and back', () => {
  const pcm = floatToPcm16(Float32Array.from([0, 1, -1, 2, -2, 0.5]));
  assert.deepEqual([...pcm], [0, 32767, -32768, 32767, -32768, 16383]);
  const back = pcm16ToFloat(pcm);
  assert.ok(Math.abs(back[5] - 0.5) < 1e-4);
});

test('PCM16 wire bytes are little-endian and round-trip through base64', () => {
  const bytes = pcm16Bytes(Int16Array.from([1, -2, 0x1234]));
  assert.deepEqual([...bytes], [1, 0, 0xfe, 0xff, 0x34, 0x12]);
  assert.equal(bytesToBase64(bytes), 'AQD+/zQS');
  assert.deepEqual([...bytesToPcm16(base64ToBytes('AQD+/zQS'))], [1, -2, 0x1234]);
});

test('48 kHz speech-band audio resamples to 16 kHz at one third the length, same pitch and level', () => {
  const out = new Resampler(48000, 16000).process(tone(440, 48000, 1));
  assert.ok(Math.abs(out.length - 16000) <= 10, `length ${out.length}`);
  // Zero crossings in the steady part: 2 per cycle.
  let crossings = 0;
  for (let i = 1001; i < 15000; i++) if ((out[i - 1] < 0) !== (out[i] < 0)) crossings++;
  const hz = crossings / 2 / (14000 / 16000);
  assert.ok(Math.abs(hz - 440) < 3, `pitch ${hz}`);
  assert.ok(Math.abs(rms(out, 1000, 15000) - 0.5 / Math.SQRT2) < 0.02, `level ${rms(out, 1000, 15000)}`);
});

test('a tone above the 8 kHz Nyquist limit is filtered out, not folded into the speech band', () => {
  const out = new Resampler(48000, 16000).process(tone(12000, 48000, 0.5));
  // Unfiltered decimation would put it at 4 kHz with its full level (0.35 rms).
  assert.ok(rms(out, 200, out.length - 200) < 0.02, `alias level ${rms(out, 200, out.length - 200)}`);
});

test('streaming in odd-sized chunks gives the same samples as one call (44.1 kHz)', () => {
  const input = tone(300, 44100, 0.3);
  const whole = new Resampler(44100, 16000).process(input);
  const r = new Resampler(44100, 16000);
  const parts = [];
  for (let i = 0; i < input.length; i += 127) parts.push(...r.process(input.subarray(i, i + 127)));
  assert.equal(parts.length, whole.length);
  assert.ok(parts.every((v, i) => Math.abs(v - whole[i]) < 1e-6));
});

test('the framer cuts 20 ms frames and keeps the remainder for the next push', () => {
  const f = new Framer(320);
  assert.equal(f.push(new Int16Array(300)).length, 0);
  const frames = f.push(Int16Array.from({ length: 700 }, (_, i) => i));
  assert.deepEqual(frames.map((x) => x.length), [320, 320, 320]);
  assert.equal(frames[0][299], 0); // the first push's samples come first...
  assert.equal(frames[0][300], 0); // ...then the second's, from its start
  assert.equal(frames[1][0], 20); // stream sample 320 = the second push's sample 20
  assert.equal(f.flush().length, 1000 - 960);
});
