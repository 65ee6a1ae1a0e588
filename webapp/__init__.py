"""The web application: ``create_app(config)`` wires database, clock, mail, sign-in, pages and the API together.

Configuration is read from the environment here and nowhere else in the web
app; a test passes its own values in ``config``. The app never starts a
scheduler: the clock runs in ``pingan scheduler`` (or ``pingan sweep``), so
several web workers never run the same job twice.
"""
from __future__ import annotations

import logging
import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # Flask is imported by create_app only: the `pingan` command imports this package too
    from flask import Flask

    from webapp.wiring import Wiring

log = logging.getLogger("pingan.web")

DEFAULT_BASE_URL = "http://127.0.0.1:5000"
MAX_REQUEST_BYTES = 1024 * 1024


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """A configured Flask app; ``config`` overrides the environment (DATABASE_URL, SECRET_KEY, BASE_URL, CLOCK,
    INSTANCE_PATH, MAIL_*, LOGIN_CLOCK …)."""
    from flask import Flask
    from flask_mail import Mail

    from webapp.logs import init_logging
    from webapp.wiring import Wiring
    from workflow.db import create_db_engine, session_factory

    app = Flask(__name__)
    init_logging(app)  # first: reading the settings below may already warn (no secret key)
    app.config.update(_settings(config or {}))
    if app.config["PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # behind a reverse proxy the client's address (sign-in throttle, session protection) is in X-Forwarded-For
        proxies = app.config["PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)  # type: ignore[method-assign]

    engine = create_db_engine(app.config["DATABASE_URL"])
    app.extensions["pingan"] = Wiring(engine=engine, sessions=session_factory(engine), clock=app.config["CLOCK"])
    Mail(app)  # reads MAIL_* once, so after the configuration above (PITFALLS.md)

    from webapp import errors, health, i18n, security
    from webapp.api import openapi, reports, routes
    from webapp.auth import identity, signin
    from webapp.pages import (
        campaigns,
        hazards,
        inbox,
        incidents,
        items,
        leaders,
        petitions,
        scores,
    )
    from webapp.pages import reports as report_pages

    identity.init_login(app)
    i18n.init_i18n(app)
    security.init_security(app)
    errors.init_errors(app)
    app.register_blueprint(routes.blueprint, url_prefix="/api/v1")
    app.register_blueprint(reports.reports_api, url_prefix="/api/v1")
    app.register_blueprint(openapi.blueprint, url_prefix="/api/v1")
    app.register_blueprint(health.health)  # /healthz, /readyz for load balancers: no sign-in
    for pages in (signin, inbox, items, campaigns, hazards, leaders, report_pages, incidents, scores, petitions):
        app.register_blueprint(pages.blueprint)
    return app


def wiring_of(app: Flask) -> Wiring:
    """The database, sessions and clock of this app."""
    return app.extensions["pingan"]


def _settings(config: dict[str, Any]) -> dict[str, Any]:
    """Every setting of the web app: ``config`` first, then the environment, then defaults."""
    from webapp.mail import mail_config_from_env
    from workflow.clock import SystemClock, clock_from_env
    from workflow.db import database_url, instance_path

    settings: dict[str, Any] = dict(mail_config_from_env(dict(os.environ)))
    base_url = (config.get("BASE_URL") or os.environ.get("PINGAN_BASE_URL", "").strip() or DEFAULT_BASE_URL).rstrip("/")
    https = base_url.startswith("https://")
    settings.update({
        "BASE_URL": base_url,
        "MAX_CONTENT_LENGTH": MAX_REQUEST_BYTES,  # upload routes raise it for themselves (security.py)
        # PITFALLS.md (Flask-Login): set the cookie flags; the remember cookie's defaults are unsafe
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
        "WTF_CSRF_TIME_LIMIT": 8 * 3600,  # a village head may leave a form open through the working day
        "WTF_CSRF_SSL_STRICT": https,
        "BABEL_DEFAULT_LOCALE": "zh_CN",
        "BABEL_DEFAULT_TIMEZONE": os.environ.get("PINGAN_TIMEZONE", "").strip() or "Asia/Shanghai",
        "PROXIES": int(os.environ.get("PINGAN_PROXIES", "0") or 0),
        # sign-in throttle: real time even when PINGAN_NOW pins the campaign clock for a rehearsal
        "LOGIN_CLOCK": SystemClock(),
    })
    settings.update(config)
    settings["BASE_URL"] = base_url
    if "DATABASE_URL" not in config:
        settings["DATABASE_URL"] = database_url()
    if "CLOCK" not in config:
        settings["CLOCK"] = clock_from_env()
    if not settings.get("INSTANCE_PATH"):
        settings["INSTANCE_PATH"] = str(instance_path())
    settings.setdefault("EVIDENCE_FOLDER", str(Path(settings["INSTANCE_PATH"]) / "evidence"))
    if not settings.get("SECRET_KEY"):
        settings["SECRET_KEY"] = os.environ.get("PINGAN_SECRET_KEY", "").strip() or _random_secret_key()
    return settings


def _random_secret_key() -> str:
    log.warning("PINGAN_SECRET_KEY is not set: using a random secret key; sign-ins end when the process "
                "restarts and do not carry across several web workers")
    return secrets.token_hex(32)
