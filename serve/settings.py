"""The service's own settings: the ``serve:`` section of the rtt config plus ``RTT_API_KEYS``.

Everything the service enforces (limits, timeouts, sizes, retention) is a field here, so an
operator reads one model to know what a deployment allows.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from rtt.config import RttConfig
from rtt.errors import ConfigError
from rtt.versioning import require_version

SERVE_SETTINGS_VERSION = 1


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LimitSettings(_Strict):
    """Per API key (or per client address when no keys are configured)."""

    concurrent_sessions: int = Field(default=8, ge=1)
    requests_per_minute: int = Field(default=600, ge=1)
    audio_seconds_per_minute: float = Field(default=600.0, gt=0)
    # Process-wide bound on model calls in flight for REST; more wait, and past `max_waiting` get 503.
    max_inflight_requests: int = Field(default=8, ge=1)
    max_waiting_requests: int = Field(default=64, ge=0)
    max_sessions_total: int = Field(default=256, ge=1)


class SizeSettings(_Strict):
    max_message_bytes: int = Field(default=1_048_576, ge=1024)  # one JSON message (base64 inflates audio 4/3)
    max_audio_frame_bytes: int = Field(default=192_000, ge=320)  # decoded audio per frame (2 s at 48 kHz)
    max_body_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    max_clip_seconds: float = Field(default=60.0, gt=0)
    input_queue: int = Field(default=64, ge=2)  # per-session inbound messages
    output_queue: int = Field(default=256, ge=8)  # per-session outbound messages (partials dropped past it)
    max_pending_finals: int = Field(default=2048, ge=8)  # a consumer this far behind is cut off


class TimeoutSettings(_Strict):
    hello_s: float = Field(default=10.0, gt=0)
    idle_s: float = Field(default=120.0, gt=0)
    # None = the config's vad.silence_timeout_s.
    silence_s: float | None = None
    heartbeat_interval_s: float = Field(default=20.0, gt=0)
    heartbeat_timeout_s: float = Field(default=20.0, gt=0)
    resume_grace_s: float = Field(default=30.0, ge=0)
    # How long an ending session may take to deliver its finals in flight (busy CPUs are slow).
    finish_s: float = Field(default=120.0, gt=0)
    # On server shutdown: the same, bounded tighter so that a deploy does not hang.
    shutdown_grace_s: float = Field(default=30.0, ge=0)


class TlsSettings(_Strict):
    certfile: str | None = None
    keyfile: str | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.certfile and self.keyfile)


class RetentionSettings(_Strict):
    # Off by default: no audio or text outlives the request/session that carried it.
    transcripts: bool = False
    ttl_s: float = Field(default=86400.0, gt=0)


class IceServer(_Strict):
    """One STUN or TURN server, as a browser's ``RTCIceServer``."""

    urls: list[str] = Field(min_length=1)  # stun:host:3478, turn:host:3478?transport=udp, turns:...
    username: str | None = None
    credential: str | None = None


class WebRtcSettings(_Strict):
    """``POST /v1/webrtc/offer`` (serve/webrtc.py, docs/api.md "WebRTC")."""

    enabled: bool = True
    # Empty: host candidates only (localhost and LAN).  Behind NAT, list a STUN server, and a
    # TURN server for clients whose NAT a STUN-learned address does not get through.
    ice_servers: list[IceServer] = Field(default_factory=list)
    # Microphone audio is handed to the session in chunks this long: each chunk is one admission
    # (rate limit, audio-seconds accounting), so 20 ms RTP packets one by one would cost 50 a second.
    audio_chunk_ms: int = Field(default=40, ge=20, le=200)


class PoolSettings(_Strict):
    """One model pool's Ray Serve deployment (``rtt serve --ray``): its replicas and autoscaling."""

    min_replicas: int = Field(default=1, ge=0)
    max_replicas: int = Field(default=1, ge=1)
    # Requests in flight per replica the autoscaler aims at; max_ongoing_requests caps them.
    target_ongoing_requests: float = Field(default=4.0, gt=0)
    max_ongoing_requests: int = Field(default=16, ge=1)
    num_cpus: float = Field(default=1.0, gt=0)

    @model_validator(mode="after")
    def _check(self) -> PoolSettings:
        if self.min_replicas > self.max_replicas:
            raise ValueError("min_replicas must not exceed max_replicas")
        return self


class RaySettings(_Strict):
    """Scale-out on Ray Serve (serve/scaleout/, docs/deploy.md); ignored by plain ``rtt serve``."""

    # The ingress: the same FastAPI app on every replica; a WebSocket stays on one replica.
    ingress_replicas: int = Field(default=2, ge=1)
    # Concurrent requests (WebSockets included) one ingress replica takes before the proxy waits.
    ingress_max_ongoing_requests: int = Field(default=64, ge=1)
    ingress_num_cpus: float = Field(default=0.5, gt=0)
    # MT tiers served by their own pools (the rest run inside the ingress replicas), e.g.
    # {accurate: {max_replicas: 4}} puts the refinement tier on whatever machines have room.
    mt_pools: dict[str, PoolSettings] = Field(default_factory=dict)
    # Whisper as a pool of its own (None: each ingress replica loads it).
    asr_pool: PoolSettings | None = None
    # How long a replica being replaced (a new config version) may finish its sessions.
    graceful_shutdown_timeout_s: float = Field(default=60.0, gt=0)
    app_name: str = "rtt"
    # gRPC on the ingress replicas: each listens on serve.grpc_port + its rank on its host.
    grpc: bool = True


class ServeSettings(_Strict):
    version: int = SERVE_SETTINGS_VERSION
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    # None disables gRPC; 0 picks a free port (tests).
    grpc_port: int | None = Field(default=50051, ge=0, le=65535)
    api_keys: list[str] = Field(default_factory=list)
    # Operators' keys (also valid API keys; env RTT_ADMIN_KEYS adds more): they may read every
    # key's usage (GET /v1/usage?key=all).
    admin_keys: list[str] = Field(default_factory=list)
    # HMAC secret for browser tokens; None = a random one per process (tokens then don't
    # survive restarts or travel between worker processes).
    token_secret: str | None = None
    token_audience: str = "rtt"
    allow_insecure_public: bool = False
    redis_url: str | None = None
    redis_prefix: str = "rtt:"
    limits: LimitSettings = Field(default_factory=LimitSettings)
    sizes: SizeSettings = Field(default_factory=SizeSettings)
    timeouts: TimeoutSettings = Field(default_factory=TimeoutSettings)
    tls: TlsSettings = Field(default_factory=TlsSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    worker_threads: int = Field(default=4, ge=1)
    # Threads for the sessions' pipeline steps (asyncio's default executor).  Python's default
    # (cores + 4) would cap the MT steps in flight at 6 on 2 cores, however many sessions the
    # batch scheduler could decode together.
    session_threads: int = Field(default=64, ge=4)
    prewarm: bool = True
    # QE similarity of live finals, scored on a lowest-priority thread (rtt_mt_qe_similarity;
    # needs the encoder of rtt[research], off without it).
    online_qe: bool = True
    cors_origins: list[str] = Field(default_factory=list)
    webrtc: WebRtcSettings = Field(default_factory=WebRtcSettings)
    ray: RaySettings = Field(default_factory=RaySettings)

    @model_validator(mode="after")
    def _check(self) -> ServeSettings:
        require_version("serve settings", self.version, SERVE_SETTINGS_VERSION)
        if bool(self.tls.certfile) != bool(self.tls.keyfile):
            raise ValueError("tls needs both certfile and keyfile")
        return self

    def all_api_keys(self, environ: dict[str, str] | None = None) -> list[str]:
        env = os.environ if environ is None else environ
        extra = [k.strip() for k in env.get("RTT_API_KEYS", "").split(",") if k.strip()]
        return [k for k in self.api_keys if k] + extra

    def all_admin_keys(self, environ: dict[str, str] | None = None) -> list[str]:
        env = os.environ if environ is None else environ
        extra = [k.strip() for k in env.get("RTT_ADMIN_KEYS", "").split(",") if k.strip()]
        return [k for k in self.admin_keys if k] + extra


def load_serve_settings(config: RttConfig, **overrides: Any) -> ServeSettings:
    """Validate ``config.serve`` and apply overrides (CLI flags); ``None`` overrides are ignored."""
    raw = dict(config.serve)
    raw.update({k: v for k, v in overrides.items() if v is not None})
    try:
        settings = ServeSettings.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        raise ConfigError(f"serve settings: {where}: {first['msg']}", section="serve") from exc
    for path in (settings.tls.certfile, settings.tls.keyfile):
        if path and not Path(path).is_file():
            raise ConfigError(f"serve settings: tls file {path} does not exist", section="serve")
    return settings
