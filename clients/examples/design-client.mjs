// The design article's WebSocket client ("Example: WebSocket Streaming (Node.js client)"), as
// published. Only the endpoint and the audio file can be pointed elsewhere, for running it here:
//   RTT_URL=ws://127.0.0.1:8000/v1/realtime?target_lang=en TOKEN=... node design-client.mjs sample-es.pcm
// The audio is raw PCM16LE, 16 kHz, mono. The script runs until it is stopped, as in the article.
import WebSocket from 'ws';
import fs from 'fs';

const url = process.env.RTT_URL || 'wss://api.example.com/v1/realtime?target_lang=en';
const file = process.argv[2] || 'sample-es.pcm';

const ws = new WebSocket(url, {
  headers: { Authorization: `Bearer ${process.env.TOKEN}` }
});

ws.on('open', () => {
  ws.send(JSON.stringify({ type: 'hello', version: '2026-05-01', session: { source_lang: 'es', target_lang: 'en', features: ['partial_results', 'vad'] }}));
  const stream = fs.createReadStream(file);
  stream.on('data', chunk => {
    ws.send(JSON.stringify({ type: 'input_audio', format: 'pcm16le', sample_rate: 16000, data: chunk.toString('base64') }));
  });
  stream.on('end', () => ws.send(JSON.stringify({ type: 'control', action: 'commit' })));
});

ws.on('message', msg => {
  const m = JSON.parse(msg.toString());
  if (m.type === 'partial_translation') process.stdout.write(`\r${m.text}`);
  if (m.type === 'final_translation') console.log(`\nFinal: ${m.text}`);
  if (m.type === 'tts_audio') {/* play or buffer audio */}
});
