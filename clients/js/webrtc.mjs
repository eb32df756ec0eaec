// WebRTC as the session's transport (browsers): the microphone goes as an Opus track (the
// browser's and the server's jitter buffers deal with the network), the realtime protocol's
// JSON travels on a DataChannel labelled "rtt" (POST /v1/webrtc/offer, docs/api.md).  The
// channel has the socket API RealtimeSession uses (send, onopen, onmessage, onclose, close), so
// hello, events, pings and resume work as over a WebSocket; a resume opens a new peer connection.

/**
 * A `transport` for connect(): `connect({ url, token, session, transport: webrtcTransport(stream) })`.
 * @param {MediaStream | null} stream  the microphone (null: text only)
 * @param {{ iceServers?: RTCIceServer[] }} [options]
 * @returns {(url: string, credential?: string) => Promise<any>}
 */
export function webrtcTransport(stream, { iceServers = [] } = {}) {
  return async (url, credential) => {
    const pc = new RTCPeerConnection({ iceServers });
    for (const track of stream ? stream.getAudioTracks() : []) pc.addTrack(track, stream);
    const channel = pc.createDataChannel('rtt', { ordered: true });
    const socket = channelSocket(pc, channel);
    await pc.setLocalDescription(await pc.createOffer());
    // The server takes no trickled candidates: send the offer once gathering is complete.
    await new Promise((resolve) => {
      if (pc.iceGatheringState === 'complete') return resolve(undefined);
      pc.addEventListener('icegatheringstatechange', () => { if (pc.iceGatheringState === 'complete') resolve(undefined); });
    });
    const offerUrl = new URL('/v1/webrtc/offer', url.replace(/^ws/, 'http'));
    const resp = await fetch(offerUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(credential ? { Authorization: `Bearer ${credential}` } : {}) },
      body: JSON.stringify({ version: 1, type: 'offer', sdp: pc.localDescription?.sdp }),
    });
    const body = await resp.json();
    if (!resp.ok) {
      pc.close();
      const { RttError } = await import('./rtt.mjs');
      throw new RttError(body.error?.code ?? 'CONNECTION_FAILED', body.error?.message ?? resp.statusText);
    }
    await pc.setRemoteDescription({ type: 'answer', sdp: body.sdp });
    socket.peerId = body.peer_id;
    return socket;
  };
}

/** @param {RTCPeerConnection} pc @param {RTCDataChannel} channel */
function channelSocket(pc, channel) {
  /** @type {any} */
  const socket = {
    onopen: null, onmessage: null, onclose: null, onerror: null, peerId: null, pc,
    /** @param {string | Uint8Array} data */
    send(data) { if (channel.readyState === 'open') channel.send(/** @type {any} */ (data)); },
    close() { channel.close(); pc.close(); closed(); },
  };
  let done = false;
  const closed = () => { if (!done) { done = true; socket.onclose?.({ code: 1006 }); } };
  channel.onopen = () => socket.onopen?.();
  channel.onmessage = (ev) => socket.onmessage?.({ data: ev.data });
  channel.onclose = closed;
  pc.addEventListener('connectionstatechange', () => {
    if (pc.connectionState === 'failed' || pc.connectionState === 'closed') closed();
  });
  return socket;
}
