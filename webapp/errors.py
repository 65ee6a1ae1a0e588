"""Errors: the API's shape ``{"error": CODE, "message": TEXT}`` under ``/api/``, a page everywhere
else.

Engine errors keep their own code and status (``PingAnError``); HTTP errors
raised by Flask or Werkzeug (no such route, wrong method, malformed body) get
the same shape. An unexpected exception is logged by Flask and answered with a
fixed message, so nothing of its text (titles, SQL) reaches the caller. Pages
answer with an error page in the reader's language that says what to do next.

A database that cannot be reached (restarting, failed over, the network gone)
is not a bug of the request: it is answered 503 with ``Retry-After``, in the
JSON shape or as a page, and the pool reconnects by itself when the database is
back (a connection idle in the pool is pinged before use, one found dead is
replaced: workflow/db.py ``_ping_when_idle``), so no restart of the app is
needed.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any

from flask import Flask, Response, g, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import IntegerConverter

from webapp.engine_messages import engine_message
from workflow.errors import PingAnError, TransitionRefused
from workflow.limits import MAX_DATABASE_ID

API_PREFIX = "/api/"
# seconds a client should wait before trying again while the database is away (a restart takes a
# few)
DATABASE_RETRY_AFTER = 5

log = logging.getLogger("pingan.web")

# Werkzeug's names, as codes a client can switch on; 422 matches the engine's InvalidInput
HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    500: "internal",
    503: "unavailable",
}


def database_id(text: str) -> int:
    """An id as a form sends it; anything else (``²``, 4,300 digits, past the database's integers)
    is no id of ours: not found, like any unknown id, never a 500."""
    digits = text.strip()
    if not (digits.isascii() and digits.isdigit() and len(digits) <= len(str(MAX_DATABASE_ID))):
        raise NotFound()
    number = int(digits)
    if not 0 < number <= MAX_DATABASE_ID:
        raise NotFound()
    return number


class DatabaseId(IntegerConverter):
    """``<int:…>`` in a route: an id larger than a database integer is no id of ours, so 404 like
    any unknown id.

    Werkzeug's converter takes any number of digits: ``/campaigns/2147483648`` was a 500,
    PostgreSQL's "integer out of range" (and past 2^63 - 1 SQLite's driver raised an OverflowError).
    Werkzeug's own ``max`` would make the rule not match, which it answers 405 where another
    method's rule matches.
    """

    def to_python(self, value: str) -> int:
        return database_id(value)


def init_errors(app: Flask) -> None:
    """Answer errors under ``/api/`` in the JSON error shape; other paths keep Flask's own pages."""
    app.register_error_handler(PingAnError, _engine_error)
    app.register_error_handler(HTTPException, _http_error)
    # OperationalError: cannot connect, connection lost, server shutting down, lock or statement
    # timeout; InterfaceError: the driver's connection is already closed; DisconnectionError: the
    # pool gave up
    for lost in (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError):
        app.register_error_handler(lost, _database_unavailable)
    # a value the database cannot store (a NUL character, text longer than its column, a number out
    # of range) is the request's fault, not the server's: answered 422, and the transaction is
    # rolled back
    app.register_error_handler(sa_exc.DataError, _data_refused)
    # before any blueprint is registered: routes take the converter in force when they are added
    app.url_map.converters["int"] = DatabaseId


def error_response(status: int, code: str, message: str, **extra: Any) -> Response:
    """A JSON error response in the API's shape."""
    response = jsonify({"error": code, "message": message, **extra})
    response.status_code = status
    return response


def _engine_error(error: PingAnError) -> Response | tuple[str, int]:
    if not _is_api():
        shown = engine_message(error.message) if error.status not in (403, 404) else None
        return _page(error.status, shown)
    extra: dict[str, Any] = {}
    if isinstance(error, TransitionRefused):
        # only the people allowed to make the move get this far (the engine checks before the guard)
        extra["blockers"] = [asdict(blocker) for blocker in error.blockers]
    return error_response(error.status, error.code, error.message, **extra)


def _database_unavailable(error: Exception) -> Response:
    """503 with Retry-After: the database is away for now; nothing of the driver's text reaches the
    client."""
    orig = getattr(error, "orig", None) or error
    log.warning(
        "database unavailable for %s %s: %s: %s",
        request.method,
        request.path,
        type(orig).__name__,
        (str(orig).strip().splitlines() or [""])[0],
    )
    if _is_api():
        response = error_response(
            503, "unavailable", "the database cannot be reached just now; try again shortly"
        )
    else:
        # the page's header asks who is signed in, which needs the database that just failed
        from webapp.auth.identity import login_manager

        # Flask-Login 0.6 keeps the request's user here
        g._login_user = login_manager.anonymous_user()
        body, status = _page(503, None)
        response = Response(body, status=status, mimetype="text/html")
    response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER)
    return response


def _data_refused(error: sa_exc.DataError) -> Response | tuple[str, int]:
    """422: the database refused a value of the request; logged, since the engine should have caught
    it first."""
    log.warning(
        "the database refused a value of %s %s: %s",
        request.method,
        request.path,
        (str(error.orig).strip().splitlines() or [""])[0],
    )
    if _is_api():
        return error_response(
            422,
            "invalid",
            "a value cannot be stored: too long, out of range, or containing a NUL character",
        )
    return _page(422, None)


def _http_error(error: HTTPException) -> Response | HTTPException | tuple[str, int]:
    if not _is_api():
        if isinstance(error, CSRFError):
            return _page(400, None, forged=True)
        if error.code in (301, 302, 303, 307, 308) or error.code is None:
            return error
        return _page(error.code, None)
    status = error.code or 500
    if status >= 500:
        return error_response(
            status,
            HTTP_CODES.get(status, "internal"),
            "internal error" if status == 500 else (error.description or "unavailable"),
        )
    response = error_response(
        status, HTTP_CODES.get(status) or _snake(error.name), error.description or error.name
    )
    for name, value in error.get_headers():
        if name.lower() != "content-type":  # WWW-Authenticate on 401, Allow on 405
            response.headers.add(name, value)
    return response


def _page(status: int, detail: str | None, forged: bool = False) -> tuple[str, int]:
    """An error page; the texts per status are in the template (and so in the catalogues)."""
    return render_template("error.html", status=status, detail=detail, forged=forged), status


def _is_api() -> bool:
    return request.path.startswith(API_PREFIX) or request.path == API_PREFIX.rstrip("/")


def _snake(name: str) -> str:
    return "_".join(name.lower().split())
