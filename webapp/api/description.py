"""How an API route describes itself for the OpenAPI document: an :class:`Operation` right under its
rule.

::

    @blueprint.post("/tasks/<int:task_id>/complete")
    @described(Operation("Check a task off", answer="Task", body="CheckOff"))
    def complete_task(task_id: int) -> Response: ...

The method and the path are the rule's own, never written twice. Each API
module registers the component schemas its operations name (answers and
bodies) with :func:`describe_schemas`; ``webapp/api/openapi.py`` walks the
app's rules and assembles the document from these, so it describes the routes
that are wired, no more and no fewer, and the API modules never import it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from workflow.limits import MAX_DATABASE_ID

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Operation:
    """What the document says of one route; its method and path come from the route's rule."""

    summary: str
    answer: str  # a schema name of the answer
    body: str | None = None  # a schema name of the request body
    body_required: bool = False
    status: int = 200  # on success
    errors: tuple[int, ...] = (400, 401, 403, 404, 409, 422)
    public: bool = False  # no token needed
    query: tuple[dict[str, Any], ...] = ()  # query parameters, as OpenAPI parameter objects
    # (content type, schema) answered besides JSON
    downloads: tuple[tuple[str, dict[str, Any]], ...] = ()
    # where the method and the path's words name another route too (``GET /campaigns``, a list,
    # beside ``GET /campaigns/{campaign_id}``, whose id came first and stays)
    operation_id: str | None = None


_SCHEMAS: dict[str, dict[str, dict[str, Any]]] = {}


def described(operation: Operation) -> Callable[[F], F]:
    """Describe the route whose rule is written above (``@blueprint.post(...)``) for the OpenAPI
    document."""

    def describe(view: F) -> F:
        view.openapi_operation = operation  # type: ignore[attr-defined]
        return view

    return describe


def description_of(view: Callable[..., Any] | None) -> Operation | None:
    """The operation a view was described with, if it was."""
    return getattr(view, "openapi_operation", None)


def describe_schemas(blueprint_name: str, schemas: dict[str, dict[str, Any]]) -> None:
    """Register the component schemas the operations of a blueprint name; the document includes them
    wherever that blueprint is registered in the app."""
    _SCHEMAS[blueprint_name] = schemas


def described_schemas(blueprint_names: Iterable[str]) -> list[dict[str, dict[str, Any]]]:
    """The schemas of the named blueprints that registered some, in the order named."""
    return [_SCHEMAS[name] for name in blueprint_names if name in _SCHEMAS]


def openapi_path(rule: str) -> str:
    """A Flask rule as an OpenAPI path: ``/tasks/<int:task_id>/complete`` →
    ``/tasks/{task_id}/complete``."""
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)


def operation_spec(method: str, path: str, operation: Operation) -> dict[str, Any]:
    """The OpenAPI operation object of one route: summary, id, parameters, body and answers."""
    answer: dict[str, Any] = {
        "application/json": {"schema": {"$ref": f"#/components/schemas/{operation.answer}"}}
    }
    answer.update(dict(operation.downloads))
    spec: dict[str, Any] = {
        "summary": operation.summary,
        "operationId": operation.operation_id or operation_id(method, path),
        "responses": {
            str(operation.status): {"description": "OK", "content": answer},
            **{
                str(status): {"$ref": f"#/components/responses/{status}"}
                for status in operation.errors
            },
        },
    }
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": _path_schema(name)}
        for name in re.findall(r"{(\w+)}", path)
    ]
    parameters += operation.query
    if parameters:
        spec["parameters"] = parameters
    if operation.body:
        spec["requestBody"] = {
            "required": operation.body_required,
            "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{operation.body}"}}
            },
        }
    if operation.public:
        spec["security"] = []
    return spec


def operation_id(method: str, path: str) -> str:
    """``get_campaigns_escalations``: the method and the path's words (ids left out); unique per
    route."""
    words = [part for part in re.split(r"[/{}.]+", path) if part and not part.endswith("_id")]
    return "_".join([method, *words])


# ids are the database's integer keys: the int converter (webapp/errors.py) and the columns both
# stop there
ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": MAX_DATABASE_ID}


def _path_schema(name: str) -> dict[str, Any]:
    """``…_id`` path parameters are ids; anything else (a unit's code) is text."""
    return dict(ID_SCHEMA) if name.endswith("_id") else {"type": "string"}
