// The demo page (serve/static/index.html): one realtime session through the JavaScript client
// (clients/js/rtt.mjs, served at /static/js/), fed by the microphone, an audio file or typed
// text; live captions for the source and the translation, revisions swapped in place.
import { connect } from './js/rtt.mjs';
import { TtsPlayer } from './js/player.mjs';
import { webrtcTransport } from './js/webrtc.mjs';
import { captureWithMediaRecorder, captureWithWorklet, openMicrophone } from './capture.mjs';

const RATE = 16000;
const FILE_FRAME_MS = 100;
const params = new URLSearchParams(location.search);
const token = params.get('token') || params.get('api_key') || '';
const $ = (id) => document.getElementById(id);
// window.rtt: for tests and curious users (sessionId, every message, the readouts).
const state = { session: null, sessionId: null, messages: [], streamed: false, mic: null, stream: null,
                rttMs: null, endpointToFinalMs: [], player: null };
window.rtt = state;

function withToken(path) {
  return token ? `${path}${path.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}` : path;
}

function setStatus(text, isError) {
  $('status').textContent = text;
  $('status').className = isError ? 'error' : '';
}

function setConnected(on) {
  for (const id of ['stream', 'send-partial', 'send-final', 'disconnect']) $(id).disabled = !on;
  $('connect').disabled = on;
  for (const id of ['transport', 'capture', 'tts']) $(id).disabled = on;
}

async function loadLanguages() {
  try {
    const resp = await fetch(withToken('/v1/languages'));
    const body = await resp.json();
    if (!resp.ok) throw new Error(body.error ? body.error.message : resp.statusText);
    for (const lang of body.languages) {
      $('source').add(new Option(`${lang.name} (${lang.code})`, lang.code));
      $('target').add(new Option(`${lang.name} (${lang.code})`, lang.code));
    }
    $('target').value = 'en';
  } catch (err) {
    setStatus(`languages: ${err.message}`, true);
  }
}

function line(container, cls, text, extra) {
  const p = document.createElement('p');
  p.className = cls;
  p.textContent = text;
  if (extra) {
    const span = document.createElement('span');
    span.className = 'lat';
    span.textContent = extra;
    p.appendChild(span);
  }
  container.insertBefore(p, container.lastElementChild);
  return p;
}

function showReadout() {
  const lat = state.endpointToFinalMs;
  $('rtt').textContent = state.rttMs === null ? '–' : `${Math.round(state.rttMs)} ms`;
  $('latency').textContent = lat.length ? `${Math.round(lat.at(-1))} ms (median ${Math.round([...lat].sort((a, b) => a - b)[lat.length >> 1])} ms, ${lat.length} utterances)` : '–';
}

function onMessage(msg) {
  state.messages.push(msg);
  switch (msg.type) {
    case 'session.created':
      state.sessionId = msg.session_id;
      setStatus(`${msg.resumed ? 'resumed' : 'connected'}: ${msg.session_id}`);
      setConnected(true);
      break;
    case 'client.reconnecting':
      setStatus(`connection lost; reconnecting (attempt ${msg.attempt})…`);
      break;
    case 'partial_asr':
      $('asr-partial').textContent = msg.text;
      break;
    case 'final_asr':
      $('asr-partial').textContent = '';
      line($('source-captions'), 'final src', msg.text).dataset.utterance = msg.utterance_id;
      break;
    case 'partial_translation':
      $('partial').textContent = msg.text;
      break;
    case 'final_translation': {
      $('partial').textContent = '';
      const ms = msg.latency_ms.endpoint_to_final;
      if (ms !== undefined) state.endpointToFinalMs.push(ms);
      const p = line($('captions'), 'final', msg.text, ms === undefined ? '' : `${Math.round(ms)} ms`);
      p.dataset.utterance = msg.utterance_id;
      showReadout();
      break;
    }
    case 'revised_asr':
    case 'revised_translation': {
      // The refinement pass replaces the caption in place; the first text stays as a tooltip.
      if (msg.status !== 'revised') break;
      const box = msg.type === 'revised_asr' ? $('source-captions') : $('captions');
      const p = [...box.querySelectorAll('p.final')].find((el) => el.dataset.utterance == msg.utterance_id);
      if (!p) break;
      p.firstChild.textContent = msg.text;
      p.title = `first: ${msg.previous_text}`;
      p.classList.add('revised');
      break;
    }
    case 'tts_audio':
      state.player?.enqueue(msg);
      break;
    case 'pong':
      state.rttMs = msg.rtt_ms ?? state.rttMs;
      showReadout();
      break;
    case 'error':
      setStatus(`${msg.code}: ${msg.message}`, true);
      break;
    case 'session.ended':
      setStatus(`session ended (${msg.reason})`);
      break;
  }
}

async function connectSession() {
  if (state.session) return state.session;
  const webrtc = $('transport').value === 'webrtc';
  const recorder = $('capture').value === 'mediarecorder';
  setStatus('connecting…');
  if (webrtc) state.stream = state.stream ?? await openMicrophone(); // the track goes in the offer
  const tts = $('tts').checked;
  state.player = tts ? new TtsPlayer() : null;
  try {
    state.session = await connect({
      url: location.origin, token, pingIntervalMs: 2000,
      transport: webrtc ? webrtcTransport(state.stream) : undefined,
      session: {
        source_lang: $('source').value, target_lang: $('target').value,
        features: { vad: true, partial_results: $('partials').checked, tts },
        // Over WebRTC the audio is the peer connection's track, not frames on the channel.
        audio: recorder && !webrtc ? { encoding: 'webm-opus', channels: 1 }
                                   : { encoding: 'pcm16le', sample_rate: RATE, channels: 1 },
      },
    });
  } catch (err) {
    setStatus(`${err.code || 'error'}: ${err.message}`, true);
    throw err;
  }
  const session = state.session;
  (async () => {
    try {
      for await (const msg of session) onMessage(msg);
    } catch (err) {
      setStatus(`${err.code || 'error'}: ${err.message}`, true);
    } finally {
      if (state.session === session) state.session = null;
      await stopMic();
      setConnected(false);
      if (!$('status').classList.contains('error') && !/ended/.test($('status').textContent)) setStatus('disconnected');
    }
  })();
  return session;
}

async function startMic() {
  $('mic').disabled = true;
  try {
    const session = await connectSession();
    state.stream = state.stream ?? await openMicrophone();
    if ($('transport').value === 'webrtc') {
      state.stream.getAudioTracks().forEach((t) => { t.enabled = true; });
      state.mic = { async stop() { state.stream.getAudioTracks().forEach((t) => { t.enabled = false; }); } };
    } else {
      const capture = $('capture').value === 'mediarecorder' ? captureWithMediaRecorder : captureWithWorklet;
      state.mic = await capture(state.stream, (frame) => { if (state.session === session) session.sendAudio(frame); });
    }
    $('mic').textContent = 'Stop microphone';
    $('mic').classList.add('on');
    setStatus(`listening (${session.id})`);
  } catch (err) {
    setStatus(`microphone: ${err.message || err}`, true);
  } finally {
    $('mic').disabled = false;
  }
}

async function stopMic() {
  const mic = state.mic;
  state.mic = null;
  $('mic').textContent = 'Microphone';
  $('mic').classList.remove('on');
  if (!mic) return;
  await mic.stop();
  // End the utterance in progress now rather than wait for the endpointer to hear silence.
  if (state.session?.state === 'open') state.session.commit();
  if ($('transport').value !== 'webrtc') {
    state.stream?.getTracks().forEach((t) => t.stop());
    state.stream = null;
  }
}

// Decode any format the browser knows (ogg/opus, mp3, wav, flac…) and resample to 16 kHz mono.
async function decodeTo16k(file) {
  const bytes = await file.arrayBuffer();
  const probe = new OfflineAudioContext(1, 1, RATE);
  const decoded = await probe.decodeAudioData(bytes);
  const offline = new OfflineAudioContext(1, Math.ceil(decoded.duration * RATE), RATE);
  const src = offline.createBufferSource();
  src.buffer = decoded;
  src.connect(offline.destination);
  src.start();
  const rendered = await offline.startRendering();
  const f32 = rendered.getChannelData(0);
  const pcm = new Int16Array(f32.length);
  for (let i = 0; i < f32.length; i++) {
    const s = Math.max(-1, Math.min(1, f32[i]));
    pcm[i] = s < 0 ? s * 0x8000 : s * 0x7fff;
  }
  return pcm;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function streamFile() {
  const file = $('file').files[0];
  if (!file) { setStatus('choose an audio file first', true); return; }
  const session = state.session;
  $('stream').disabled = true;
  try {
    const pcm = await decodeTo16k(file);
    const frame = (RATE * FILE_FRAME_MS) / 1000;
    const speed = Number($('speed').value);
    setStatus(`streaming ${(pcm.length / RATE).toFixed(1)} s…`);
    const t0 = performance.now();
    for (let i = 0; i < pcm.length; i += frame) {
      // After a drain the client holds frames back itself; waiting here keeps its queue short.
      while (session.pausedForMs > 0) await sleep(20);
      session.sendAudio(pcm.subarray(i, i + frame));
      if (speed > 0) {
        const wait = t0 + ((i / frame + 1) * FILE_FRAME_MS) / speed - performance.now();
        if (wait > 0) await sleep(wait);
      }
    }
    session.commit();
    setStatus(`streamed ${file.name}`);
    state.streamed = true;
  } catch (err) {
    setStatus(`audio: ${err.message || err}`, true);
  } finally {
    $('stream').disabled = false;
  }
}

function sendText(final) {
  state.session?.sendText($('text').value, { final });
  $('text').value = '';
}

$('connect').onclick = () => connectSession().catch(() => {});
$('disconnect').onclick = () => state.session?.end().catch(() => {});
$('mic').onclick = () => (state.mic ? stopMic() : startMic());
$('stream').onclick = streamFile;
$('send-partial').onclick = () => sendText(false);
$('send-final').onclick = () => sendText(true);
// Feature checks: WebRTC and MediaRecorder where the browser has them.
if (typeof RTCPeerConnection === 'undefined') $('transport').querySelector('[value=webrtc]').disabled = true;
if (typeof MediaRecorder === 'undefined' || !MediaRecorder.isTypeSupported('audio/webm;codecs=opus')) {
  $('capture').querySelector('[value=mediarecorder]').disabled = true;
}
if (typeof AudioWorkletNode === 'undefined') $('capture').value = 'mediarecorder';
loadLanguages();
