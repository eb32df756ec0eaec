"""Usage metering per API key (serve/usage.py): what a key used, from the events and requests
that really ran (plumbing models behind the real service), in memory and shared through Redis."""

from __future__ import annotations

import time

import httpx
import pytest

from rtt.client import RttClient
from serve.auth import hash_key
from serve.usage import MemoryUsageStore, RedisUsageStore, nest
from tests.serve_fixtures import pcm_silence, pcm_tone, running_server, serve_settings
from tests.test_serve_limits import redis_url  # noqa: F401  (the module's Redis fixture)

KEY, OTHER, ADMIN = "usage-key-0123456789", "usage-other-987654321", "usage-admin-55555"


def key_id(key: str) -> str:
    return f"k:{hash_key(key)[:12]}"


def get_usage(base: str, api_key: str, **params: str) -> httpx.Response:
    return httpx.get(f"{base}/v1/usage", params=params, headers={"Authorization": f"Bearer {api_key}"})


async def test_a_keys_usage_adds_up_its_sessions_requests_and_audio() -> None:
    settings = serve_settings(api_keys=[KEY, OTHER], admin_keys=[ADMIN])
    with running_server(settings=settings) as srv:
        async with RttClient(srv.base_url, api_key=KEY) as client:
            await client.translate("hola amigo", target_lang="en")  # 10 characters
            async with client.realtime(source_lang="es", target_lang="en") as rt:
                await rt.send_text("buenos días", final=True)  # 11 characters
                await rt.wait_for("final_translation")
                for pcm in (pcm_silence(0.5), pcm_tone(1.0), pcm_silence(0.5)):  # 2 s of audio
                    await rt.send_audio(pcm, binary=True)
                await rt.wait_for("final_translation")
                await rt.end()
        async with RttClient(srv.base_url, api_key=OTHER) as other:
            await other.translate("gracias", target_lang="en")
        for _ in range(100):  # the session's end is metered as it closes
            body = get_usage(srv.base_url, KEY).json()
            if body["usage"]["session_seconds"] > 0:
                break
            time.sleep(0.05)
        usage = body["usage"]
        assert body["key"] == key_id(KEY) and body["granularity_s"] == 3600
        assert usage["audio_seconds"] == pytest.approx(2.0)
        assert usage["sessions"] == 1 and usage["session_seconds"] > 0
        chars = usage["mt_characters"]
        assert sum(chars.values()) >= len("hola amigo") + len("buenos días")
        # per tier: REST under the tier that served it; the plumbing session's finals name none
        assert chars.get(srv.state.config.mt.default_tier, 0) >= len("hola amigo")
        assert set(chars) <= set(srv.state.config.mt.tiers) | {"default"}
        # another key sees only its own; an admin sees every key; a plain key may not ask for all
        assert sum(get_usage(srv.base_url, OTHER).json()["usage"]["mt_characters"].values()) == len("gracias")
        assert get_usage(srv.base_url, OTHER, key="all").status_code == 403
        every = get_usage(srv.base_url, ADMIN, key="all").json()["keys"]
        assert {key_id(KEY), key_id(OTHER)} <= set(every)
        # a window that ends before the traffic holds nothing; a bad time is a structured error
        assert get_usage(srv.base_url, KEY, to="2020-01-01").json()["usage"]["sessions"] == 0
        bad = get_usage(srv.base_url, KEY, **{"from": "yesterday"})
        assert bad.status_code == 400 and bad.json()["error"]["code"] == "INVALID_FIELD"
        metrics = httpx.get(f"{srv.base_url}/metrics", headers={"Authorization": f"Bearer {ADMIN}"}).text
        assert f'rtt_usage_audio_seconds_total{{key="{hash_key(KEY)[:12]}"}} 2.0' in metrics


async def test_memory_store_sums_hours_in_the_window() -> None:
    store = MemoryUsageStore()
    await store.add("k:a", 10, {"audio_seconds": 1.5, "mt_tokens.fast": 7})
    await store.add("k:a", 11, {"audio_seconds": 2.0})
    await store.add("k:b", 11, {"sessions": 1})
    assert await store.read("k:a", 10, 10) == {"k:a": {"audio_seconds": 1.5, "mt_tokens.fast": 7}}
    both = await store.read(None, 10, 11)
    assert nest(both["k:a"])["audio_seconds"] == 3.5 and nest(both["k:a"])["mt_tokens"] == {"fast": 7}
    assert nest(both["k:b"])["sessions"] == 1 and nest(both["k:b"])["mt_characters"] == {}


async def test_replicas_add_up_through_redis(redis_url: str) -> None:  # noqa: F811
    prefix = f"u{time.time_ns()}:"
    one, two = RedisUsageStore(redis_url, prefix), RedisUsageStore(redis_url, prefix)
    await one.add("k:a", 5, {"audio_seconds": 1.25, "mt_tokens.fast": 3})
    await two.add("k:a", 5, {"audio_seconds": 0.75})
    await two.add("k:a", 9, {"sessions": 1})
    assert await one.read("k:a", 5, 5) == {"k:a": {"audio_seconds": 2.0, "mt_tokens.fast": 3.0}}
    assert (await two.read(None, 0, 10))["k:a"]["sessions"] == 1.0
    await one.close()
    await two.close()
