"""Serve the product with uvicorn for a benchmark: a free port, the app factory, ready when
``/api/v1/health`` answers, stopped (its worker processes with it) when the block ends."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def running(
    env: dict[str, str], workers: int = 1, wait_s: float = 120
) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """(port, server process) of ``uvicorn passerelles.app:create_app`` on 127.0.0.1 with ``env``."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "passerelles.app:create_app", "--factory", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", str(workers), "--log-level", "warning", "--no-access-log"]
    server = subprocess.Popen(command, env=env, cwd=PROJECT_ROOT, start_new_session=True)
    try:
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=1) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        yield port, server
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)  # requests still queued after the window: stop without them
            server.wait(timeout=30)
