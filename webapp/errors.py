"""Errors: the API's shape ``{"error": CODE, "message": TEXT}`` under ``/api/``, a page everywhere else.

Engine errors keep their own code and status (``PingAnError``); HTTP errors
raised by Flask or Werkzeug (no such route, wrong method, malformed body) get
the same shape. An unexpected exception is logged by Flask and answered with a
fixed message, so nothing of its text (titles, SQL) reaches the caller. Pages
answer with an error page in the reader's language that says what to do next.
"""
from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from workflow.errors import PingAnError, TransitionRefused

API_PREFIX = "/api/"

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


def init_errors(app: Flask) -> None:
    """Answer errors under ``/api/`` in the JSON error shape; other paths keep Flask's own pages."""
    app.register_error_handler(PingAnError, _engine_error)
    app.register_error_handler(HTTPException, _http_error)


def error_response(status: int, code: str, message: str, **extra: Any) -> Response:
    """A JSON error response in the API's shape."""
    response = jsonify({"error": code, "message": message, **extra})
    response.status_code = status
    return response


def _engine_error(error: PingAnError) -> Response | tuple[str, int]:
    if not _is_api():
        return _page(error.status, error.message if error.status not in (403, 404) else None)
    extra: dict[str, Any] = {}
    if isinstance(error, TransitionRefused):
        # only the people allowed to make the move get this far (the engine checks before the guard)
        extra["blockers"] = [asdict(blocker) for blocker in error.blockers]
    return error_response(error.status, error.code, error.message, **extra)


def _http_error(error: HTTPException) -> Response | HTTPException | tuple[str, int]:
    if not _is_api():
        if isinstance(error, CSRFError):
            return _page(400, None, forged=True)
        if error.code in (301, 302, 303, 307, 308) or error.code is None:
            return error
        return _page(error.code, None)
    status = error.code or 500
    if status >= 500:
        return error_response(status, HTTP_CODES.get(status, "internal"),
                              "internal error" if status == 500 else (error.description or "unavailable"))
    response = error_response(status, HTTP_CODES.get(status) or _snake(error.name), error.description or error.name)
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
