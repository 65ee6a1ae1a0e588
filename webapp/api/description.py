"""How an API blueprint describes its routes for the OpenAPI document: operations, and a registry of path sets.

A blueprint module other than the core API (``api_reports``) builds a
:class:`PathSet` from its table of :class:`Operation` and registers it under
its blueprint's name with :func:`describe`; ``webapp/api/openapi.py`` merges the
path sets of the blueprints the app actually serves. So the API modules never
import ``openapi.py`` (which would import them back to merge them), and the
document describes the routes that are wired, no more and no fewer.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # OpenAPI style: /tasks/{task_id}/complete
    summary: str
    body: str | None  # a schema name of the request body
    status: int  # on success
    answer: str  # a schema name of the answer
    errors: tuple[int, ...] = (400, 401, 403, 404, 409, 422)
    public: bool = False


@dataclass(frozen=True)
class PathSet:
    """The routes of one API blueprint as OpenAPI paths, with the schemas (answers and bodies) they refer to."""

    paths: dict[str, dict[str, Any]]
    schemas: dict[str, dict[str, Any]]


_PATH_SETS: dict[str, PathSet] = {}


def describe(blueprint_name: str, path_set: PathSet) -> None:
    """Register the description of an API blueprint's routes; the document includes it wherever that blueprint is
    registered in the app."""
    _PATH_SETS[blueprint_name] = path_set


def described(blueprint_names: Iterable[str]) -> list[PathSet]:
    """The path sets of the named blueprints that have one, in the order named."""
    return [_PATH_SETS[name] for name in blueprint_names if name in _PATH_SETS]


def operation_spec(operation: Operation, *, body_required: bool = False) -> dict[str, Any]:
    """The OpenAPI operation object of one route: summary, id, path parameters (integers), body and answers."""
    spec: dict[str, Any] = {
        "summary": operation.summary,
        "operationId": operation_id(operation),
        "responses": {
            str(operation.status): {"description": "OK", "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{operation.answer}"}}}},
            **{str(status): {"$ref": f"#/components/responses/{status}"} for status in operation.errors},
        },
    }
    parameters = [{"name": name, "in": "path", "required": True, "schema": _path_schema(name)}
                  for name in re.findall(r"{(\w+)}", operation.path)]
    if parameters:
        spec["parameters"] = parameters
    if operation.body:
        spec["requestBody"] = {"required": body_required, "content": {"application/json": {
            "schema": {"$ref": f"#/components/schemas/{operation.body}"}}}}
    if operation.public:
        spec["security"] = []
    return spec


def operation_id(operation: Operation) -> str:
    """``get_campaigns_escalations``: the method and the path's words (ids left out); unique per route."""
    words = [part for part in re.split(r"[/{}.]+", operation.path) if part and not part.endswith("_id")]
    return "_".join([operation.method, *words])


# ids are the database's integer keys: Flask's int converter and the column both stop at 2**31 - 1
ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}


def _path_schema(name: str) -> dict[str, Any]:
    """``…_id`` path parameters are ids; anything else (a unit's code) is text."""
    return dict(ID_SCHEMA) if name.endswith("_id") else {"type": "string", "minLength": 1, "maxLength": 64}
