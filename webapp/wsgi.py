"""The WSGI entry point for gunicorn (`gunicorn webapp.wsgi:app`): the app, configured from the
environment."""

from __future__ import annotations

from webapp import create_app

app = create_app()
