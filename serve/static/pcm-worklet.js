// The microphone's AudioWorklet: the capture rate (44.1/48 kHz) resampled to 16 kHz, as PCM16LE
// in 20 ms frames posted to the page, which sends each as one binary WebSocket frame.  It runs
// on the audio thread, so the page's main thread being busy does not drop samples.  The DSP is
// the JavaScript client's (one copy, tested under node: clients/js/test/audio.test.mjs).
import { Framer, PIPELINE_RATE, Resampler, floatToPcm16, pcm16Bytes } from './js/audio.mjs';

class Pcm16Capture extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const { targetRate = PIPELINE_RATE, frameMs = 20 } = options.processorOptions ?? {};
    // sampleRate: the AudioContext's rate, a global of the worklet scope.
    this.resampler = new Resampler(sampleRate, targetRate);
    this.framer = new Framer(Math.round((targetRate * frameMs) / 1000));
  }

  process(inputs) {
    const mono = inputs[0]?.[0]; // getUserMedia was asked for one channel; take the first
    if (mono) {
      for (const frame of this.framer.push(floatToPcm16(this.resampler.process(mono)))) {
        const bytes = pcm16Bytes(frame);
        this.port.postMessage(bytes.buffer, [bytes.buffer]);
      }
    }
    return true; // keep running while the page holds the node
  }
}

registerProcessor('pcm16-capture', Pcm16Capture);
