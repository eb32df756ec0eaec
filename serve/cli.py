"""``rtt serve``: contributed to the ``rtt`` CLI through the ``rtt.commands`` entry point."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "serve",
        help="run the translation service (REST, WebSocket, SSE, gRPC)",
        description="Serve one rtt config over HTTP/WebSocket (uvicorn) and gRPC. "
        "Binding a non-loopback host needs API keys (serve.api_keys or RTT_API_KEYS) "
        "unless --allow-insecure-public is given.",
    )
    p.add_argument("--config", help="rtt config YAML (default: the packaged rtt/data/default.yaml)")
    p.add_argument("--host", help="address to bind (default 127.0.0.1, or serve.host in the config)")
    p.add_argument("--port", type=int, help="HTTP port (default 8000, or serve.port)")
    p.add_argument("--grpc-port", type=int, help="gRPC port (default 50051, or serve.grpc_port)")
    p.add_argument("--allow-insecure-public", action="store_true",
                   help="allow a non-loopback bind without API keys (not recommended)")
    p.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    p.add_argument("--ray", action="store_true",
                   help="deploy on Ray Serve: ingress replicas and MT pools (serve.ray in the config; docs/deploy.md)")
    p.add_argument("--ray-address", metavar="ADDR",
                   help="with --ray: an existing cluster (ray://host:10001 or auto); default: a local one on 127.0.0.1")
    p.add_argument("--hash-key", metavar="KEY",
                   help="print KEY as 'sha256:<hex>' for serve.api_keys / RTT_API_KEYS, and exit")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    if args.hash_key is not None:
        from serve.auth import HASHED_PREFIX, hash_key

        if not args.hash_key:
            raise SystemExit("rtt serve: error: --hash-key needs a non-empty key")
        print(HASHED_PREFIX + hash_key(args.hash_key))
        return 0

    if args.ray or args.ray_address:
        from serve.scaleout.app import run_blocking

        run_blocking(args.config, host=args.host, port=args.port, address=args.ray_address,
                     allow_insecure_public=args.allow_insecure_public)
        return 0

    from serve.server import run

    run(
        config_path=args.config,
        host=args.host,
        port=args.port,
        grpc_port=args.grpc_port,
        allow_insecure_public=args.allow_insecure_public,
        log_level=args.log_level,
    )
    return 0
