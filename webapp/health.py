"""`/healthz` (the process can reach its database) and `/readyz` (and the schema is the one this
code expects).

A 503 carries the API's error shape (``error``, ``message``) beside ``status``,
and ``Retry-After``: a client or proxy that reads either knows what happened.
Nothing of the driver's text is shown, only the exception's class name.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify
from sqlalchemy import text

from webapp.errors import DATABASE_RETRY_AFTER

health = Blueprint("health", __name__)


@health.get("/healthz")
def healthz() -> tuple[Response, int]:
    """200 while the database answers; 503 otherwise (a load balancer takes the worker out)."""
    try:
        with _engine().connect() as connection:
            connection.execute(text("select 1"))
    except Exception as error:  # noqa: BLE001 - any failure to reach the database is "unhealthy"
        return _unavailable(error)
    return jsonify({"status": "ok"}), 200


@health.get("/readyz")
def readyz() -> tuple[Response, int]:
    """200 when the database answers and its schema is at this code's newest migration (`pingan
    init` ran)."""
    from alembic.script import ScriptDirectory

    from workflow.db import alembic_config, current_revision

    try:
        revision = current_revision(_engine())
    except Exception as error:  # noqa: BLE001
        return _unavailable(error)
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if revision != head:
        return jsonify(
            {
                "status": "not ready",
                "error": "unavailable",
                "schema": revision,
                "expected": head,
                "message": (
                    f"the database schema is at {revision or 'nothing'}, not {head}: "
                    "run `pingan init`"
                ),
            }
        ), 503
    return jsonify({"status": "ready", "schema": revision}), 200


def _unavailable(error: Exception) -> tuple[Response, int]:
    response = jsonify(
        {
            "status": "unavailable",
            "error": "unavailable",
            "database": type(error).__name__,
            "message": "the database cannot be reached just now; try again shortly",
        }
    )
    response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER)
    return response, 503


def _engine():  # type: ignore[no-untyped-def]
    return current_app.extensions["pingan"].engine
