// PCM helpers shared by the Node client, the browser page and its AudioWorklet (which imports
// this file as a module): the server takes PCM16LE mono at 8/16/24/48 kHz (16 kHz is what the
// models run at, so anything else costs a server-side resample), as binary WebSocket frames.

export const PIPELINE_RATE = 16000;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Float samples in [-1, 1] (WebAudio's) as PCM16; out-of-range samples are clipped, not wrapped.
 * @param {Float32Array} samples
 * @returns {Int16Array}
 */
export function floatToPcm16(samples) {
  const out = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++) {
    const s = Math.max(-1, Math.min(1, samples[i]));
    out[i] = s < 0 ? s * 0x8000 : s * 0x7fff;
  }
  return out;
}

/**
 * @param {Int16Array} pcm
 * @returns {Float32Array}
 */
export function pcm16ToFloat(pcm) {
  const out = new Float32Array(pcm.length);
  for (let i = 0; i < pcm.length; i++) out[i] = pcm[i] / 0x8000;
  return out;
}

/**
 * The wire bytes of PCM16 samples: little-endian whatever the platform is.
 * @param {Int16Array} pcm
 * @returns {Uint8Array}
 */
export function pcm16Bytes(pcm) {
  const view = new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength);
  if (LITTLE_ENDIAN) return view;
  const out = new Uint8Array(pcm.byteLength);
  const dv = new DataView(out.buffer);
  pcm.forEach((s, i) => dv.setInt16(i * 2, s, true));
  return out;
}

/**
 * PCM16LE bytes (e.g. the server's tts_audio) as samples.
 * @param {Uint8Array} bytes
 * @returns {Int16Array}
 */
export function bytesToPcm16(bytes) {
  const n = bytes.byteLength >> 1;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, n * 2);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = dv.getInt16(i * 2, true);
  return out;
}

/** @param {Uint8Array} bytes */
export function bytesToBase64(bytes) {
  let s = '';
  // String.fromCharCode(...all) overflows the call stack on large buffers: go in chunks.
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/** @param {string} text */
export function base64ToBytes(text) {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/**
 * A streaming band-limited resampler (windowed-sinc interpolation).  Microphones run at 44.1 or
 * 48 kHz; plain linear interpolation down to 16 kHz folds everything above 8 kHz back into the
 * speech band, so the kernel is also a low-pass at the lower of the two Nyquist rates.  Chunks
 * may be any size; the output is the same as resampling the concatenated input at once.
 */
export class Resampler {
  /** @param {number} fromRate @param {number} toRate @param {number} [halfTaps] kernel half-width, in samples of the lower rate */
  constructor(fromRate, toRate, halfTaps = 8) {
    this.fromRate = fromRate;
    this.toRate = toRate;
    this.cutoff = Math.min(1, toRate / fromRate) * 0.95; // a little under Nyquist: the window's roll-off
    this.half = Math.ceil(halfTaps / Math.min(1, toRate / fromRate)); // in input samples
    // Zeros of history so the first output sample (input time 0) has its left half.
    this.buf = new Float32Array(this.half);
    // Output sample n sits at input time n * from / to; computed from integers each time (an
    // accumulated float position would drift, and chunking would change the output).
    this.produced = 0;
    this.dropped = -this.half; // input index of buf[0]
  }

  /** @param {Float32Array} input @returns {Float32Array} */
  process(input) {
    if (this.fromRate === this.toRate) return Float32Array.from(input);
    const buf = new Float32Array(this.buf.length + input.length);
    buf.set(this.buf);
    buf.set(input, this.buf.length);
    const out = [];
    const { half, cutoff } = this;
    for (;;) {
      const pos = (this.produced * this.fromRate) / this.toRate - this.dropped;
      const base = Math.floor(pos);
      if (base + half >= buf.length) break;
      let acc = 0;
      for (let k = base - half + 1; k <= base + half; k++) {
        const t = pos - k;
        const x = Math.PI * cutoff * t;
        const sinc = x === 0 ? 1 : Math.sin(x) / x;
        const w = 0.5 + 0.5 * Math.cos((Math.PI * t) / (half + 1)); // Hann window
        acc += buf[k] * cutoff * sinc * w;
      }
      out.push(acc);
      this.produced++;
    }
    // Keep what the next output samples still need: their left half.
    const next = (this.produced * this.fromRate) / this.toRate - this.dropped;
    const keepFrom = Math.max(0, Math.floor(next) - half);
    this.buf = buf.slice(keepFrom);
    this.dropped += keepFrom;
    return Float32Array.from(out);
  }

  /** The last samples, padded with silence (end of a recording). */
  flush() {
    return this.process(new Float32Array(this.half + 1));
  }
}

/**
 * Cuts a stream of samples into fixed frames (20 ms = 320 samples at 16 kHz: the size the design
 * recommends, small enough that the VAD and the endpointer see speech end promptly).
 */
export class Framer {
  /** @param {number} samplesPerFrame */
  constructor(samplesPerFrame) {
    this.size = samplesPerFrame;
    this.pending = new Int16Array(0);
  }

  /** @param {Int16Array} samples @returns {Int16Array[]} whole frames */
  push(samples) {
    const all = new Int16Array(this.pending.length + samples.length);
    all.set(this.pending);
    all.set(samples, this.pending.length);
    const frames = [];
    let i = 0;
    for (; i + this.size <= all.length; i += this.size) frames.push(all.slice(i, i + this.size));
    this.pending = all.slice(i);
    return frames;
  }

  /** @returns {Int16Array} what is left (shorter than a frame) */
  flush() {
    const rest = this.pending;
    this.pending = new Int16Array(0);
    return rest;
  }
}
