"""The JavaScript client (clients/js/) under node's test runner, against real servers: the
plumbing backend for the transport (round trip, resume after a drop, pings, drain, errors),
the real speech models for a FLEURS clip streamed as PCM16 frames.  Node's TAP output and its
pass/fail counts are printed into pytest's output."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rtt.config import load_config
from tests.js_fixtures import (
    CLIENT_TESTS,
    CLIP_WORDS,
    node_or_skip,
    run_node_tests,
    start_model_server,
    write_pcm,
)
from tests.serve_fixtures import PlumbingBackend, RunningServer, serve_settings, start_server

KEY = "js-client-key-1"


@pytest.fixture(scope="module")
def plumbing_server() -> Iterator[RunningServer]:
    config = load_config()
    # Finals 300 ms after their sentence (a drop can fall while one is in flight); a small input
    # queue that a fast sender fills, so the server sends drain.
    srv = start_server(backend=PlumbingBackend(config, final_delay_s=0.3, push_delay_s=0.02), config=config,
                       settings=serve_settings(api_keys=[KEY], sizes={"input_queue": 8}))
    yield srv
    srv.stop()


def test_the_js_client_unit_and_transport_tests_pass(plumbing_server: RunningServer) -> None:
    node = node_or_skip()
    rc, out = run_node_tests(node, [CLIENT_TESTS / "audio.test.mjs", CLIENT_TESTS / "session.test.mjs"],
                             {"RTT_URL": plumbing_server.ws_url.rsplit("/v1/", 1)[0], "RTT_API_KEY": KEY},
                             timeout_s=300)
    assert rc == 0, out[-6000:]
    assert "# fail 0" in out and "# skipped 0" in out


@pytest.mark.models
def test_the_js_client_streams_a_fleurs_clip_to_an_english_final(tmp_path) -> None:  # type: ignore[no-untyped-def]
    node = node_or_skip()
    srv = start_model_server([KEY])
    try:
        rc, out = run_node_tests(node, [CLIENT_TESTS / "speech.test.mjs"],
                                 {"RTT_SPEECH_URL": srv.base_url, "RTT_API_KEY": KEY,
                                  "RTT_PCM_FILE": str(write_pcm(tmp_path)), "RTT_EXPECT_WORDS": ",".join(CLIP_WORDS)},
                                 timeout_s=400)
    finally:
        srv.stop(60)
    assert rc == 0, out[-6000:]
    assert "# pass 1" in out
