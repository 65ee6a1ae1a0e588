"""Browser-facing protections: CSRF on every page form, response headers, and a ``next`` that never
leaves the site.

The Content-Security-Policy allows scripts, styles and images from this site
only, and no inline script at all: everything the pages use is served from
``/static`` (no CDN: many of our users sit behind networks that block them).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request, url_for
from flask_wtf.csrf import CSRFProtect

from workflow.limits import MAX_FILE_BYTES, MAX_FILES

csrf = CSRFProtect()

F = TypeVar("F", bound=Callable[..., Any])

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# evidence files are shown as they are: nothing in them may run
EVIDENCE_POLICY = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
API_BLUEPRINTS = frozenset(
    {"api", "reports_api", "letters_api", "levels_api", "field_api", "decisions_api", "openapi"}
)
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# a form with evidence files: up to MAX_FILES files of MAX_FILE_BYTES, plus the note and the form's
# other fields
UPLOAD_REQUEST_BYTES = MAX_FILES * MAX_FILE_BYTES + 256 * 1024


def init_security(app: Flask) -> None:
    """CSRF for the pages' forms and the security headers on every response."""
    csrf.init_app(app)
    app.before_request(_check_form_posts)
    app.after_request(_headers)


def accepts_uploads(view: F) -> F:
    """Mark a view whose form carries evidence files: its requests may be larger than the default
    limit."""
    view.accepts_uploads = True  # type: ignore[attr-defined]
    return view


def safe_next(target: str | None, default: str | None = None) -> str:
    """A path on this site to go to after a form, or ``default`` (the inbox) for anything else.

    A naive "no scheme, no host" check lets ``/\\evil.example`` and ``\\\\evil.example``
    through, which browsers treat as ``//evil.example`` (PITFALLS.md).
    """
    fallback = default or url_for("inbox.home")
    if not target or any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return fallback
    target = target.strip().replace("\\", "/")
    if not target.startswith("/") or target.startswith("//"):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return fallback
    return target


def _check_form_posts() -> None:
    # the pages are blueprints; the JSON API takes only application/json from a session
    # (auth.api_actor)
    if (
        request.method not in UNSAFE_METHODS
        or request.blueprint is None
        or request.blueprint in API_BLUEPRINTS
    ):
        return
    view = current_app.view_functions.get(request.endpoint)
    if getattr(view, "accepts_uploads", False):
        request.max_content_length = UPLOAD_REQUEST_BYTES  # before anything reads the body
    csrf.protect()


def _headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    # a check-in at a key site may record where the phone is (only when the person ticks it and
    # the browser asks them): this site's own pages may ask, no frame of another's ever; photos come
    # through the file input's ``capture``, which opens the camera app, not the camera API
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(self)")
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if request.endpoint != "static":
        # pages show one person's work: no shared cache keeps them, the back button re-asks
        headers.setdefault("Cache-Control", "no-store")
    return response
