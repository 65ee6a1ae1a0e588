"""Logging for every process, configured here and nowhere else: readable lines by default, JSON
lines on request.

``PINGAN_LOG_FORMAT=json`` makes the web app, every ``pingan`` command (the
scheduler and the sweep included) and gunicorn's own master log one JSON object
per line on stderr — ``timestamp``, ``level``, ``logger``, ``message``,
``process``, plus whatever a record carries (``request_id`` on every line
written while a request is handled, any ``extra=`` field) — which is what log
collectors (journald, Docker, Loki, ELK) read without parsing rules. Each
request then also writes one access line (``method``, ``path``, ``status``,
``duration_ms``, and ``campaign_id`` when the route names a campaign).

What is never written: request bodies, headers and query strings. So a password
typed into the sign-in form, an ``Authorization: Bearer`` token or a
``?token=`` pasted into a URL cannot reach the logs through us; the access line
names the path only.

``PINGAN_LOG_LEVEL`` (default INFO) sets the level. In the readable format we
behave like ``logging.basicConfig``: a host that configured logging already
(pytest, an embedding application) keeps its own set-up.
"""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from pythonjsonlogger.json import JsonFormatter

from webapp.config import Settings

# Flask only where the web app is set up: the `pingan` command imports this module too
if TYPE_CHECKING:
    from flask import Flask, Response

FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s[%(process)d]: %(message)s"
TEXT_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S%z"
ACCESS_LOGGER = "pingan.access"
REQUEST_ID_HEADER = "X-Request-ID"
# a request id handed in by a proxy is kept only if it is short and plain: it goes into every line
# of the request
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
# libraries whose INFO lines are noise for an operator: alembic's "Context impl …" on every command,
# APScheduler's line per job run (`pingan init` prints the revision reached itself), transitions'
# lines for every state entered (the audit trail records each move, with who made it)
_QUIET_LOGGERS = ("alembic", "apscheduler", "transitions")

log = logging.getLogger("pingan.logs")
_request_id: ContextVar[str | None] = ContextVar("pingan_request_id", default=None)


def log_format(settings: Settings) -> str:
    """``PINGAN_LOG_FORMAT``: ``json``, or ``text`` (the default, and what an unknown value falls
    back to)."""
    chosen = settings.log_format.lower()
    return chosen if chosen in FORMATS else "text"


def configure_logging(settings: Settings | Mapping[str, str]) -> str:
    """Send log records to stderr in the format ``PINGAN_LOG_FORMAT`` names; return that format.

    ``settings``: the process's, or an environment of its own (a test's ``{}``: the defaults).
    Calling it again replaces what an earlier call installed (create_app runs once per test app).
    A misspelt format or level is logged as a warning, never a reason for a process not to start.
    """
    if not isinstance(settings, Settings):
        settings = Settings.from_env(settings)
    chosen = log_format(settings)
    root = logging.getLogger()
    for handler in [handler for handler in root.handlers if isinstance(handler, _StderrHandler)]:
        root.removeHandler(handler)
    if chosen == "text" and root.handlers:
        return chosen  # logging.basicConfig's rule: the host configured logging, keep it
    handler = _StderrHandler()
    handler.setFormatter(
        json_formatter() if chosen == "json" else logging.Formatter(TEXT_FORMAT, TEXT_DATE_FORMAT)
    )
    handler.addFilter(_add_request_id)
    root.addHandler(handler)
    level_text = settings.log_level.upper() or "INFO"
    level = logging.getLevelName(level_text)
    root.setLevel(level if isinstance(level, int) else logging.INFO)
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    given_format = settings.log_format
    if given_format and given_format.lower() not in FORMATS:
        log.warning(
            "PINGAN_LOG_FORMAT=%s is not one of %s: logging as text",
            given_format,
            ", ".join(FORMATS),
        )
    if not isinstance(level, int):
        log.warning(
            "PINGAN_LOG_LEVEL=%s is not a level (DEBUG, INFO, WARNING, ERROR): logging at INFO",
            level_text,
        )
    return chosen


def init_logging(app: Flask, settings: Settings) -> None:
    """Configure logging for a web app process, and in JSON mode write one access line per
    request."""
    if configure_logging(settings) != "json":
        return  # the readable format leaves access lines to the server (gunicorn --access-logfile)
    # first of the app's hooks: a hook registered earlier could answer before ours starts the clock
    app.before_request_funcs.setdefault(None, []).insert(0, _start_request)
    app.after_request(_access_line)
    app.teardown_request(_end_request)


def json_formatter() -> logging.Formatter:
    """One JSON object per record: timestamp (UTC, ISO 8601), level, logger, message, process, and
    any extra field."""
    return _JsonLines(
        "%(asctime)s %(levelname)s %(name)s %(message)s %(process)s",
        rename_fields={"asctime": "timestamp", "levelname": "level", "name": "logger"},
        json_ensure_ascii=False,
    )


class _JsonLines(JsonFormatter):
    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802 - logging's name
        # UTC with milliseconds, like the times stored in the database: lines of several hosts sort
        # as text
        return datetime.fromtimestamp(record.created, timezone.utc).isoformat(
            timespec="milliseconds"
        )


# --- the request's id and access line -----------------------------------------------------------


def _start_request() -> None:
    from flask import g, request

    offered = request.headers.get(REQUEST_ID_HEADER, "")
    g.pingan_request_id = offered if _SAFE_REQUEST_ID.fullmatch(offered) else uuid.uuid4().hex[:16]
    g.pingan_request_started = time.perf_counter()
    g.pingan_request_token = _request_id.set(g.pingan_request_id)


def _access_line(response: Response) -> Response:
    from flask import g, request

    started = g.get("pingan_request_started")
    if started is None:  # the request never reached our first hook (a routing failure before it)
        return response
    # duration: until the response is ready; a streamed body (an evidence download) is sent after
    # this line
    fields: dict[str, Any] = {
        "method": request.method,
        "path": request.path,
        "status": response.status_code,
        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
    }
    campaign_id = (request.view_args or {}).get("campaign_id")
    if campaign_id is not None:
        fields["campaign_id"] = campaign_id
    # the path only: a query string may carry a token someone pasted into a link
    logging.getLogger(ACCESS_LOGGER).info(
        "%s %s %s", request.method, request.path, response.status_code, extra=fields
    )
    response.headers.setdefault(REQUEST_ID_HEADER, g.pingan_request_id)
    return response


def _end_request(_error: BaseException | None) -> None:
    from flask import g

    token = g.pop("pingan_request_token", None)
    if token is not None:
        _request_id.reset(token)


def _add_request_id(record: logging.LogRecord) -> bool:
    request_id = _request_id.get()
    if request_id is not None and not hasattr(record, "request_id"):
        record.request_id = request_id
    return True


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time (a test runner or click's CliRunner swaps
    it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


# --- gunicorn -----------------------------------------------------------------------------------

try:
    from gunicorn.glogging import Logger as _GunicornLogger
except ImportError:  # gunicorn is the "server" extra; the laptop install serves with waitress
    pass
else:

    class GunicornLogger(_GunicornLogger):
        """gunicorn's own lines (start-up, worker boot and exit) in ``PINGAN_LOG_FORMAT``.

        Use it with ``--logger-class webapp.logs.GunicornLogger`` (the image sets it in
        ``GUNICORN_CMD_ARGS``). In JSON mode the app writes the access line itself, so
        gunicorn's — whose request line carries the query string — is not written.
        """

        def setup(self, cfg: Any) -> None:
            super().setup(cfg)
            # gunicorn's master process: no app yet, so its settings are read here
            self._json = log_format(Settings.from_env()) == "json"
            if self._json:
                for handler in (*self.error_log.handlers, *self.access_log.handlers):
                    handler.setFormatter(json_formatter())

        def access(self, resp: Any, req: Any, environ: Any, request_time: Any) -> None:
            if not self._json:
                super().access(resp, req, environ, request_time)
