"""The state machines (transitions), built once and applied to rows at trigger time.

A ``Machine`` per row is slow and heavy (3.3 s and 170 MB for 10,000 rows,
../shared/PITFALLS.md); one machine with no models, triggered as
``MACHINE.events[name].trigger(row)``, costs microseconds and holds no row.
The machines only decide whether a move is allowed and set ``row.state``;
guards that need the database (a phase's exit guard) are evaluated by the use
cases, which also write the audit event in the same transaction.

Every row that has states moves through one of these: campaigns, tasks,
rectifications, their deadline extension requests, letters and visits, responsibility
letters. A move
that keeps the state (reassigning, asking for more time) is an internal
transition (``dest: None``), so the machine alone says where it is allowed.
Pages and templates ask :func:`can` (a Jinja global) instead of comparing
state strings.
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
    {"trigger": "reassign", "source": "open", "dest": None},  # done work stays with whoever did it
]
# a task in one of these states no longer blocks its phase
TASK_SETTLED_STATES = ("done", "verified", "cancelled")


def build_machine(states: list[str], transitions: list[dict[str, Any]]) -> Machine:
    """One machine with no models, to be triggered with the row as the model (see above)."""
    return Machine(
        model=None,
        states=states,
        transitions=transitions,
        # the state a new row is created in (the machine holds no row to set it on)
        initial=states[0],
        auto_transitions=False,  # no to_<state> shortcuts that bypass the rules
        send_event=True,
    )


TASK_MACHINE = build_machine(list(TASK_STATES), TASK_TRANSITIONS)

RECTIFICATION_STATES = ("open", "submitted", "closed")
RECTIFICATION_TRANSITIONS = [
    {"trigger": "submit", "source": "open", "dest": "submitted"},  # the responsible person: fixed
    {"trigger": "verify", "source": "submitted", "dest": "closed"},  # a coordinator: 销号
    # not fixed: reason and new deadline
    {
        "trigger": "reject",
        "source": "submitted",
        "dest": "open",
    },
    {"trigger": "reopen", "source": "closed", "dest": "open"},  # look-back (回头看)
    # the responsible person asks for more time
    {
        "trigger": "request_extension",
        "source": "open",
        "dest": None,
    },
    # a closed one is reopened first
    {
        "trigger": "reassign",
        "source": ["open", "submitted"],
        "dest": None,
    },
]
RECTIFICATION_MACHINE = build_machine(list(RECTIFICATION_STATES), RECTIFICATION_TRANSITIONS)

# a request to move a rectification's deadline, decided once by a coordinator
EXTENSION_STATES = ("requested", "approved", "refused")
EXTENSION_TRANSITIONS = [
    {"trigger": "approve", "source": "requested", "dest": "approved"},
    {"trigger": "refuse", "source": "requested", "dest": "refused"},
]
EXTENSION_MACHINE = build_machine(list(EXTENSION_STATES), EXTENSION_TRANSITIONS)

# a letter or visit (信访): processed once (办结), by its responsible person or a coordinator
PETITION_STATES = ("open", "processed")
PETITION_TRANSITIONS = [{"trigger": "process", "source": "open", "dest": "processed"}]
PETITION_MACHINE = build_machine(list(PETITION_STATES), PETITION_TRANSITIONS)

# a responsibility letter (责任书): drafted with its phase, issued by the leading group's role
# (甲方), signed by the site's or unit's responsible person (乙方)
LETTER_STATES = ("drafted", "issued", "signed")
LETTER_TRANSITIONS = [
    {"trigger": "issue", "source": "drafted", "dest": "issued"},
    {"trigger": "sign", "source": "issued", "dest": "signed"},
]
LETTER_MACHINE = build_machine(list(LETTER_STATES), LETTER_TRANSITIONS)
# a letter in this state no longer blocks its phase
LETTER_SETTLED_STATES = ("signed",)

# the machines of the rows whose kind is the same for every campaign; a campaign's depends on its
# definition
MACHINES: dict[str, Machine] = {
    "task": TASK_MACHINE,
    "rectification": RECTIFICATION_MACHINE,
    "extension": EXTENSION_MACHINE,
    "petition": PETITION_MACHINE,
    "letter": LETTER_MACHINE,
}


@lru_cache(maxsize=256)
def campaign_machine(phase_ids: tuple[str, ...]) -> Machine:
    """The campaign machine for one definition's phases: draft → phases… → closed."""
    states = [DRAFT, *phase_ids, CLOSED]
    transitions = [{"trigger": "start", "source": DRAFT, "dest": phase_ids[0]}]
    for here, there in zip(phase_ids, [*phase_ids[1:], CLOSED]):
        transitions.append({"trigger": "advance", "source": here, "dest": there})
    return build_machine(states, transitions)


def fire(
    machine: Machine, event: str, row: Any, what: str, *, refused: str | None = None
) -> tuple[str, str]:
    """Apply ``event`` to ``row``; return (from, to) or raise :class:`TransitionRefused`.

    The refusal says ``cannot EVENT WHAT: it is STATE`` unless the use case words it itself
    (``refused``).
    """
    before = row.state
    try:
        machine.events[event].trigger(row)
    except (MachineError, KeyError):
        if refused is not None:
            raise TransitionRefused(refused) from None
        # its own raise, so that the message catalogue has it (webapp/engine_messages.py)
        raise TransitionRefused(f"cannot {event} {what}: it is {before}") from None
    return before, row.state


def can(machine: Machine | str, state: str, event: str) -> bool:
    """Whether the machine (or the machine of a kind: ``"task"``, ``"petition"`` …) allows ``event``
    from ``state``.

    Guards are not evaluated, nor who asks: a page shows a move's form when this holds and the
    person's role allows it, and the use case decides when it is sent.
    """
    found = _machine_of(machine).events.get(event)
    return found is not None and state in found.transitions


def allowed_events(machine: Machine | str, state: str) -> list[str]:
    """Moves the machine (or the machine of a kind) allows from ``state`` (guards not evaluated: the
    caller does)."""
    return sorted(_machine_of(machine).get_triggers(state))


def states_allowing(machine: Machine | str, event: str) -> tuple[str, ...]:
    """The states from which the machine allows ``event``: what a query selects to find the rows it
    may apply to."""
    return tuple(state for state in _machine_of(machine).states if can(machine, state, event))


def _machine_of(machine: Machine | str) -> Machine:
    if isinstance(machine, Machine):
        return machine
    try:
        return MACHINES[machine]
    except KeyError:
        raise ValueError(
            f"no state machine for {machine!r}; one of {', '.join(MACHINES)}"
        ) from None
