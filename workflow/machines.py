"""The state machines (transitions), built once and applied to rows at trigger time.

A ``Machine`` per row is slow and heavy (3.3 s and 170 MB for 10,000 rows,
../shared/PITFALLS.md); one machine with no models, triggered as
``MACHINE.events[name].trigger(row)``, costs microseconds and holds no row.
The machines only decide whether a move is allowed and set ``row.state``;
guards that need the database (a phase's exit guard) are evaluated by the use
cases, which also write the audit event in the same transaction.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from transitions import Machine, MachineError

from workflow.errors import TransitionRefused

DRAFT = "draft"
CLOSED = "closed"

TASK_STATES = ("open", "done", "verified", "cancelled")
TASK_TRANSITIONS = [
    {"trigger": "complete", "source": "open", "dest": "done"},
    {"trigger": "verify", "source": "done", "dest": "verified"},
    {"trigger": "reject", "source": "done", "dest": "open"},
    {"trigger": "cancel", "source": "open", "dest": "cancelled"},
]
# a task in one of these states no longer blocks its phase
TASK_SETTLED_STATES = ("done", "verified", "cancelled")


def _machine(states: list[str], transitions: list[dict[str, Any]]) -> Machine:
    return Machine(
        model=None,
        states=states,
        transitions=transitions,
        initial=None,
        auto_transitions=False,  # no to_<state> shortcuts that bypass the rules
        send_event=True,
    )


TASK_MACHINE = _machine(list(TASK_STATES), TASK_TRANSITIONS)

RECTIFICATION_STATES = ("open", "submitted", "closed")
RECTIFICATION_TRANSITIONS = [
    {"trigger": "submit", "source": "open", "dest": "submitted"},  # the responsible person: fixed
    {"trigger": "verify", "source": "submitted", "dest": "closed"},  # a coordinator: 销号
    {"trigger": "reject", "source": "submitted", "dest": "open"},  # not fixed: reason and new deadline
    {"trigger": "reopen", "source": "closed", "dest": "open"},  # look-back (回头看)
]
RECTIFICATION_MACHINE = _machine(list(RECTIFICATION_STATES), RECTIFICATION_TRANSITIONS)


@lru_cache(maxsize=256)
def campaign_machine(phase_ids: tuple[str, ...]) -> Machine:
    """The campaign machine for one definition's phases: draft → phases… → closed."""
    states = [DRAFT, *phase_ids, CLOSED]
    transitions = [{"trigger": "start", "source": DRAFT, "dest": phase_ids[0]}]
    for here, there in zip(phase_ids, [*phase_ids[1:], CLOSED]):
        transitions.append({"trigger": "advance", "source": here, "dest": there})
    return _machine(states, transitions)


def fire(machine: Machine, event: str, row: Any, what: str) -> tuple[str, str]:
    """Apply ``event`` to ``row``; return (from, to) or raise :class:`TransitionRefused`."""
    before = row.state
    try:
        machine.events[event].trigger(row)
    except (MachineError, KeyError):
        raise TransitionRefused(f"cannot {event} {what}: it is {before}") from None
    return before, row.state


def allowed_events(machine: Machine, state: str) -> list[str]:
    """Moves the machine allows from ``state`` (guards not evaluated: the caller does that)."""
    return sorted(machine.get_triggers(state))
