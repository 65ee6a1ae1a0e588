"""Processes the tests start: the `pingan` command, a free port, and `pingan serve` running on it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# `pingan`, wherever it is installed
PINGAN = [
    sys.executable,
    "-c",
    "from webapp.cli.main import main; main()",
]


def free_port() -> int:
    """A port of 127.0.0.1 nobody listens on (now)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def serving(url: str, now: str, instance: Path) -> Iterator[str]:
    """`pingan serve` over ``url`` on a free port of 127.0.0.1 with the clock at ``now``; yields its base URL and
    stops it afterwards."""
    port = free_port()
    env = {
        **os.environ,
        "PINGAN_DATABASE_URL": url,
        "PINGAN_NOW": now,
        "PINGAN_SECRET_KEY": "browser-test-key",
        "PINGAN_INSTANCE_PATH": str(instance),
        "PINGAN_BASE_URL": f"http://127.0.0.1:{port}",
    }
    command = [*PINGAN, "serve", "--host", "127.0.0.1", "--port", str(port), "--threads", "4"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        _wait_for(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_for(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"pingan serve exited: {process.stdout.read().decode(errors='replace')}"
            )
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("pingan serve did not start listening within 30 s")
