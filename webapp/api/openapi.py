"""``GET /api/v1/openapi.json``: an OpenAPI 3.1 document assembled from the app's ``/api/v1`` rules,
the description each route carries (``webapp/api/description.py``), the schemas its blueprint
registered, and the components every route shares (the error shape and its answers).

A test checks that every ``/api/v1`` rule of the app is in the document, so the
document cannot fall behind the routes.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify

from webapp.api.description import (
    Operation,
    describe_schemas,
    described,
    described_schemas,
    description_of,
    openapi_path,
    operation_spec,
)

blueprint = Blueprint("openapi", __name__)

API_VERSION = "1"
API_ROOT = "/api/v1"  # where create_app registers the API blueprints
# the components every route shares: the error shape (webapp/errors.py); each blueprint registers
# its own
SCHEMAS: dict[str, dict[str, Any]] = {
    "Error": {
        "type": "object",
        "required": ["error", "message"],
        "properties": {
            "error": {"type": "string"},
            "message": {"type": "string"},
            "blockers": {"type": "array", "items": {"$ref": "#/components/schemas/Blocker"}},
        },
    },
    "Blocker": {
        "type": "object",
        "properties": {
            "kind": {"enum": ["task", "letter", "rectification"]},
            "id": {"type": "integer"},
            "title": {"type": "string"},
            "unit": {"type": ["string", "null"]},
            "assignee": {"type": ["string", "null"]},
            "state": {"type": "string"},
        },
    },
}

ERRORS = {
    400: "Malformed JSON, or not a JSON object",
    401: "No valid token and no session",
    403: "Not allowed for you",
    404: "No such item (or not yours to see)",
    405: "Method not allowed",
    409: "The move is not allowed now (TransitionRefused lists the blockers)",
    422: "Invalid input (unknown fields, wrong types, bad dates)",
}


describe_schemas(blueprint.name, {"OpenApiDocument": {"type": "object"}})


@blueprint.get("/openapi.json")
@described(Operation("This document", answer="OpenApiDocument", errors=(), public=True))
def document() -> Response:
    return jsonify(openapi_document(current_app))


def openapi_document(app: Flask) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the API as ``app`` serves it: every described route under
    ``/api/v1``."""
    paths: dict[str, dict[str, Any]] = {}
    for rule in app.url_map.iter_rules():
        operation = description_of(app.view_functions.get(rule.endpoint))
        if operation is None or not rule.rule.startswith(f"{API_ROOT}/"):
            # a route without a description is missing from the document: test_api says which
            continue
        path = openapi_path(rule.rule.removeprefix(API_ROOT))
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            _add(paths, path, method.lower(), operation_spec(method.lower(), path, operation))
    schemas = dict(SCHEMAS)
    for named in described_schemas(app.blueprints):
        _merge(schemas, named)
    base_url = app.config.get("BASE_URL", "")
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "pingan API",
            "version": API_VERSION,
            "description": (
                "Phased public-safety campaigns: tasks, hazards and their rectification, "
                "escalation, incidents, letters and visits, scores and the report. A due date "
                "or deadline counted in working days over a year whose official holiday schedule "
                "is not entered yet is an estimate (`due_estimated` / `deadline_estimated`, with "
                "`estimate_reason`), counted again when the schedule is entered."
            ),
        },
        "servers": [{"url": f"{base_url.rstrip('/')}{API_ROOT}"}],
        "security": [{"bearerAuth": []}, {"sessionCookie": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "a token from `pingan token EMAIL`",
                },
                "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "session"},
            },
            "schemas": schemas,
            "responses": {str(status): _error_response(text) for status, text in ERRORS.items()},
        },
    }


# two routes or two blueprints describing the same operation or schema name is a mistake of ours:
# fail loudly, never overwrite


def _add(paths: dict[str, dict[str, Any]], path: str, method: str, spec: dict[str, Any]) -> None:
    taken = paths.setdefault(path, {})
    if method in taken:
        raise ValueError(f"OpenAPI: {method} {path} is described twice")
    taken[method] = spec


def _merge(schemas: dict[str, dict[str, Any]], more: dict[str, dict[str, Any]]) -> None:
    clash = set(schemas) & set(more)
    if clash:
        raise ValueError(f"OpenAPI: schemas {sorted(clash)} are described twice")
    schemas.update(more)


def _error_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
