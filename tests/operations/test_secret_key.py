"""In production the web app refuses a secret key anyone could know: unset, a published placeholder, or too short
to withstand guessing from a cookie. `pingan serve` says so in one line and exits; gunicorn does not boot. The
demo, a laptop and the tests (development) keep working with any key."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import requests

from tests.support.processes import PINGAN, free_port
from webapp.config import MIN_SECRET_KEY_LENGTH

STRONG = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


@pytest.fixture
def environment(tmp_path, sqlite_template):  # type: ignore[no-untyped-def]
    """The environment of a web process over a migrated SQLite file, with no mode and no key of its own."""
    shutil.copy(sqlite_template, tmp_path / "pingan.sqlite")
    env = {
        **os.environ,
        "PINGAN_DATABASE_URL": f"sqlite:///{tmp_path / 'pingan.sqlite'}",
        "PINGAN_INSTANCE_PATH": str(tmp_path / "instance"),
    }
    for name in ("PINGAN_ENV", "PINGAN_SECRET_KEY", "PINGAN_BASE_URL"):
        env.pop(name, None)
    return env


@pytest.mark.parametrize(
    "key, said",
    [
        ("change-me-in-production", "the public placeholder 'change-me-in-production'"),
        ("dev", "the public placeholder 'dev'"),
        ("", "is not set in production"),
        ("x7Rq-private-but-31-characters!", "has only 31 characters"),
    ],
)
def test_production_refuses_a_weak_secret_key_in_one_line(environment, key, said):
    environment |= {"PINGAN_ENV": "production", "PINGAN_SECRET_KEY": key}
    result = serve(environment)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(lines) == 1, result.stderr
    assert lines[0].startswith("error: PINGAN_SECRET_KEY ") and said in lines[0]
    assert f"at least {MIN_SECRET_KEY_LENGTH} characters" in lines[0]
    if key.startswith("x7Rq"):
        assert key not in result.stderr, "a private key, however short, is never shown"


def test_an_https_base_url_means_production_unless_told_otherwise(environment):
    environment |= {"PINGAN_BASE_URL": "https://pingan.example.org", "PINGAN_SECRET_KEY": "dev"}
    refused = serve(environment)
    assert refused.returncode == 1 and "public placeholder 'dev'" in refused.stderr

    environment["PINGAN_ENV"] = "development"
    with serving(environment) as base:
        assert requests.get(f"{base}/login", timeout=10).status_code == 200


def test_an_unknown_mode_is_refused_in_one_line(environment):
    environment |= {"PINGAN_ENV": "staging", "PINGAN_SECRET_KEY": STRONG}
    result = serve(environment)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "error: PINGAN_ENV must be 'production' or 'development', not 'staging'"
    )


def test_production_serves_with_a_strong_key(environment):
    environment |= {"PINGAN_ENV": "production", "PINGAN_SECRET_KEY": STRONG}
    with serving(environment) as base:
        assert requests.get(f"{base}/login", timeout=10).status_code == 200


@pytest.mark.slow
def test_gunicorn_does_not_boot_with_the_compose_file_s_old_placeholder(environment):
    environment |= {"PINGAN_ENV": "production", "PINGAN_SECRET_KEY": "change-me-in-production"}
    command = [sys.executable, "-m", "gunicorn", "--workers", "1", "--bind"]
    result = subprocess.run(
        [*command, f"127.0.0.1:{free_port()}", "webapp.wsgi:app"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "PINGAN_SECRET_KEY is the public placeholder 'change-me-in-production'" in result.stderr


# --- helpers ------------------------------------------------------------------------------------


def serve(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`pingan serve` that is expected to refuse: a server that starts instead fails the test by its timeout."""
    command = [*PINGAN, "serve", "--port", str(free_port())]
    try:
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("pingan serve started instead of refusing")


@contextmanager
def serving(env: dict[str, str]) -> Iterator[str]:
    """`pingan serve` on a free port for the length of a ``with``; yields its base URL."""
    port = free_port()
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen(
            [*PINGAN, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                if process.poll() is not None:
                    log.seek(0)
                    raise AssertionError(f"pingan serve exited: {log.read()[-2000:]}")
                try:
                    requests.get(f"{base}/healthz", timeout=5)
                    break
                except requests.RequestException:
                    assert time.monotonic() < deadline, "pingan serve did not come up"
                    time.sleep(0.2)
            yield base
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
