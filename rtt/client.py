"""Async Python client for the rtt service (REST via httpx, realtime via WebSocket).

    async with RttClient("http://127.0.0.1:8000", api_key="...") as client:
        result = await client.translate("Hola a todos", target_lang="en")
        async with client.realtime(source_lang="es", target_lang="en") as rt:
            await rt.send_text("Hola a todos", final=True)
            final = await rt.wait_for("final_translation")

The realtime stream numbers every message it sends (``seq``), so :meth:`RealtimeStream.resend`
and a reconnect with :meth:`RttClient.resume` are idempotent on the server.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx

from rtt.protocol import (
    PROTOCOL_VERSION,
    ClipResponse,
    LanguagesResponse,
    TokenResponse,
    TranslateResponse,
    encode_audio,
    parse_server_message,
)


class RttApiError(Exception):
    """A structured error from the service (``code``, ``message``, ``retry_after_ms``)."""

    def __init__(self, status: int, code: str, message: str, retry_after_ms: int | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.retry_after_ms = retry_after_ms


def _raise_for(resp: httpx.Response) -> None:
    if resp.status_code < 400:
        return
    try:
        body = resp.json()
    except ValueError:
        raise RttApiError(resp.status_code, "HTTP_ERROR", resp.text[:200]) from None
    err = body.get("error", {}) if isinstance(body, dict) else {}
    if isinstance(err, str):  # LibreTranslate-compatible endpoints
        raise RttApiError(resp.status_code, body.get("code", "HTTP_ERROR"), err)
    raise RttApiError(resp.status_code, err.get("code", "HTTP_ERROR"), err.get("message", ""),
                      err.get("retry_after_ms"))


class RttClient:
    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        token: str | None = None,
        timeout_s: float = 60.0,
        verify: bool | str | ssl.SSLContext = True,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.credential = token or api_key
        self.timeout_s = timeout_s
        self.verify = verify
        headers = {"Authorization": f"Bearer {self.credential}"} if self.credential else {}
        self.http = httpx.AsyncClient(base_url=self.base_url, headers=headers, timeout=timeout_s, verify=verify)

    async def __aenter__(self) -> RttClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self.http.aclose()

    # -- REST ------------------------------------------------------------------------------------
    async def translate(
        self, text: str | list[str], target_lang: str, source_lang: str = "auto", **options: Any
    ) -> TranslateResponse:
        body = {"text": text, "source_lang": source_lang, "target_lang": target_lang, **options}
        resp = await self.http.post("/v1/translate", json={k: v for k, v in body.items() if v is not None})
        _raise_for(resp)
        return TranslateResponse.model_validate(resp.json())

    async def transcribe(self, audio: bytes | str | Path, source_lang: str = "auto") -> ClipResponse:
        return await self._clip("/v1/transcribe", audio, {"source_lang": source_lang})

    async def speech_translate(
        self, audio: bytes | str | Path, target_lang: str, source_lang: str = "auto"
    ) -> ClipResponse:
        return await self._clip("/v1/speech-translate", audio, {"source_lang": source_lang, "target_lang": target_lang})

    async def _clip(self, path: str, audio: bytes | str | Path, params: dict[str, str]) -> ClipResponse:
        if isinstance(audio, bytes):  # raw PCM16LE 16 kHz
            resp = await self.http.post(path, params=params, content=audio,
                                        headers={"Content-Type": "application/octet-stream"})
        else:
            p = Path(audio)
            resp = await self.http.post(path, params=params, files={"file": (p.name, p.read_bytes())})
        _raise_for(resp)
        return ClipResponse.model_validate(resp.json())

    async def languages(self) -> LanguagesResponse:
        resp = await self.http.get("/v1/languages")
        _raise_for(resp)
        return LanguagesResponse.model_validate(resp.json())

    async def mint_token(self, ttl_s: int = 600, audience: str | None = None) -> TokenResponse:
        body: dict[str, Any] = {"ttl_s": ttl_s}
        if audience:
            body["audience"] = audience
        resp = await self.http.post("/v1/tokens", json=body)
        _raise_for(resp)
        return TokenResponse.model_validate(resp.json())

    async def ready(self) -> bool:
        resp = await self.http.get("/readyz")
        return resp.status_code == 200

    async def wait_ready(self, timeout_s: float = 300.0) -> None:
        deadline = time.monotonic() + timeout_s
        while not await self.ready():
            if time.monotonic() > deadline:
                raise TimeoutError("the server did not become ready")
            await asyncio.sleep(0.2)

    # -- realtime --------------------------------------------------------------------------------
    def ws_url(self) -> str:
        scheme = "wss" if self.base_url.startswith("https") else "ws"
        return f"{scheme}://{self.base_url.split('://', 1)[1]}/v1/realtime"

    def realtime(self, **hello: Any) -> RealtimeStream:
        """A realtime session; ``hello`` takes the fields of the hello message."""
        return RealtimeStream(self, hello)

    def resume(self, session_id: str, next_seq: int = 0, last_event_id: int | None = None) -> RealtimeStream:
        """Reattach to a session after a dropped connection.  ``last_event_id`` (the previous
        stream's :attr:`RealtimeStream.last_event_id`) says which finals arrived; the server sends
        every later one again, so none is lost and none comes twice."""
        hello: dict[str, Any] = {"session_id": session_id}
        if last_event_id is not None:
            hello["last_event_id"] = last_event_id
        return RealtimeStream(self, hello, next_seq=next_seq)


class RealtimeStream:
    def __init__(self, client: RttClient, hello: dict[str, Any], next_seq: int = 0) -> None:
        self.client = client
        self.hello = hello
        self.next_seq = next_seq
        self.ws: Any = None
        self.created: Any = None
        self.received: list[Any] = []  # every server message, in arrival order
        self.arrivals: list[float] = []  # time.perf_counter() when each of ``received`` arrived
        self._buffer: list[Any] = []  # received but not yet returned by recv()

    @property
    def session_id(self) -> str:
        return str(self.created.session_id)

    @property
    def last_event_id(self) -> int | None:
        """The highest ``event_id`` of the finals received on this stream (for a resume)."""
        ids = [m.event_id for m in self.received if getattr(m, "event_id", None) is not None]
        return max(ids) if ids else self.hello.get("last_event_id")

    async def connect(self, send_hello: bool = True) -> RealtimeStream:
        from websockets.asyncio.client import connect

        headers = {"Authorization": f"Bearer {self.client.credential}"} if self.client.credential else None
        ssl_ctx: ssl.SSLContext | None = None
        if self.client.ws_url().startswith("wss"):
            v = self.client.verify
            ssl_ctx = v if isinstance(v, ssl.SSLContext) else ssl.create_default_context(
                cafile=v if isinstance(v, str) else None)
        self.ws = await connect(self.client.ws_url(), additional_headers=headers, ssl=ssl_ctx,
                                max_size=None, open_timeout=self.client.timeout_s)
        if send_hello:
            await self.send_json({"type": "hello", "version": PROTOCOL_VERSION, **self.hello})
            msg = await self.recv()
            if msg.type == "error":
                raise RttApiError(0, msg.code, msg.message, msg.retry_after_ms)
            if msg.type != "session.created":
                raise RttApiError(0, "UNEXPECTED", f"expected session.created, got {msg.type}")
            self.created = msg
            if msg.last_seq is not None:
                self.next_seq = max(self.next_seq, msg.last_seq + 1)
        return self

    async def __aenter__(self) -> RealtimeStream:
        return await self.connect()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()

    def _seq(self, seq: int | None) -> int:
        if seq is None:
            seq = self.next_seq
        self.next_seq = max(self.next_seq, seq + 1)
        return seq

    async def send_json(self, obj: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(obj))

    async def send_raw(self, data: str | bytes) -> None:
        await self.ws.send(data)

    async def send_text(self, text: str, final: bool = False, seq: int | None = None) -> int:
        s = self._seq(seq)
        await self.send_json({"type": "input_text", "seq": s, "text": text, "final": final})
        return s

    async def send_audio(self, pcm: bytes, seq: int | None = None, binary: bool = False) -> int | None:
        """JSON + base64 with a seq (idempotent), or a binary frame (no seq) when ``binary``."""
        if binary:
            await self.ws.send(pcm)
            return None
        s = self._seq(seq)
        await self.send_json({"type": "input_audio", "seq": s, "audio": encode_audio(pcm)})
        return s

    async def control(self, action: str, seq: int | None = None, **fields: Any) -> int:
        s = self._seq(seq)
        await self.send_json({"type": "control", "seq": s, "action": action, **fields})
        return s

    async def ping(self) -> Any:
        await self.control("ping", client_time=time.time())
        return await self.wait_for("pong")

    async def recv(self, timeout_s: float | None = None) -> Any:
        if self._buffer:
            return self._buffer.pop(0)
        raw = await asyncio.wait_for(self.ws.recv(), timeout_s or self.client.timeout_s)
        return self._record(raw)

    def _record(self, raw: str | bytes) -> Any:
        msg = parse_server_message(raw)
        self.received.append(msg)
        self.arrivals.append(time.perf_counter())
        return msg

    async def wait_for(self, kind: str, timeout_s: float | None = None, **match: Any) -> Any:
        """The next message of type ``kind`` (with fields equal to ``match``); others stay readable."""
        deadline = time.monotonic() + (timeout_s or self.client.timeout_s)
        skipped: list[Any] = []
        try:
            while True:
                for i, m in enumerate(self._buffer):
                    if m.type == kind and all(getattr(m, k, None) == v for k, v in match.items()):
                        return self._buffer.pop(i)
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no {kind} within the timeout")
                msg = self._record(await asyncio.wait_for(self.ws.recv(), left))
                if msg.type == kind and all(getattr(msg, k, None) == v for k, v in match.items()):
                    return msg
                skipped.append(msg)
        finally:
            self._buffer.extend(skipped)

    async def messages(self) -> AsyncIterator[Any]:
        """Every message until the server closes the connection."""
        from websockets.exceptions import ConnectionClosed

        while True:
            try:
                yield await self.recv()
            except ConnectionClosed:
                return

    async def end(self, timeout_s: float | None = None) -> list[Any]:
        """Ask the server to finish (finals in flight are delivered); returns what arrives until then."""
        await self.control("end")
        out: list[Any] = []
        deadline = time.monotonic() + (timeout_s or self.client.timeout_s)
        while True:
            msg = await self.recv(max(0.01, deadline - time.monotonic()))
            out.append(msg)
            if msg.type == "session.ended":
                return out
