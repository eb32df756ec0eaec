// Plays the server's tts_audio chunks (base64 PCM16LE) back to back in the browser: each chunk
// is scheduled where the previous one ends, so chunks that arrive early do not overlap and
// chunks that arrive late start at once.
import { base64ToBytes, bytesToPcm16, pcm16ToFloat } from './audio.mjs';

export class TtsPlayer {
  /** @param {AudioContext} [context] */
  constructor(context) {
    this.context = context ?? new AudioContext();
    this.playUntil = 0;
  }

  /** @param {{ audio?: string, data?: string, sample_rate: number }} msg a tts_audio message (either dialect) */
  enqueue(msg) {
    const samples = pcm16ToFloat(bytesToPcm16(base64ToBytes(msg.audio ?? msg.data ?? '')));
    if (!samples.length) return;
    const buffer = this.context.createBuffer(1, samples.length, msg.sample_rate);
    buffer.copyToChannel(samples, 0);
    const source = this.context.createBufferSource();
    source.buffer = buffer;
    source.connect(this.context.destination);
    const start = Math.max(this.context.currentTime, this.playUntil);
    source.start(start);
    this.playUntil = start + buffer.duration;
  }
}
