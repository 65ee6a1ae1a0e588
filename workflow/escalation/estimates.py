"""Estimated dates counted again when a year's official schedule is entered.

A working-day count over a year whose State Council schedule is not known yet assumed
Monday–Friday (workflow/calendar.py): the row keeps the day counted from and the rule counted
(``*_basis``, ``*_rule``) with its ``*_estimated`` flag. Entering the year
(:func:`enter_year_schedule`, what ``pingan calendar import`` and the calendar page call) counts
every still-open, not-yet-passed estimate again in the same transaction: the day moves (audited,
old → new), its escalation is planned again for the new day, the flag clears unless the count
still touches a year without data, and the person whose deadline moved EARLIER is mailed (a
later one only gives them more time). An estimate already passed is left as it was: it was the
deadline people worked to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow import audit
from workflow.audit import Actor
from workflow.calendar import WorkingCalendar, import_calendar, load_calendar
from workflow.calendar_files import CalendarFile
from workflow.clock import local_date
from workflow.definitions.catalogue import stored_definition
from workflow.definitions.reader import Definition
from workflow.durations import Counted, DurationError, count
from workflow.escalation import queue
from workflow.escalation.levels import first_step_at, steps_for
from workflow.machines import TASK_SETTLED_STATES
from workflow.mail import texts as mailtext
from workflow.mail.outbox import enqueue
from workflow.models import (
    CalendarImport,
    Campaign,
    OutboxMail,
    Person,
    Petition,
    Rectification,
    Task,
)


@dataclass
class RecountSummary:
    """What entering a year did to the open estimated dates (``looked_at`` of them)."""

    year: int
    looked_at: int = 0
    earlier: int = 0
    later: int = 0
    same_day: int = 0
    # of those looked at: counted over yet another year without data
    still_estimated: int = 0
    mails: int = 0

    def describe(self) -> str:
        """One line for the operator (English, like the command's other lines)."""
        return (
            f"{self.looked_at} open estimated date(s) counted again: {self.earlier} earlier "
            f"({self.mails} mail(s) queued), {self.later} later, {self.same_day} on the same day; "
            f"{self.still_estimated} still estimated"
        )


def enter_year_schedule(
    session: Session, calendar_file: CalendarFile, *, by: Actor, now: datetime, base_url: str
) -> tuple[CalendarImport, RecountSummary]:
    """Import ``calendar_file`` as its year's entered days (``import_calendar``) and count the open
    estimated dates again with it, all in the caller's transaction."""
    record = import_calendar(session, calendar_file, by=by, now=now)
    # a calendar read afresh: the days just imported, not a web worker's shared copy
    summary = recount_estimates(
        session, record.year, now, load_calendar(session), by=by, base_url=base_url
    )
    return record, summary


def recount_estimates(
    session: Session,
    year: int,
    now: datetime,
    calendar: WorkingCalendar,
    *,
    by: Actor,
    base_url: str,
) -> RecountSummary:
    """Count every still-open, not-yet-passed estimated due date and deadline again with
    ``calendar`` (which knows ``year`` now); idempotent: a second run changes nothing."""
    summary = RecountSummary(year)
    definitions: dict[int, Definition] = {}
    for kind in _KINDS:
        query = (
            select(kind.model, Campaign)
            .join(Campaign, Campaign.id == kind.model.campaign_id)
            .where(getattr(kind.model, f"{kind.prefix}_estimated").is_(True), kind.still_open)
            .order_by(kind.model.id)
            # the same lock every other move of these rows takes
            .with_for_update(of=kind.model)
        )
        for row, campaign in session.execute(query).all():
            _recount(
                session, kind, row, campaign, definitions, summary, now, calendar, by, base_url
            )
    session.flush()
    return summary


# --- helpers ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Kind:
    name: str  # the audit's entity and the escalation queue's item kind
    model: Any
    prefix: str  # due | deadline
    day_column: str
    person_column: str
    title_column: str
    still_open: Any


_KINDS = (
    _Kind(
        "task",
        Task,
        "due",
        "due_on",
        "assignee_id",
        "title",
        Task.state.not_in(TASK_SETTLED_STATES),
    ),
    _Kind(
        "rectification",
        Rectification,
        "deadline",
        "deadline",
        "responsible_id",
        "description",
        Rectification.state != "closed",
    ),
    _Kind(
        "petition",
        Petition,
        "deadline",
        "deadline",
        "responsible_id",
        "subject",
        Petition.state == "open",
    ),
)


def _recount(
    session: Session,
    kind: _Kind,
    row: Any,
    campaign: Campaign,
    definitions: dict[int, Definition],
    summary: RecountSummary,
    now: datetime,
    calendar: WorkingCalendar,
    by: Actor,
    base_url: str,
) -> None:
    old: date = getattr(row, kind.day_column)
    basis: date | None = getattr(row, f"{kind.prefix}_basis")
    rule: str | None = getattr(row, f"{kind.prefix}_rule")
    if old is None or basis is None or not rule:
        return  # flagged without what it was counted from: nothing to count again
    if old < local_date(now, campaign.timezone):
        return  # passed: the date people worked to stays as it was
    try:
        counted = count(rule, basis, calendar)
    except DurationError:
        return  # a rule written by hand that is no rule: left to a person
    summary.looked_at += 1
    summary.still_estimated += counted.estimated
    if counted.day == old and counted.estimated:
        return  # this year's import does not touch its count (a second import, another year)
    counted.apply(row, kind.prefix, campaign.timezone)
    if counted.day != old:
        _plan_again(session, kind, row, campaign, definitions, counted, now, calendar)
    if counted.day < old:
        summary.earlier += 1
        summary.mails += _mail_earlier(
            session, kind, row, campaign, old, counted.day, summary.year, now, base_url
        )
    elif counted.day > old:
        summary.later += 1
    else:
        summary.same_day += 1
    audit.record(
        session,
        at=now,
        by=by,
        entity=kind.name,
        entity_id=row.id,
        event="recount",
        from_state=old.isoformat(),
        to_state=counted.day.isoformat(),
        campaign_id=campaign.id,
        note=(
            f"estimated {kind.prefix} {old.isoformat()} counted again ({rule} from "
            f"{basis.isoformat()}) with the official schedule for {summary.year}: "
            f"{counted.day.isoformat()}" + ("; still an estimate" if counted.estimated else "")
        ),
    )


def _plan_again(
    session: Session,
    kind: _Kind,
    row: Any,
    campaign: Campaign,
    definitions: dict[int, Definition],
    counted: Counted,
    now: datetime,
    calendar: WorkingCalendar,
) -> None:
    """Queue the first step for the new day, as moving a deadline does (rectifications start a new
    round, so each level is reached once more for it; a stale entry is dropped by the sweep)."""
    definition = definitions.get(campaign.id)
    if definition is None:
        definition = definitions[campaign.id] = stored_definition(campaign.definition)
    deadline_round = 0
    if kind.model is Rectification:
        row.deadline_round += 1
        deadline_round = row.deadline_round
    # what escalates at all: open rectifications and petitions, open required tasks
    if row.state != "open" or (kind.model is Task and not row.required):
        return
    queue.schedule(
        session,
        kind.name,
        row.id,
        deadline_round,
        first_step_at(
            steps_for(definition.escalation, counted.day, campaign.timezone, calendar, now)
        ),
    )


def _mail_earlier(
    session: Session,
    kind: _Kind,
    row: Any,
    campaign: Campaign,
    old: date,
    new: date,
    year: int,
    now: datetime,
    base_url: str,
) -> int:
    key = f"recount-{kind.name}-{row.id}-{old.isoformat()}-{new.isoformat()}"
    if session.scalar(select(OutboxMail.id).where(OutboxMail.key == key)) is not None:
        return 0  # told already (the same move, entered again)
    person = session.get(Person, getattr(row, kind.person_column))
    if person is None:
        return 0
    subject, body = mailtext.estimate_moved_mail(
        recipient=person,
        kind=kind.name,
        item_id=row.id,
        title=getattr(row, kind.title_column),
        old=old,
        new=new,
        year=year,
        campaign_title=campaign.title,
        base_url=base_url,
    )
    enqueue(
        session,
        key=key,
        recipient=person.email,
        subject=subject,
        body=body,
        now=now,
        campaign_id=campaign.id,
    )
    return 1
