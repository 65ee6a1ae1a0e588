"""Letters and visits (信访): recorded with a processing deadline, processed, reminded and
escalated.

"Letters and visits processed: 100%" is a rate target of the safe-family
campaign (DOMAIN.md §1, §5). A petition is handled like a rectification: it
lands on a responsible person, gets the blue reminder before its deadline and
the definition's escalation levels after it, each level once (the same
``escalations`` table, item kind ``petition``, under the same unique key).

Recording one queues its first step (``escalation_queue``); the sweep's
``escalation.escalate_due`` does the rest, as for rectifications and tasks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow import audit
from workflow.access import (
    Need,
    assignable_person,
    campaign_for,
    campaign_unit_ids,
    in_leading_group,
    is_coordinator,
)
from workflow.audit import Actor
from workflow.calendar import WorkingCalendar
from workflow.clock import Clock, local_date
from workflow.definitions.catalogue import stored_definition
from workflow.durations import Counted, Duration, count, parse_duration
from workflow.errors import Forbidden, InvalidInput, NotFound, TransitionRefused
from workflow.escalation import queue
from workflow.escalation.levels import first_step_at, steps_for
from workflow.limits import MAX_WORKING_DAYS, TEXT_LIMIT, check_not_too_far
from workflow.machines import CLOSED, DRAFT, PETITION_MACHINE, fire
from workflow.models import Campaign, Person, Petition, RoleBinding, Unit
from workflow.people import stand_ins
from workflow.petitions.major_meeting import call_major_meeting

CHANNELS = ("letter", "visit")
# 信访条例 (2005) art. 33: a petition is to be concluded within 60 days of its acceptance
DEFAULT_DEADLINE = parse_duration("60d")


@dataclass(frozen=True)
class PetitionReport:
    """A letter or visit as received: who, about what, for which unit, and by when it must be
    processed."""

    subject: str | None
    channel: str = "letter"
    petitioner: str | None = None
    unit: str | None = None  # unit code
    responsible: str | None = None  # e-mail; default: the unit's responsible person
    received_on: date | None = None  # default: today
    deadline: date | None = None
    deadline_working_days: int | None = None
    major: bool = False  # 重大信访: calls the definition's meeting (major_meeting.py)


def record_petition(
    session: Session,
    campaign_id: int,
    report: PetitionReport,
    *,
    by: Actor,
    clock: Clock,
    calendar: WorkingCalendar,
    base_url: str,
) -> Petition:
    """Record a letter or visit; the responsible person is mailed at once; a major one calls the
    definition's meeting (重大信访会). For coordinators."""
    now = clock.now()
    campaign = campaign_for(
        session, campaign_id, by, Need.COORDINATOR, doing="record letters and visits"
    )
    definition = stored_definition(campaign.definition)
    if campaign.state in (DRAFT, CLOSED):
        raise TransitionRefused(
            f"campaign {campaign.id} is {campaign.state}: no letters or visits are recorded"
        )
    subject = _text(report.subject, "subject", required=True)
    if report.channel not in CHANNELS:
        raise InvalidInput(f"channel must be one of {', '.join(CHANNELS)}; got {report.channel!r}")
    today = local_date(now, campaign.timezone)
    received = report.received_on or today
    if received > today:
        raise InvalidInput(f"received_on {received.isoformat()} is in the future")
    if received < campaign.starts_on:  # not a letter of this campaign (workflow/limits.py, dates)
        raise InvalidInput(
            f"received_on {received.isoformat()} is before the campaign started "
            f"({campaign.starts_on.isoformat()})"
        )
    unit = _unit(session, campaign, report.unit)
    responsible = _responsible(session, campaign, definition.roles, unit, report.responsible)
    counted = _deadline(received, today, report, calendar)
    deadline = counted.day

    petition = Petition(
        campaign_id=campaign.id,
        unit_id=unit.id if unit else None,
        channel=report.channel,
        petitioner=_text(report.petitioner, "petitioner"),
        subject=subject,
        received_on=received,
        responsible_id=responsible.id,
        state=PETITION_MACHINE.initial,
        # the day, its end, and whether it is an estimate to recount when the year is imported
        **counted.columns("deadline", campaign.timezone),
        recorded_at=now,
        recorded_by_id=by.person_id,
        major=report.major,
    )
    session.add(petition)
    session.flush()
    queue.schedule(
        session,
        "petition",
        petition.id,
        0,
        first_step_at(steps_for(definition.escalation, deadline, campaign.timezone, calendar, now)),
    )
    audit.record(
        session,
        at=now,
        by=by,
        entity="petition",
        entity_id=petition.id,
        event="record",
        from_state=None,
        to_state=petition.state,
        campaign_id=campaign.id,
        note=f"{report.channel}; deadline {deadline.isoformat()}; responsible {responsible.email}"
        + ("; major" if report.major else ""),
    )
    if report.major:
        call_major_meeting(
            session, campaign, definition, petition, calendar=calendar, now=now, base_url=base_url
        )
    subject_line, body = _assigned_mail(responsible, petition, unit, campaign.title, base_url)
    # to them, and to whoever stands in for them while they are away
    stand_ins.enqueue_to_person(
        session,
        responsible,
        local_date(now, campaign.timezone),
        key=f"petition-{petition.id}",
        subject=subject_line,
        body=body,
        now=now,
        campaign_id=campaign.id,
    )
    return petition


def process_petition(
    session: Session, petition_id: int, *, by: Actor, clock: Clock, outcome: str | None
) -> Petition:
    """The responsible person (or a coordinator) records how it was processed (办结): open →
    processed."""
    query = (
        select(Petition)
        .where(Petition.id == petition_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    petition = session.scalar(query)
    campaign = session.get(Campaign, petition.campaign_id) if petition is not None else None
    # seen by whom its page shows it to (petitions/reading.py); to anyone else, another village's
    # head included, it does not exist: the same answer as for a number no petition has
    if (
        petition is None
        or campaign is None
        or not (
            by.person_id == petition.responsible_id
            or in_leading_group(session, campaign.id, campaign.unit_id, by)
        )
    ):
        raise NotFound(f"no petition {petition_id}")
    definition = stored_definition(campaign.definition)
    if not (
        by.is_operator
        or by.person_id == petition.responsible_id
        or is_coordinator(session, definition, petition.campaign_id, by)
    ):
        raise Forbidden("only the responsible person or a coordinator processes a letter or visit")
    text = _text(outcome, "outcome", required=True)
    before, after = fire(
        PETITION_MACHINE,
        "process",
        petition,
        f"petition {petition.id}",
        refused=f"petition {petition.id} is already {petition.state}",
    )
    now = clock.now()
    petition.processed_at, petition.processed_by_id = now, by.person_id
    petition.outcome = text
    audit.record(
        session,
        at=now,
        by=by,
        entity="petition",
        entity_id=petition.id,
        event="process",
        from_state=before,
        to_state=after,
        campaign_id=petition.campaign_id,
        note=text,
    )
    session.flush()
    return petition


# --- helpers ------------------------------------------------------------------------------------


def _unit(session: Session, campaign: Campaign, code: str | None) -> Unit | None:
    if not code:
        return None
    unit = session.scalar(select(Unit).where(Unit.code == code))
    if unit is None or unit.id not in campaign_unit_ids(session, campaign):
        raise InvalidInput(f"no unit '{code}' in this campaign")
    return unit


def _responsible(
    session: Session,
    campaign: Campaign,
    roles: tuple,
    unit: Unit | None,  # type: ignore[type-arg]
    email: str | None,
) -> Person:
    """The named person, else the first holder of a unit role in the petition's unit
    (谁主管谁负责)."""
    if email:
        return assignable_person(session, campaign, email, what="the responsible person")
    if unit is not None and unit.id != campaign.unit_id:
        holder = session.scalar(
            select(RoleBinding.person_id)
            .where(
                RoleBinding.campaign_id == campaign.id,
                RoleBinding.unit_id == unit.id,
                RoleBinding.role.in_([role.id for role in roles if role.scope == "unit"]),
            )
            .order_by(RoleBinding.id)
        )
        if holder is not None:
            return session.get(Person, holder)  # type: ignore[return-value]
    raise InvalidInput(
        "name the responsible person (no sub-unit with a responsible person was given)"
    )


def _deadline(
    received: date, today: date, report: PetitionReport, calendar: WorkingCalendar
) -> Counted:
    if report.deadline is not None and report.deadline_working_days is not None:
        raise InvalidInput("give either deadline or deadline_working_days, not both")
    if report.deadline_working_days is not None:
        if not 1 <= report.deadline_working_days <= MAX_WORKING_DAYS:
            raise InvalidInput(
                f"deadline_working_days must be a whole number from 1 to {MAX_WORKING_DAYS}"
            )
        return count(Duration(report.deadline_working_days, "wd"), received, calendar)
    if report.deadline is not None:
        if report.deadline < received:
            raise InvalidInput(
                f"the deadline {report.deadline.isoformat()} is before the day it was received"
            )
        # a date a person typed is theirs, not an estimate, whatever year it falls in
        return Counted.given(
            check_not_too_far(report.deadline, "the deadline", today=today, calendar=calendar)
        )
    return count(DEFAULT_DEADLINE, received, calendar)


def _text(value: str | None, field: str, *, required: bool = False) -> str | None:
    # measured as given, like every other text (workflow/limits.py)
    if len(value or "") > TEXT_LIMIT:
        raise InvalidInput(
            f"{field} is too long ({len(value or '')} characters; at most {TEXT_LIMIT})"
        )
    cleaned = (value or "").replace("\x00", "").strip()
    if required and not cleaned:
        raise InvalidInput(f"{field} is required")
    return cleaned or None


def _link(base_url: str, petition_id: int) -> str:
    return f"{base_url.rstrip('/')}/petitions/{petition_id}"


def _assigned_mail(
    person: Person, petition: Petition, unit: Unit | None, campaign_title: str, base_url: str
) -> tuple[str, str]:
    channel = "来信" if petition.channel == "letter" else "来访"
    subject = (
        f"【信访办理通知】{petition.subject[:40]}，限 {petition.deadline.isoformat()} 前办结 / "
        f"letter or visit to process by {petition.deadline.isoformat()} — {campaign_title}"
    )
    lines = [
        f"{person.name}：",
        "",
        f"以下群众{channel}由您负责办理。",
        "You are responsible for processing this letter or visit.",
        "",
        f"   事由 subject: {petition.subject}",
        f"   单位 unit: {unit.name if unit else '—'}",
        f"   收到 received: {petition.received_on.isoformat()}",
        f"   期限 deadline: {petition.deadline.isoformat()}",
        f"   链接 link: {_link(base_url, petition.id)}",
        "",
        "——平安创建活动领导小组办公室 / pingan",
    ]
    return subject, "\n".join(lines)
