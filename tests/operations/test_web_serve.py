"""`pingan serve`: the app under waitress on 127.0.0.1, and its one-line refusals."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from urllib.error import HTTPError

import pytest

from tests.support.processes import free_port


@pytest.fixture
def db_url(tmp_path, sqlite_template):
    path = tmp_path / "pingan.sqlite"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


def test_serve_answers_over_http_with_waitress_and_stops_on_sigterm(db_url, tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "PINGAN_DATABASE_URL": db_url,
        "PINGAN_SECRET_KEY": "serve-test",
        "PINGAN_INSTANCE_PATH": str(tmp_path / "instance"),
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from webapp.cli.main import main; main()",
            "serve",
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline, answer = time.monotonic() + 30, None
        while time.monotonic() < deadline and answer is None:
            try:
                answer = urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2)
            except OSError:
                time.sleep(0.2)
        assert answer is not None, "pingan serve did not answer"
        assert answer.status == 200 and answer.headers["Server"] == "pingan"
        assert "登录" in answer.read().decode()
        with pytest.raises(HTTPError) as refused:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/me", timeout=2)
        assert refused.value.code == 401
    finally:
        process.terminate()
        process.wait(timeout=10)
    output = process.stdout.read().decode()
    assert f"serving http://127.0.0.1:{port}/ with waitress" in output
    assert (
        "Serving on" in output and "Debugger" not in output and "development server" not in output
    )


def test_serve_refuses_a_database_without_schema_in_one_line(pingan, monkeypatch, tmp_path):
    monkeypatch.setenv("PINGAN_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.sqlite'}")
    result = pingan("serve", "--port", str(free_port()))
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1].endswith("run `pingan init`")


@pytest.mark.parametrize(
    "args, message",
    [
        (["--port", "70000"], "--port must be from 1 to 65535"),
        (["--threads", "0"], "--threads must be at least 1"),
    ],
)
def test_serve_refuses_bad_options_in_one_line(pingan, args, message):
    result = pingan("serve", *args)
    assert result.exit_code == 1 and message in result.stderr
