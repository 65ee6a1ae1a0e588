"""Who is signing in, behind a reverse proxy and without one, through the real servers: `pingan serve` (waitress)
and gunicorn as docker-compose.yml runs it. The sign-in throttle is what tells: it counts failures per address.

Behind one proxy (``PINGAN_PROXIES=1``), two clients the proxy names by two X-Forwarded-For addresses are two
addresses: a guesser locked out does not lock out the owner elsewhere. With no proxy configured, X-Forwarded-For
is the client's own invention and is ignored: both are the one address they connect from."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
import yaml

from tests.support.paths import ROOT
from tests.support.processes import PINGAN, free_port
from tests.support.texts import TOWN_WITH_CROSSING
from tests.support.web import PASSWORD, give_everyone_a_password
from webapp.auth import throttle
from workflow.db import create_db_engine, session_factory
from workflow.organisation.directory import import_organisation
from workflow.organisation.org_file import parse_organisation

GUESSER, OWNER = "203.0.113.7", "198.51.100.9"
COMPOSE_WEB = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))["services"][
    "web"
]["command"]

pytestmark = pytest.mark.slow


@pytest.fixture
def db_url(tmp_path, sqlite_template):  # type: ignore[no-untyped-def]
    """A SQLite file with the town's people, each signing in with ``PASSWORD``."""
    path = tmp_path / "pingan.sqlite"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    engine = create_db_engine(url)
    with session_factory(engine).begin() as session:
        import_organisation(session, parse_organisation(TOWN_WITH_CROSSING, "org.yaml"))
        give_everyone_a_password(session)
    engine.dispose()
    return url


@pytest.mark.parametrize("server", ["pingan serve", "gunicorn"])
def test_behind_a_proxy_two_clients_are_two_addresses(server, db_url, tmp_path):
    with running(server, db_url, tmp_path, proxies="1") as base:
        for _ in range(throttle.ACCOUNT_AT_ADDRESS_LIMIT):
            assert sign_in(base, "east@example.org", "wrong", forwarded_for=GUESSER) == 401
        assert sign_in(base, "east@example.org", PASSWORD, forwarded_for=GUESSER) == 429

        assert sign_in(base, "east@example.org", PASSWORD, forwarded_for=OWNER) == 302
        # the guesser writes the owner's address itself; the proxy appends the one it saw
        forged = f"{OWNER}, {GUESSER}"
        assert sign_in(base, "east@example.org", PASSWORD, forwarded_for=forged) == 429


@pytest.mark.parametrize("server", ["pingan serve", "gunicorn"])
def test_without_a_proxy_a_forged_forwarded_for_is_ignored(server, db_url, tmp_path):
    with running(server, db_url, tmp_path, proxies=None) as base:
        for _ in range(throttle.ACCOUNT_AT_ADDRESS_LIMIT):
            assert sign_in(base, "east@example.org", "wrong", forwarded_for=GUESSER) == 401
        assert sign_in(base, "east@example.org", PASSWORD, forwarded_for=OWNER) == 429, (
            "another X-Forwarded-For is no other address"
        )


def test_a_number_of_proxies_that_is_no_number_is_refused_in_one_line(db_url, tmp_path):
    env = {**os.environ, "PINGAN_DATABASE_URL": db_url, "PINGAN_PROXIES": "one"}
    command = [*PINGAN, "serve", "--port", str(free_port())]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "error: PINGAN_PROXIES must be the number of reverse proxies in front, not 'one'"
    )


def test_gunicorn_runs_as_the_compose_file_says():
    # the tests above start gunicorn with the compose file's own arguments: these are the ones that matter
    assert COMPOSE_WEB[0] == "gunicorn" and COMPOSE_WEB[-1] == "webapp.wsgi:app"
    assert COMPOSE_WEB[COMPOSE_WEB.index("--forwarded-allow-ips") + 1] == ""


# --- helpers ------------------------------------------------------------------------------------


def sign_in(base: str, email: str, password: str, forwarded_for: str) -> int:
    """The status of one sign-in through the form, by a new browser behind a proxy that names it
    ``forwarded_for``."""
    headers = {"X-Forwarded-For": forwarded_for}
    with requests.Session() as browser:
        page = browser.get(f"{base}/login", headers=headers, timeout=30)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)
        answer = browser.post(
            f"{base}/login",
            data={"email": email, "password": password, "csrf_token": token},
            headers=headers,
            allow_redirects=False,
            timeout=30,
        )
        return answer.status_code


@contextmanager
def running(server: str, db_url: str, tmp_path: Path, proxies: str | None) -> Iterator[str]:
    """``server`` on a free port of 127.0.0.1 over ``db_url``; yields its base URL."""
    port = free_port()
    env = {
        **os.environ,
        "PINGAN_DATABASE_URL": db_url,
        "PINGAN_SECRET_KEY": "forwarded-addresses-test",
        "PINGAN_INSTANCE_PATH": str(tmp_path / "instance"),
        "PINGAN_BASE_URL": f"http://127.0.0.1:{port}",
    }
    env.pop("PINGAN_PROXIES", None)
    env.pop("PINGAN_ENV", None)
    if proxies is not None:
        env["PINGAN_PROXIES"] = proxies
    if server == "gunicorn":
        arguments = list(COMPOSE_WEB[1:])
        arguments[arguments.index("--bind") + 1] = f"127.0.0.1:{port}"
        arguments[arguments.index("--workers") + 1] = "2"
        command = [sys.executable, "-m", "gunicorn", *arguments]
    else:
        command = [*PINGAN, "serve", "--host", "127.0.0.1", "--port", str(port)]
    log = open(tmp_path / "server.log", "w+")  # noqa: SIM115 - read back when it fails
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_until_up(port, process, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_until_up(port: int, process: subprocess.Popen, log) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            raise AssertionError(f"the server exited: {log.read()[-3000:]}")
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code == 200:
                return
        except requests.RequestException:
            time.sleep(0.3)
    raise AssertionError("the server did not come up within 90 s")
