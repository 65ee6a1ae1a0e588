"""The web application: ``create_app(config)`` wires database, clock, mail, sign-in, pages and the
API together.

Configuration comes from ``webapp/config.py``'s Settings, read from the
environment when ``create_app`` is called; a test passes its own values in
``config``. The app never starts a
scheduler: the clock runs in ``pingan scheduler`` (or ``pingan sweep``), so
several web workers never run the same job twice.

At this level, what every part of the app shares:

- ``config``    the settings, the one module that reads the environment
- ``wiring``    database, sessions, clock and calendar of a process
- ``errors``    the API's error shape under ``/api/``, an error page elsewhere
- ``i18n``      Chinese by default, English on request; dates as people there write them
- ``engine_messages``  the engine's refusals in the reader's language (a catalogue entry each)
- ``logs``      logging for every process: readable lines, or JSON lines
- ``mail``      the engine's Mailer implemented with Flask-Mail
- ``security``  CSRF on every form, response headers, a ``next`` that never leaves the site
- ``health``    ``/healthz`` and ``/readyz``
- ``wsgi``      the WSGI entry point for gunicorn

The areas, one folder each:

- ``auth/``   who is asking, signing in and out, the sign-in throttle
- ``pages/``  the pages, a blueprint each (templates in ``templates/<blueprint>/``)
- ``api/``    the JSON API under ``/api/v1`` and its OpenAPI document
- ``cli/``    the ``pingan`` command and its sub-commands
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from webapp.config import Settings
from webapp.wiring import wiring_of  # noqa: F401 - `from webapp import wiring_of`, as tests and benchmarks write it

# Flask is imported by create_app only: the `pingan` command imports this package too
if TYPE_CHECKING:
    from flask import Flask

log = logging.getLogger("pingan.web")

MAX_REQUEST_BYTES = 1024 * 1024


def create_app(config: dict[str, Any] | None = None, *, settings: Settings | None = None) -> Flask:
    """A configured Flask app; ``config`` overrides the settings (DATABASE_URL, SECRET_KEY,
    BASE_URL, CLOCK, INSTANCE_PATH, MAIL_*, LOGIN_CLOCK …), which are read from the environment now
    unless given."""
    from flask import Flask
    from flask_mail import Mail

    from webapp.logs import init_logging
    from webapp.wiring import Wiring, engine_for
    from workflow.db import session_factory

    settings = settings or Settings.from_env()
    app = Flask(__name__)
    # first: reading the settings below may already warn (no secret key)
    init_logging(app, settings)
    app.config.update(_flask_config(config or {}, settings))
    if not (config or {}).get("BASE_URL") and (warning := settings.unset_base_url_warning()):
        # once per app: `pingan serve` and the WSGI app (tests hand their own BASE_URL in)
        log.warning(warning)
    if app.config["PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # behind a reverse proxy the client's address (sign-in throttle, session protection) is in
        # X-Forwarded-For. ProxyFix is the one reader of the forwarded headers, whatever the
        # server: gunicorn never puts X-Forwarded-For into REMOTE_ADDR, so waitress's own
        # trusted_proxy settings could not make the two behave alike; both hand the headers on
        # untouched (`pingan serve`, docker-compose.yml). It trusts the last PROXIES entries only,
        # the ones our proxies appended: an address a client wrote in front of them is ignored,
        # and without PINGAN_PROXIES so is the whole header.
        proxies = app.config["PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)  # type: ignore[method-assign]

    engine = engine_for(settings, app.config["DATABASE_URL"])
    app.extensions["pingan"] = Wiring(
        engine=engine, sessions=session_factory(engine), clock=app.config["CLOCK"]
    )
    Mail(app)  # reads MAIL_* once, so after the configuration above (PITFALLS.md)

    from webapp import errors, health, i18n, security
    from webapp.api import decisions as decisions_api
    from webapp.api import field as field_api
    from webapp.api import letters as letters_api
    from webapp.api import levels as levels_api
    from webapp.api import openapi, reports, routes
    from webapp.api import worklists as worklists_api
    from webapp.auth import identity, reset, signin
    from webapp.pages import (
        account,
        campaigns,
        hazards,
        inbox,
        incidents,
        items,
        leaders,
        letters,
        petitions,
        scores,
    )
    from webapp.pages import reports as report_pages
    from webapp.pages.admin import calendar as calendar_admin
    from webapp.pages.admin import definitions as admin_definitions
    from webapp.pages.admin import home as admin_home
    from webapp.pages.admin import people as admin_people
    from webapp.pages.admin import roster as admin_roster
    from webapp.pages.admin import starting as admin_starting
    from webapp.pages.admin import units as admin_units
    from webapp.pages.decisions import bulk as bulk_decisions
    from webapp.pages.field import offline as field_offline
    from webapp.pages.field import sites as field_sites
    from webapp.pages.worklists import saved_views

    identity.init_login(app)
    i18n.init_i18n(app)
    security.init_security(app)
    errors.init_errors(app)
    app.register_blueprint(routes.blueprint, url_prefix="/api/v1")
    app.register_blueprint(reports.reports_api, url_prefix="/api/v1")
    app.register_blueprint(letters_api.letters_api, url_prefix="/api/v1")
    app.register_blueprint(levels_api.levels_api, url_prefix="/api/v1")
    app.register_blueprint(field_api.field_api, url_prefix="/api/v1")
    app.register_blueprint(worklists_api.worklists_api, url_prefix="/api/v1")
    app.register_blueprint(decisions_api.decisions_api, url_prefix="/api/v1")
    app.register_blueprint(openapi.blueprint, url_prefix="/api/v1")
    app.register_blueprint(health.health)  # /healthz, /readyz for load balancers: no sign-in
    for pages in (
        signin,
        inbox,
        items,
        campaigns,
        hazards,
        leaders,
        report_pages,
        incidents,
        scores,
        petitions,
        letters,
        account,
        calendar_admin,
        admin_home,
        admin_people,
        admin_units,
        reset,
        admin_roster,
        admin_definitions,
        admin_starting,
        saved_views,
        bulk_decisions,
        field_sites,
        field_offline,
    ):
        app.register_blueprint(pages.blueprint)
    app.register_blueprint(account.stand_ins)
    return app


def _flask_config(config: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """Every setting of the web app: ``config`` first, then the settings (the environment), then
    defaults."""
    from workflow.clock import SystemClock

    flask_config: dict[str, Any] = dict(settings.mail_config)
    base_url = (config.get("BASE_URL") or settings.links_base_url).rstrip("/")
    https = base_url.startswith("https://")
    flask_config.update(
        {
            "BASE_URL": base_url,
            # upload routes raise it for themselves (security.py)
            "MAX_CONTENT_LENGTH": MAX_REQUEST_BYTES,
            # PITFALLS.md (Flask-Login): set the cookie flags; the remember cookie's defaults are
            # unsafe
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "SESSION_COOKIE_SECURE": https,
            "REMEMBER_COOKIE_HTTPONLY": True,
            "REMEMBER_COOKIE_SAMESITE": "Lax",
            "REMEMBER_COOKIE_SECURE": https,
            "REMEMBER_COOKIE_DURATION": timedelta(days=14),
            "SESSION_PROTECTION": "strong",
            "PERMANENT_SESSION_LIFETIME": timedelta(hours=12),
            "PREFERRED_URL_SCHEME": "https" if https else "http",
            # CSRF is checked for every form of the pages (security.py), never for the JSON API
            "WTF_CSRF_CHECK_DEFAULT": False,
            "WTF_CSRF_TIME_LIMIT": 8
            * 3600,  # a village head may leave a form open through the working day
            "WTF_CSRF_SSL_STRICT": https,
            "BABEL_DEFAULT_LOCALE": "zh_CN",
            "BABEL_DEFAULT_TIMEZONE": settings.timezone,
            # where the administration pages find definitions by id, as `pingan start` does
            "DEFINITIONS_PATH": settings.definitions_path,
            "PROXIES": settings.proxies,
            # sign-in throttle: real time even when PINGAN_NOW pins the campaign clock for a
            # rehearsal
            "LOGIN_CLOCK": SystemClock(),
            # a reset link is mailed when a mail server is set; else shown once to the administrator
            "MAIL_CONFIGURED": bool(settings.mail_server),
        }
    )
    flask_config.update(config)
    flask_config["BASE_URL"] = base_url
    if "DATABASE_URL" not in config:
        flask_config["DATABASE_URL"] = settings.database_url
    if "CLOCK" not in config:
        flask_config["CLOCK"] = settings.clock()
    if not flask_config.get("INSTANCE_PATH"):
        flask_config["INSTANCE_PATH"] = str(settings.instance_path)
    flask_config.setdefault(
        "EVIDENCE_FOLDER", str(Path(flask_config["INSTANCE_PATH"]) / "evidence")
    )
    if not flask_config.get("SECRET_KEY"):
        # in production an unset, public or short PINGAN_SECRET_KEY stops the app here (config.py)
        flask_config["SECRET_KEY"] = settings.web_secret_key or _random_secret_key()
    return flask_config


def _random_secret_key() -> str:
    log.warning(
        "PINGAN_SECRET_KEY is not set: using a random secret key; sign-ins end when the process "
        "restarts and do not carry across several web workers"
    )
    return secrets.token_hex(32)
