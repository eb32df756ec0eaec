"""The Ray Serve application: ingress replicas running the service's own FastAPI app, and one
model pool per MT tier named in ``serve.ray.mt_pools`` (``rtt serve --ray``; docs/deploy.md).

* **Ingress** (``rtt-ingress``): every replica builds the same app ``rtt serve`` runs
  (:func:`serve.app.create_app`), with its own ASR, VAD and TTS and the MT tiers that have no
  pool; Ray's HTTP proxy spreads connections over the replicas, and a WebSocket stays on the
  replica that accepted it, so a session's live loop never crosses processes.  A replica reports
  healthy only once its models are loaded, so the proxy never routes to one still loading (a
  rolling update starts the new replicas' sessions only when they can serve them).
* **Pools** (``mt-<tier>``): :class:`serve.scaleout.pools.MtPool` per pooled tier, each with
  its own ``autoscaling_config`` and ``max_ongoing_requests``: the refinement tier can grow on
  other machines than the live work.

Every deployment carries the config's name and version as its Serve ``version``: deploying a new
config version replaces replicas one by one, each old replica finishing its sessions within
``graceful_shutdown_timeout_s``.
"""

from __future__ import annotations

import logging
from typing import Any

from rtt.config import RttConfig
from serve.scaleout.pools import ASR_POOL, AsrPool, MtPool, RemoteAsrEngine, pool_name, remote_engines
from serve.settings import ServeSettings

log = logging.getLogger("rtt.serve.ray")
INGRESS = "rtt-ingress"


class Ingress:
    """The ingress deployment's class: builds the service app on its replica."""

    async def __init__(self, config: dict[str, Any], settings: dict[str, Any], pools: dict[str, Any],
                       asr_pool: Any = None) -> None:
        import asyncio
        import os

        from ray import serve

        from serve.backend import PipelineBackend

        # session.created's served_by.replica: which replica holds a session
        os.environ["RTT_REPLICA"] = serve.get_replica_context().replica_id.to_full_id_str()

        self.config = RttConfig.model_validate(config)
        base = ServeSettings.model_validate(settings)
        self.settings = ServeSettings.model_validate({**settings, "grpc_port": _grpc_port(base)})
        self.backend = PipelineBackend(
            self.config, prewarm=self.settings.prewarm,
            mt_remote=remote_engines(self.config, pools) if pools else None,
            asr_remote=(lambda: RemoteAsrEngine(asr_pool)) if asr_pool is not None else None)
        # Healthy = loaded: Ray routes nothing here before __init__ returns.  In a thread: the
        # pools are called through blocking handle calls, not allowed on the replica's loop.
        await asyncio.to_thread(self.backend.load)

    def __serve_build_asgi_app__(self) -> Any:
        from serve.app import create_app

        return create_app(self.config, self.settings, backend=self.backend)

    def check_health(self) -> None:
        if not self.backend.ready:
            raise RuntimeError(f"models not ready: {self.backend.status()}")


def _grpc_port(settings: ServeSettings) -> int | None:
    """This replica's gRPC port: ``serve.grpc_port`` plus its rank among the deployment's
    replicas on this host (two replicas: 50051 and 50052).  A gRPC stream is one session, so it
    stays on the replica it reached, like a WebSocket.  Taken (a replica of the previous version
    still draining on this host): this replica serves HTTP only, and says so in the log."""
    import socket

    from ray import serve

    if settings.grpc_port is None or not settings.ray.grpc:
        return None
    rank = serve.get_replica_context().rank
    local = getattr(rank, "local_rank", None)
    port = settings.grpc_port + int(local if local is not None else getattr(rank, "rank", 0))
    with socket.socket() as s:
        try:
            s.bind((settings.host, port))
        except OSError:
            log.warning("gRPC port %d is taken; this replica serves HTTP only", port)
            return None
    return port


def config_version(config: RttConfig) -> str:
    """The Serve version of every deployment: a new config version rolls the replicas."""
    return f"{config.name}-v{config.version}"


def build_application(config: RttConfig, settings: ServeSettings) -> Any:
    """The bound Serve application (``serve.run(build_application(...))``)."""
    from ray import serve

    ray_cfg = settings.ray
    raw_config = config.model_dump(mode="json")
    raw_settings = settings.model_dump(mode="json")
    pools: dict[str, Any] = {}
    for tier, pool in ray_cfg.mt_pools.items():
        if tier not in config.mt.tiers:
            from rtt.errors import ConfigError

            raise ConfigError(f"serve.ray.mt_pools: unknown tier {tier!r}", section="serve")
        deployment = _pool_deployment(serve, MtPool, pool_name(tier), pool, ray_cfg)
        pools[tier] = deployment.bind(raw_config, tier)
    asr_pool = None
    if ray_cfg.asr_pool is not None:
        asr_pool = _pool_deployment(serve, AsrPool, ASR_POOL, ray_cfg.asr_pool, ray_cfg).bind(raw_config)
    ingress = serve.deployment(
        serve.ingress()(Ingress), name=INGRESS, num_replicas=ray_cfg.ingress_replicas,
        max_ongoing_requests=ray_cfg.ingress_max_ongoing_requests,
        graceful_shutdown_timeout_s=ray_cfg.graceful_shutdown_timeout_s,
        health_check_period_s=5, health_check_timeout_s=30,
        ray_actor_options={"num_cpus": ray_cfg.ingress_num_cpus},
    )
    return ingress.bind(raw_config, raw_settings, pools, asr_pool)


def _pool_deployment(serve: Any, cls: type, name: str, pool: Any, ray_cfg: Any) -> Any:
    return serve.deployment(
        cls, name=name,
        autoscaling_config={"min_replicas": pool.min_replicas, "max_replicas": pool.max_replicas,
                            "initial_replicas": max(1, pool.min_replicas),
                            "target_ongoing_requests": pool.target_ongoing_requests},
        max_ongoing_requests=pool.max_ongoing_requests,
        graceful_shutdown_timeout_s=ray_cfg.graceful_shutdown_timeout_s,
        ray_actor_options={"num_cpus": pool.num_cpus},
    )


def start(config: RttConfig, settings: ServeSettings, address: str | None = None, *,
          blocking: bool = False) -> Any:
    """Connect to (``address``) or start (127.0.0.1) a Ray cluster, start Serve's HTTP proxy on
    ``serve.host``/``serve.port`` and deploy the application; returns the ingress handle."""
    import ray
    from ray import serve

    if not ray.is_initialized():
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            # A local cluster on loopback, on its own port (6379 is Redis's).
            ray.init(include_dashboard=False, log_to_driver=False, _node_ip_address="127.0.0.1")
    serve.start(http_options={"host": settings.host, "port": settings.port})
    handle = serve.run(build_application(config, settings), name=settings.ray.app_name, route_prefix="/",
                       blocking=blocking)
    log.info("rtt on Ray Serve: http://%s:%s (%s)", settings.host, settings.port, config_version(config))
    return handle


def run_blocking(config_path: str | None, *, host: str | None = None, port: int | None = None,
                 address: str | None = None, allow_insecure_public: bool = False) -> None:
    """What ``rtt serve --ray`` runs: deploy, then keep the driver alive until interrupted
    (the application keeps running on a cluster given by ``address`` after the driver exits)."""
    import signal
    import time

    from rtt.config import load_config
    from serve.auth import Authenticator
    from serve.server import check_bind_safety
    from serve.settings import load_serve_settings

    config = load_config(config_path)
    settings = load_serve_settings(config, host=host, port=port, allow_insecure_public=allow_insecure_public or None)
    check_bind_safety(settings, Authenticator(settings.all_api_keys(), settings.token_secret,
                                              settings.token_audience, settings.all_admin_keys()).enabled)
    start(config, settings, address)
    print(f"rtt on Ray Serve at http://{settings.host}:{settings.port}/ ({config_version(config)}); Ctrl-C stops",
          flush=True)
    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)  # a supervisor's stop is an interrupt too
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        import ray

        if address is None:  # our own cluster: take it down with us (a shared one keeps running)
            ray.shutdown()


def app_builder(args: dict[str, str]) -> Any:
    """The import path of Ray's declarative deploys (``serve run``/``serve deploy`` with
    ``import_path: serve.scaleout.app:app_builder``, KubeRay's RayService): ``args.config`` names
    the rtt config (default: the packaged one); ``serve.ray`` in it shapes the deployments."""
    from rtt.config import load_config
    from serve.settings import load_serve_settings

    config = load_config(args.get("config") or None)
    return build_application(config, load_serve_settings(config))
