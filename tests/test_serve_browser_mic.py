"""The demo page's microphone in headless Chromium against the real speech models: Chromium's
fake capture device plays a FLEURS clip (Spanish) into getUserMedia, the page sends it (over a
WebSocket as 20 ms PCM16 frames from its AudioWorklet, as WebM/Opus from MediaRecorder, or over
WebRTC as an Opus track), and ``#translation`` shows the English final.

Needs Debian's ``chromium``, the ``playwright`` package and the packaged speech models; skipped
when any is missing.  Browsers are never downloaded.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser_fixtures import launch_chromium, needs_chromium, open_demo
from tests.js_fixtures import CLIP_WORDS, start_model_server, write_wav
from tests.serve_fixtures import RunningServer

# The fake microphone, granted without a prompt.
MIC_ARGS = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            "--autoplay-policy=no-user-gesture-required"]
KEY = "browser-mic-key-1"

pytestmark = [pytest.mark.models, needs_chromium]


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    srv = start_model_server([KEY])
    yield srv
    srv.stop(60)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    # Chromium loops the file: the clip, then 2 s of silence so the endpointer closes each round.
    wav = write_wav(tmp_path_factory.mktemp("mic"), silence_s=2.0)
    yield from launch_chromium([*MIC_ARGS, f"--use-file-for-fake-audio-capture={wav}"])


def translated_from_microphone(browser: Any, server: RunningServer, transport: str, capture: str) -> tuple[str, Any]:
    page, errors = open_demo(browser, server.base_url, KEY)
    page.select_option("#transport", transport)
    page.select_option("#capture", capture)
    page.click("#mic")  # connects first: no session is open
    page.wait_for_function("window.rtt.sessionId !== null", timeout=30_000)
    words = " && ".join(f"t.includes('{w}')" for w in CLIP_WORDS)
    page.wait_for_function(
        # Finals only: a partial translation may already hold the words.
        "(() => { const t = [...document.querySelectorAll('#translation p.final')]"
        f".map(p => p.textContent).join(' ').toLowerCase(); return {words}; }})()",
        timeout=150_000)
    page.wait_for_function("window.rtt.rttMs !== null", timeout=10_000)
    text = " ".join(page.locator("#translation p.final").all_inner_texts())
    readout = page.evaluate("({rtt: window.rtt.rttMs, lat: window.rtt.endpointToFinalMs,"
                            " errors: window.rtt.messages.filter(m => m.type === 'error'),"
                            " encoding: window.rtt.messages.find(m => m.type === 'session.created').config.audio.encoding})")
    page.click("#mic")  # stop: the microphone is released
    page.wait_for_function("document.querySelector('#mic').textContent === 'Microphone'")
    assert not errors, errors
    page.close()
    return text, readout


def test_microphone_over_websocket_pcm_frames_shows_the_english_final(browser: Any, server: RunningServer) -> None:
    text, readout = translated_from_microphone(browser, server, "websocket", "worklet")
    assert all(w in text.lower() for w in CLIP_WORDS), text
    assert not readout["errors"], readout
    assert readout["encoding"] == "pcm16le"
    assert readout["rtt"] > 0 and readout["lat"] and all(ms >= 0 for ms in readout["lat"]), readout


def test_microphone_over_webrtc_shows_the_english_final(browser: Any, server: RunningServer) -> None:
    opened = server.state.metrics.sessions_opened.labels("webrtc")
    before = opened._value.get()
    text, readout = translated_from_microphone(browser, server, "webrtc", "worklet")
    assert all(w in text.lower() for w in CLIP_WORDS), text
    assert not readout["errors"], readout
    assert readout["rtt"] > 0, readout
    assert opened._value.get() == before + 1  # the session came over a peer connection


def test_microphone_through_mediarecorder_webm_opus_shows_the_english_final(browser: Any,
                                                                              server: RunningServer) -> None:
    text, readout = translated_from_microphone(browser, server, "websocket", "mediarecorder")
    assert all(w in text.lower() for w in CLIP_WORDS), text
    assert not readout["errors"], readout
    assert readout["encoding"] == "webm-opus"
