"""The app factory: one FastAPI app with REST, LibreTranslate compat, WebSocket, SSE, the browser
page, and (in its lifespan) the gRPC server on its own port.

``create_app(config, settings, backend=...)`` is how tests inject a plumbing backend; the CLI
passes nothing and gets :class:`~serve.backend.PipelineBackend` with the real models, loaded
once in a worker thread at start-up (``/readyz`` says when they are ready).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rtt.config import RttConfig, load_config
from rtt.errors import RttError
from rtt.protocol import PROTOCOL_VERSION, Error, ProtocolError, http_status
from serve import libre, openapi, rest, sse, static_routes, webrtc, ws
from serve.auth import Authenticator
from serve.backend import Backend, PipelineBackend
from serve.checkpoints import make_checkpoint_store
from serve.limits import RateLimiter, make_limit_store, wait_ready
from serve.metrics import Metrics
from serve.redact import install_redaction
from serve.retention import TranscriptStore
from serve.sessions import SessionManager
from serve.settings import ServeSettings, load_serve_settings
from serve.state import InflightGate, ServeState, require_principal
from serve.tracing import RequestIdMiddleware, configure_tracing
from serve.usage import UsageMeter, make_usage_store
from serve.wire.errors import rtt_error_to_protocol

log = logging.getLogger("serve.app")
STATIC = Path(__file__).parent / "static"
# Starlette's HTTP refusals by status, as the service's error codes.
HTTP_CODES = {400: "INVALID_MESSAGE", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND",
              405: "METHOD_NOT_ALLOWED", 413: "FRAME_TOO_LARGE", 429: "RATE_LIMIT", 503: "OVERLOADED"}


def error_response(exc: ProtocolError) -> JSONResponse:
    body = Error(code=exc.code, message=exc.message, retry_after_ms=exc.retry_after_ms, seq=exc.seq)
    headers = {}
    if exc.retry_after_ms is not None:
        headers["Retry-After"] = str(max(1, -(-exc.retry_after_ms // 1000)))
    if exc.code == "UNAUTHORIZED":
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse({"error": body.model_dump(exclude_none=True)}, status_code=http_status(exc.code),
                        headers=headers)


class HttpEdgeMiddleware:
    """Body-size limit and request metrics for plain HTTP (WebSocket frames are checked in the protocol)."""

    def __init__(self, app: ASGIApp, max_body: int, metrics: Metrics) -> None:
        self.app = app
        self.max_body = max_body
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        t0 = time.perf_counter()
        status = {"code": 500, "started": False}
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body:
            await error_response(ProtocolError("FRAME_TOO_LARGE", f"body over {self.max_body} bytes"))(
                scope, receive, send)
            self.metrics.http_requests.labels("oversize", scope["method"], "413").inc()
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise ProtocolError("FRAME_TOO_LARGE", f"body over {self.max_body} bytes")
            return message

        async def tracking_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                status["started"] = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except ProtocolError as exc:
            if status["started"]:
                raise
            status["code"] = http_status(exc.code)
            await error_response(exc)(scope, receive, send)
        finally:
            route = scope.get("route")
            name = getattr(route, "path", "unmatched")
            self.metrics.http_requests.labels(name, scope["method"], str(status["code"])).inc()
            self.metrics.http_seconds.labels(name).observe(time.perf_counter() - t0)


def create_app(
    config: RttConfig | None = None,
    settings: ServeSettings | None = None,
    backend: Backend | None = None,
    environ: dict[str, str] | None = None,
    tracer_provider: Any = None,
) -> FastAPI:
    config = config or load_config()
    settings = settings or load_serve_settings(config)
    backend = backend or PipelineBackend(config, prewarm=settings.prewarm)
    metrics = Metrics()
    engine_usage = getattr(backend, "engine_usage", None)
    if callable(engine_usage):
        metrics.engines.source = engine_usage
    limiter = RateLimiter(make_limit_store(settings.redis_url, settings.redis_prefix), settings.limits)
    transcripts = TranscriptStore(settings.retention.transcripts, settings.retention.ttl_s)
    usage = UsageMeter(make_usage_store(settings.redis_url, settings.redis_prefix), metrics)
    state = ServeState(
        config=config,
        settings=settings,
        backend=backend,
        auth=Authenticator(settings.all_api_keys(environ), settings.token_secret, settings.token_audience,
                           settings.all_admin_keys(environ)),
        limiter=limiter,
        metrics=metrics,
        transcripts=transcripts,
        usage=usage,
        manager=SessionManager(backend, settings, limiter, metrics, transcripts, usage,
                               make_checkpoint_store(settings.redis_url, settings.redis_prefix,
                                                     settings.timeouts.resume_grace_s + settings.timeouts.finish_s)),
        executor=ThreadPoolExecutor(settings.worker_threads, thread_name_prefix="rtt-model"),
        gate=InflightGate(settings.limits.max_inflight_requests, settings.limits.max_waiting_requests),
    )
    install_redaction()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await wait_ready(limiter.store)
        asyncio.get_running_loop().set_default_executor(
            ThreadPoolExecutor(settings.session_threads, thread_name_prefix="rtt-session"))
        state.manager.start()
        # A daemon thread, not the executor: a shutdown during a long model load must not wait for it.
        loader = threading.Thread(target=_load_backend, args=(state,), name="rtt-model-load", daemon=True)
        loader.start()
        grpc_server = None
        if settings.grpc_port is not None:
            from serve.grpc_service import start_grpc_server

            grpc_server, state.grpc_port = await start_grpc_server(state)
        try:
            yield
        finally:
            await stop_app(state)
            if grpc_server is not None:
                await grpc_server.stop(1.0)
            await limiter.store.close()
            await usage.close()
            await state.manager.checkpoints.close()
            state.executor.shutdown(wait=False, cancel_futures=True)
            backend.close()

    app = FastAPI(
        title="rtt realtime translation API",
        version=f"protocol {PROTOCOL_VERSION}",
        description="Self-hostable real-time speech and text translation. See docs/api.md.",
        docs_url="/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.rtt = state

    @app.exception_handler(ProtocolError)
    async def _protocol_error(request: Request, exc: ProtocolError) -> JSONResponse:
        state.metrics.errors.labels(exc.code, "http").inc()
        return error_response(exc)

    @app.exception_handler(RttError)
    async def _rtt_error(request: Request, exc: RttError) -> JSONResponse:
        state.metrics.errors.labels(exc.code, "http").inc()
        return error_response(rtt_error_to_protocol(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # Starlette's own refusals (an unparsable body, an unknown route or method) in the
        # service's error shape, like every other error.
        code = HTTP_CODES.get(exc.status_code, "INVALID_MESSAGE" if exc.status_code < 500 else "INTERNAL")
        if exc.status_code == 400 and "pars" in str(exc.detail).lower():
            code = "MALFORMED_JSON"
        state.metrics.errors.labels(code, "http").inc()
        return error_response(ProtocolError(code, str(exc.detail)))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request", "type": ""}
        loc = [str(p) for p in first.get("loc", ()) if p != "body"]
        where = ".".join(loc) or "body"
        if first.get("type") == "json_invalid":
            code = "MALFORMED_JSON"
        elif any(p in ("dictionary", "glossary") for p in loc):
            code = "INVALID_GLOSSARY"
        elif first.get("type") == "missing":
            code = "MISSING_FIELD"
        else:
            code = "INVALID_FIELD"
        state.metrics.errors.labels(code, "http").inc()
        return error_response(ProtocolError(code, f"{where}: {first.get('msg')}"))

    app.include_router(rest.router)
    app.include_router(libre.router)
    app.include_router(sse.router)
    app.include_router(ws.router)
    app.include_router(static_routes.router)
    app.include_router(webrtc.router)
    openapi.install(app)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def page(request: Request) -> HTMLResponse:
        await require_principal(request)
        return HTMLResponse((STATIC / "index.html").read_text(encoding="utf-8"))

    app.add_middleware(HttpEdgeMiddleware, max_body=settings.sizes.max_body_bytes, metrics=metrics)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["*"],
                           allow_headers=["*"])
    app.add_middleware(RequestIdMiddleware)
    # OTEL_* variables (serve/tracing.py); the instrumentation wraps everything above.
    configure_tracing(app, environ, provider=tracer_provider)
    return app


def _load_backend(state: ServeState) -> None:
    try:
        state.backend.load()
        # What session.created reports reads the store's manifests (and dpkg for Apertium):
        # done here, off the event loop, not on the first hello.
        state.manager.served_by()
        state.metrics.ready.set(1)
        log.info("models ready: %s", state.backend.status())
    except Exception:
        log.exception("loading models failed; /readyz stays 503")


async def stop_app(state: ServeState) -> None:
    """Graceful part of shutdown: finish sessions (finals in flight included) and flush them."""
    if state.extras.get("stopped"):
        return
    state.extras["stopped"] = True
    await state.manager.shutdown()
    await state.manager.wait_delivered(state.settings.timeouts.shutdown_grace_s)
    # Peer connections have no server that closes them (as uvicorn closes sockets).
    await asyncio.gather(*(peer.close() for peer in list(state.peers)), return_exceptions=True)


def app_state(app: FastAPI) -> ServeState:
    return app.state.rtt  # type: ignore[no-any-return]
