"""What makes the pages work with no signal: the web app manifest, the service worker (served from
the site's root so that its scope is the whole site), the outbox page (also the worker's page for
an address it has not kept), and a fresh CSRF token for the sends that waited on the phone. The
manifest and the worker are fetched without the session cookie, so this blueprint needs no sign-in
for them.

What the phone keeps and sends is ``static/field.js`` (the outbox in IndexedDB) and
``static/sw.js`` (the caches); the server's side of a queued send is ``common.back_with``, which
answers JSON to a post marked ``X-Pingan-Queue: 1``.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, current_app, jsonify, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from webapp.errors import error_response

blueprint = Blueprint("offline", __name__)

# the header's red (app.css --brand) and the page's grey (--paper)
THEME_COLOUR = "#a4161a"
BACKGROUND_COLOUR = "#f5f6f8"


@blueprint.get("/manifest.webmanifest")
def manifest() -> Response:
    """What a phone needs to put the app on its home screen and open it like an app."""
    body = {
        "name": _("Safety campaigns"),
        "short_name": _("Safety campaigns"),
        "lang": "zh-CN",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "theme_color": THEME_COLOUR,
        "background_color": BACKGROUND_COLOUR,
        "icons": [
            {"src": _icon("icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": _icon("icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {
                "src": _icon("maskable-512.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
        ],
    }
    response = Response(json.dumps(body, ensure_ascii=False), mimetype="application/manifest+json")
    response.headers["Cache-Control"] = "no-cache"
    return response


@blueprint.get("/sw.js")
def service_worker() -> Response:
    """The service worker, from the root: a worker's scope is at most the folder it is served from,
    and ``/static/sw.js`` could not keep ``/sites/…`` or the inbox."""
    response = current_app.send_static_file("sw.js")
    response.mimetype = "text/javascript"
    # the browser checks for a new worker on every visit; a cached old one would outlive a deploy
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@blueprint.get("/outbox")
def outbox() -> str:
    """What waits on this phone to be sent, listed by field.js from IndexedDB. The page names no
    person and holds no token: the worker keeps it for everyone and shows it for an address it has
    not kept while there is no signal."""
    return render_template("field/outbox.html")


@blueprint.get("/field/token")
def token() -> Response:
    """A fresh CSRF token for a send that waited on the phone, possibly for hours, and who it is
    for: the phone sends only what its own person captured."""
    if not current_user.is_authenticated:
        return error_response(401, "unauthorized", _("Sign in again to send what waits."))
    return jsonify({"csrf_token": generate_csrf(), "person": current_user.person.id})


# --- helpers


def _icon(name: str) -> str:
    # made once with Pillow (平安 in white on the header's red); the maskable one keeps its words
    # inside the middle 80 %, which a launcher's mask never cuts
    return url_for("static", filename=f"icons/{name}")
