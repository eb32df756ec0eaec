"""End-to-end: the page at / in headless Chromium streams a FLEURS clip (decoded by WebAudio to
PCM16 16 kHz) and typed text, and shows captions.  The server runs the plumbing backend (see
tests/serve_fixtures.py): this checks the page and the transport, not translation quality.

Needs Debian's ``chromium`` (``apt-get install -y chromium``) and the ``playwright`` package;
skipped when either is missing.  Browsers are never downloaded.
"""

from __future__ import annotations

import pytest

from tests.browser_fixtures import launch_chromium, needs_chromium, open_demo
from tests.serve_fixtures import SHARED_DATA, serve_settings, start_server

CLIP = SHARED_DATA / "fleurs" / "fleurs-es-002.ogg"

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def browser():
    yield from launch_chromium()


@pytest.fixture(scope="module")
def server():
    srv = start_server(settings=serve_settings(api_keys=["browser-key-1"]))
    yield srv
    srv.stop()


def open_page(browser, server):
    page, errors = open_demo(browser, server.base_url, "browser-key-1")
    page.click("#connect")
    page.wait_for_function("window.rtt.sessionId !== null")
    return page, errors


def test_page_needs_token(browser, server):
    page = browser.new_page()
    resp = page.goto(f"{server.base_url}/")
    assert resp.status == 401
    page.close()


def test_typed_text_shows_partial_and_final_captions(browser, server):
    page, errors = open_page(browser, server)
    page.fill("#text", "hola a todos")
    page.click("#send-partial")
    page.wait_for_function("document.querySelector('#partial').textContent.includes('hello')")
    page.fill("#text", "y buenas tardes")
    page.click("#send-final")
    page.wait_for_selector("#captions p.final")
    assert page.inner_text("#captions p.final").startswith("[en] hello to everyone and good afternoon")
    assert not errors
    page.close()


@pytest.mark.skipif(not CLIP.exists(), reason="FLEURS clips are not in ../shared/data")
def test_streams_an_audio_file(browser, server):
    page, errors = open_page(browser, server)
    page.select_option("#speed", "0")
    page.set_input_files("#file", str(CLIP))
    page.click("#stream")
    page.wait_for_function("window.rtt.streamed === true", timeout=60_000)
    page.wait_for_selector("#captions p.final", timeout=60_000)
    page.click("#disconnect")  # `end`: every frame sent is processed before session.ended
    page.wait_for_function("window.rtt.messages.some(m => m.type === 'session.ended')", timeout=60_000)
    types = page.evaluate("window.rtt.messages.map(m => m.type)")
    assert "partial_asr" in types and "final_asr" in types and "final_translation" in types
    assert "error" not in types, page.evaluate("window.rtt.messages.filter(m => m.type === 'error')")
    # The page sent the whole clip as 16 kHz PCM16: compare with the clip's duration.
    session = server.backend.sessions[-1]
    seconds = session.audio_bytes / 2 / 16000
    from faster_whisper.audio import decode_audio

    expected = len(decode_audio(str(CLIP), sampling_rate=16000)) / 16000
    assert abs(seconds - expected) < 0.15, (seconds, expected)
    assert not errors
    page.close()
