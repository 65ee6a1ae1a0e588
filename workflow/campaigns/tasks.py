"""Task use cases: check off, send back, verify, cancel. Each move is audited."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session, joinedload

from workflow import audit
from workflow.access import is_coordinator
from workflow.audit import Actor
from workflow.campaigns.inspections import findings_on_check_off, is_inspection
from workflow.clock import Clock, local_date
from workflow.definitions.catalogue import stored_definition
from workflow.errors import Forbidden, InvalidInput, NotFound
from workflow.limits import NOTE_LIMIT
from workflow.machines import TASK_MACHINE, fire
from workflow.mail.sent_back import tell_sent_back
from workflow.models import Campaign, DefinitionRow, Task
from workflow.people import stand_ins


def complete_task(
    session: Session,
    task_id: int,
    *,
    by: Actor,
    clock: Clock,
    note: str | None = None,
    no_problems: bool = False,
) -> Task:
    """Check a task off (open → done). The assignee or a coordinator may do it. An inspection
    needs its findings first: the hazards registered from it, or ``no_problems``."""
    task, campaign = _task_for_update(session, task_id)
    by = _require(session, by, task, campaign, assignee_may=True, clock=clock)
    if task.state == "open" and is_inspection(stored_definition(campaign.definition), task):
        # set before the move, so the move's one UPDATE writes it (set after, it cost a second
        # flush at every check-off, inspection or not)
        task.findings = findings_on_check_off(session, task, no_problems)
    return _move(session, task, "complete", by, clock, _clean_note(note))


def reject_task(
    session: Session,
    task_id: int,
    *,
    by: Actor,
    clock: Clock,
    note: str | None = None,
    base_url: str | None = None,
) -> Task:
    """Send a done task back to its assignee (done → open); a coordinator gives the reason. With
    ``base_url`` (the pages, the API), the assignee is mailed the reason and the link."""
    task, campaign = _task_for_update(session, task_id)
    _require(session, by, task, campaign, assignee_may=False)
    reason = _clean_note(note)
    if not reason:
        raise InvalidInput("a rejection needs a reason (note)")
    moved = _move(session, task, "reject", by, clock, reason)
    if base_url is not None:
        tell_sent_back(
            session,
            kind="task",
            item_id=task.id,
            title=task.title,
            person=task.assignee,
            campaign=campaign,
            by=by,
            reason=reason,
            deadline=None,
            now=clock.now(),
            base_url=base_url,
        )
    return moved


def verify_task(
    session: Session, task_id: int, *, by: Actor, clock: Clock, note: str | None = None
) -> Task:
    """A coordinator confirms a done task (done → verified)."""
    task, campaign = _task_for_update(session, task_id)
    _require(session, by, task, campaign, assignee_may=False)
    return _move(session, task, "verify", by, clock, _clean_note(note))


def cancel_task(
    session: Session, task_id: int, *, by: Actor, clock: Clock, note: str | None = None
) -> Task:
    """A coordinator withdraws an open task (open → cancelled); it no longer blocks its phase."""
    task, campaign = _task_for_update(session, task_id)
    _require(session, by, task, campaign, assignee_may=False)
    return _move(session, task, "cancel", by, clock, _clean_note(note))


def _move(
    session: Session, task: Task, event: str, by: Actor, clock: Clock, note: str | None
) -> Task:
    now = clock.now()
    before, after = fire(TASK_MACHINE, event, task, f"task {task.id}")
    if event == "complete":
        task.completed_at, task.completed_by_id, task.note = now, by.person_id, note
    elif event == "reject":
        # sent back: what it found is looked at again when it is checked off again
        task.completed_at, task.completed_by_id, task.findings = None, None, None
    audit.record(
        session,
        at=now,
        by=by,
        entity="task",
        entity_id=task.id,
        event=event,
        from_state=before,
        to_state=after,
        campaign_id=task.campaign_id,
        note=note,
    )
    session.flush()
    return task


def _task_for_update(session: Session, task_id: int) -> tuple[Task, Campaign]:
    # in the same round trip what every move reads next: the campaign's definition (the checks),
    # the task's unit and assignee (the answer, shapes.task_json) — three lazy loads, three round
    # trips of a check-off before; only the task's row is locked
    row = session.execute(_locking_statement(), {"task_id": task_id}).first()
    if row is None:
        raise NotFound(f"no task {task_id}")
    return row[0], row[1]


def _require(
    session: Session,
    by: Actor,
    task: Task,
    campaign: Campaign,
    *,
    assignee_may: bool,
    clock: Clock | None = None,
) -> Actor:
    """The actor the move is recorded as: ``by``, or ``by`` acting for the assignee it stands in
    for today (workflow/people/stand_ins.py); refused otherwise."""
    if by.is_operator or (assignee_may and by.person_id == task.assignee_id):
        return by
    if is_coordinator(session, stored_definition(campaign.definition), campaign.id, by):
        return by
    if assignee_may and clock is not None:
        today = local_date(clock.now(), campaign.timezone)
        standing_in = stand_ins.acting_actor(session, by, task.assignee_id, today)
        if standing_in is not None:
            return standing_in
    if by.person_id == task.assignee_id:
        raise Forbidden(f"only a coordinator may do this to task {task.id}")
    # the existence of someone else's task is private
    raise NotFound(f"no task {task.id}")


@cache
def _locking_statement() -> Select[Any]:
    """The task (locked) and its campaign, by the bound ``task_id``: built at the first move, not at
    every one (building it, its three joined loads above all, was a seventh of a check-off's
    Python time in the API)."""
    return (
        select(Task, Campaign)
        .join(Campaign, Campaign.id == Task.campaign_id)
        .where(Task.id == bindparam("task_id"))
        .options(
            joinedload(Task.unit),
            joinedload(Task.assignee),
            # the text is parsed once per process (catalogue.stored_definition): not read again
            joinedload(Campaign.definition).defer(DefinitionRow.text),
        )
        .with_for_update(of=Task)
        .execution_options(populate_existing=True)
    )


def _clean_note(note: str | None) -> str | None:
    if note is None:
        return None
    # as given (workflow/limits.py): what the forms and the API document count
    if len(note) > NOTE_LIMIT:
        raise InvalidInput(f"the note is too long ({len(note)} characters; at most {NOTE_LIMIT})")
    return note.replace("\x00", "").strip() or None
