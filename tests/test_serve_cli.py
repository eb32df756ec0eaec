"""``rtt serve`` as a real process: bind safety, start-up, and a clean exit on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import yaml

from rtt.config import DEFAULT_CONFIG_PATH

RTT = [sys.executable, "-m", "rtt.cli.main"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_public_bind_without_keys_is_refused():
    env = {k: v for k, v in os.environ.items() if k != "RTT_API_KEYS"}
    proc = subprocess.run([*RTT, "serve", "--host", "0.0.0.0", "--port", str(free_port())],
                          capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 2
    assert "allow-insecure-public" in proc.stderr


def test_serve_starts_and_stops_on_sigterm(tmp_path: Path):
    config = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text())
    config["serve"] = {"prewarm": False}  # models load lazily: the process is ready at once
    cfg = tmp_path / "rtt.yaml"
    cfg.write_text(yaml.safe_dump(config))
    port, grpc_port = free_port(), free_port()
    proc = subprocess.Popen([*RTT, "serve", "--config", str(cfg), "--port", str(port), "--grpc-port", str(grpc_port),
                             "--log-level", "warning"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, "rtt serve did not become ready"
            time.sleep(0.2)
        assert httpx.get(f"http://127.0.0.1:{port}/readyz").json()["grpc_port"] == grpc_port
        socket.create_connection(("127.0.0.1", grpc_port), 2).close()
        proc.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then re-raises the signal so the exit status tells why.
        assert proc.wait(30) in (0, -signal.SIGTERM)
        assert "Traceback" not in (proc.stderr.read() if proc.stderr else "")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
