// Microphone capture for the demo page, two ways:
//   worklet        getUserMedia -> AudioWorklet (pcm-worklet.js) -> PCM16LE 16 kHz, 20 ms frames
//   mediarecorder  getUserMedia -> MediaRecorder (WebM/Opus, 100 ms chunks), for browsers or
//                  policies without AudioWorklet; the session's audio.encoding is "webm-opus"
// Each calls onFrame(ArrayBuffer) for the page to send as a binary frame; stop() releases the mic.

/** The constraints: one channel, the browser's speech processing on (it helps ASR on laptops). */
export const MIC_CONSTRAINTS = { audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true } };

/** @returns {Promise<MediaStream>} */
export function openMicrophone() {
  return navigator.mediaDevices.getUserMedia(MIC_CONSTRAINTS);
}

/**
 * @param {MediaStream} stream
 * @param {(frame: ArrayBuffer) => void} onFrame
 * @returns {Promise<{ stop: () => Promise<void>, rate: number }>}
 */
export async function captureWithWorklet(stream, onFrame) {
  // The device's own rate: Firefox refuses a MediaStreamSource into a context at another rate,
  // so the resampling to 16 kHz is the worklet's.
  const context = new AudioContext();
  await context.audioWorklet.addModule(new URL('./pcm-worklet.js', import.meta.url));
  const source = context.createMediaStreamSource(stream);
  const node = new AudioWorkletNode(context, 'pcm16-capture', { processorOptions: { targetRate: 16000, frameMs: 20 } });
  node.port.onmessage = (ev) => onFrame(ev.data);
  // Through a muted gain to the destination: the graph is pulled from there, and nothing is heard.
  const mute = context.createGain();
  mute.gain.value = 0;
  source.connect(node).connect(mute).connect(context.destination);
  if (context.state === 'suspended') await context.resume();
  return {
    rate: context.sampleRate,
    async stop() {
      node.port.onmessage = null;
      source.disconnect();
      await context.close();
    },
  };
}

export const MEDIARECORDER_TYPE = 'audio/webm;codecs=opus';

/**
 * @param {MediaStream} stream
 * @param {(frame: ArrayBuffer) => void} onFrame
 */
export async function captureWithMediaRecorder(stream, onFrame) {
  const recorder = new MediaRecorder(stream, { mimeType: MEDIARECORDER_TYPE, audioBitsPerSecond: 24000 });
  // Chunks in order: arrayBuffer() is async, so chain them rather than send as each resolves.
  let chain = Promise.resolve();
  recorder.ondataavailable = (ev) => {
    if (ev.data.size) chain = chain.then(async () => onFrame(await ev.data.arrayBuffer()));
  };
  recorder.start(100);
  return {
    rate: 48000,
    async stop() {
      const stopped = new Promise((resolve) => { recorder.onstop = resolve; });
      recorder.stop();
      await stopped;
      await chain;
    },
  };
}
