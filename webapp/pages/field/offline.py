"""What makes the pages work with no signal: the web app manifest, the service worker (served from
the site's root so that its scope is the whole site), and a fresh CSRF token for the sends that
waited on the phone. The manifest and the worker are fetched without the session cookie, so this
blueprint needs no sign-in for them."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("offline", __name__)
