"""Running the app: uvicorn (HTTP, WebSocket, SSE) with the gRPC server in the same event loop.

:class:`RttServer` changes one thing in uvicorn's shutdown: before uvicorn drops open
connections, the sessions are ended gracefully so that finals in flight reach their clients.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from pathlib import Path
from typing import Any

import uvicorn

from rtt.config import RttConfig, load_config
from rtt.errors import ConfigError
from serve.app import app_state, create_app, stop_app
from serve.auth import Authenticator
from serve.settings import ServeSettings, load_serve_settings

log = logging.getLogger("serve.server")
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})
MAX_WS_FRAME = 64 * 1024 * 1024


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name that may resolve anywhere


def check_bind_safety(settings: ServeSettings, auth_enabled: bool) -> None:
    """Refuse to expose an unauthenticated server beyond this machine unless told to."""
    if auth_enabled or is_loopback(settings.host) or settings.allow_insecure_public:
        return
    raise ConfigError(
        f"refusing to bind {settings.host} without API keys: set serve.api_keys or RTT_API_KEYS, "
        "or pass --allow-insecure-public",
        host=settings.host,
    )


class RttServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, app: Any) -> None:
        super().__init__(config)
        # The FastAPI app itself (uvicorn wraps config.app in its own middleware when loading).
        self.rtt_app = app

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()  # no new connections while sessions drain
        try:
            await stop_app(app_state(self.rtt_app))
        except Exception:
            log.exception("graceful session shutdown failed")
        await super().shutdown(sockets)


def uvicorn_config(app: Any, settings: ServeSettings, log_level: str = "info") -> uvicorn.Config:
    ws_max = min(MAX_WS_FRAME, settings.sizes.max_message_bytes * 4)
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        ws_max_size=ws_max,
        ws_ping_interval=settings.timeouts.heartbeat_interval_s,
        ws_ping_timeout=settings.timeouts.heartbeat_timeout_s,
        ssl_certfile=settings.tls.certfile,
        ssl_keyfile=settings.tls.keyfile,
        log_level=log_level,
        timeout_graceful_shutdown=max(1, int(settings.timeouts.shutdown_grace_s)),
        lifespan="on",
        proxy_headers=False,
    )


def build_server(app: Any, settings: ServeSettings, log_level: str = "info") -> RttServer:
    return RttServer(uvicorn_config(app, settings, log_level), app)


def run(
    config_path: str | Path | None = None,
    host: str | None = None,
    port: int | None = None,
    grpc_port: int | None = None,
    allow_insecure_public: bool = False,
    log_level: str = "info",
    config: RttConfig | None = None,
) -> None:
    """Blocking: what ``rtt serve`` runs."""
    config = config or load_config(config_path)
    settings = load_serve_settings(config, host=host, port=port, grpc_port=grpc_port,
                                   allow_insecure_public=allow_insecure_public or None)
    auth = Authenticator(settings.all_api_keys(), settings.token_secret, settings.token_audience,
                         settings.all_admin_keys())
    check_bind_safety(settings, auth.enabled)
    app = create_app(config, settings)
    build_server(app, settings, log_level).run()
