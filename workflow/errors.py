"""Errors a user can cause; the CLI turns them into one line, the API into the JSON error shape."""

from __future__ import annotations

from dataclasses import dataclass


class PingAnError(Exception):
    """Base of the engine's own errors. ``code`` is the API's error code, ``status`` its HTTP
    status."""

    code = "invalid"
    status = 422

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(PingAnError):
    code = "invalid"
    status = 422


class NotFound(PingAnError):
    code = "not_found"
    status = 404


class Forbidden(PingAnError):
    code = "forbidden"
    status = 403


class Conflict(PingAnError):
    code = "conflict"
    status = 409


@dataclass(frozen=True)
class Blocker:
    """One item that keeps a phase from being left."""

    # task | letter (a responsibility letter not yet signed) | rectification | campaign (a
    # sub-unit's, with its open items)
    kind: str
    id: int
    title: str
    unit: str | None
    assignee: str | None
    state: str
    open_items: int | None = None

    def describe(self) -> str:
        where = f" [{self.unit}]" if self.unit else ""
        who = f" → {self.assignee}" if self.assignee else ""
        count = f", {self.open_items} open" if self.open_items is not None else ""
        return f"{self.kind} #{self.id} {self.title}{where}{who} ({self.state}{count})"


class TransitionRefused(Conflict):
    """A move the state machine or a guard does not allow; ``blockers`` says which items block
    it."""

    def __init__(self, message: str, blockers: list[Blocker] | None = None) -> None:
        super().__init__(message)
        self.blockers: list[Blocker] = list(blockers or [])


@dataclass
class StartProblem:
    role: str
    unit: str
    # when not a role held by nobody, e.g. a key site without its responsible person
    text: str | None = None

    def __str__(self) -> str:
        return self.text or f"role '{self.role}' has nobody in unit {self.unit}"


class StartRefused(InvalidInput):
    """A campaign that cannot start (e.g. a required role resolves to nobody); nothing is
    written."""

    def __init__(self, problems: list[StartProblem]) -> None:
        shown = "; ".join(str(p) for p in problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        super().__init__(f"cannot start: {shown}{more}")
        self.problems = problems
