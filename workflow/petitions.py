"""Letters and visits (信访): recorded with a processing deadline, processed, reminded and escalated.

"Letters and visits processed: 100%" is a rate target of the safe-family
campaign (DOMAIN.md §1, §5). A petition is handled like a rectification: it
lands on a responsible person, gets the blue reminder before its deadline and
the definition's escalation levels after it, each level once (the same
``escalations`` table, item kind ``petition``, under the same unique key).

``escalation.escalate_due`` reads only rectifications and tasks, so petitions
have their own pass here (:func:`escalate_due_petitions`) built from the same
parts: the steps, the campaign context, the recipients and the insert that a
concurrent sweep cannot duplicate. The sweep must call it (see the report).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from workflow import audit
from workflow.assignment import is_coordinator, takes_part
from workflow.audit import Actor
from workflow.calendar import WorkingCalendar
from workflow.catalogue import stored_definition
from workflow.clock import Clock, end_of_day, local_date
from workflow.directory import person_by_email
from workflow.durations import parse_duration
from workflow.errors import Forbidden, InvalidInput, NotFound, TransitionRefused
from workflow.escalation import (
    EVER_BEFORE,
    REMINDER,
    EscalationSummary,
    _campaign_context,
    _Item,
    _people,
    _record,
    _resolve,
    first_step_at,
    next_step_at,
    steps_for,
)
from workflow.machines import CLOSED, DRAFT
from workflow.mailtext import COLOUR_WORDS
from workflow.models import Campaign, CampaignUnit, Person, Petition, RoleBinding, Unit
from workflow.outbox import enqueue, enqueue_many, mail_row

CHANNELS = ("letter", "visit")
# 信访条例 (2005) art. 33: a petition is to be concluded within 60 days of its acceptance
DEFAULT_DEADLINE = parse_duration("60d")
TEXT_LIMIT = 5000
BATCH_SIZE = 5000


@dataclass(frozen=True)
class PetitionReport:
    """A letter or visit as received: who, about what, for which unit, and by when it must be processed."""

    subject: str | None
    channel: str = "letter"
    petitioner: str | None = None
    unit: str | None = None  # unit code
    responsible: str | None = None  # e-mail; default: the unit's responsible person
    received_on: date | None = None  # default: today
    deadline: date | None = None
    deadline_working_days: int | None = None


def record_petition(session: Session, campaign_id: int, report: PetitionReport, *, by: Actor, clock: Clock,
                    calendar: WorkingCalendar, base_url: str) -> Petition:
    """Record a letter or visit; the responsible person is mailed at once. For coordinators."""
    now = clock.now()
    campaign = session.get(Campaign, campaign_id)
    if campaign is None or not takes_part(session, campaign_id, by):
        raise NotFound(f"no campaign {campaign_id}")
    definition = stored_definition(campaign.definition)
    if not (by.is_operator or is_coordinator(session, definition, campaign.id, by.person_id or 0)):
        raise Forbidden("only a coordinator of the campaign records letters and visits")
    if campaign.state in (DRAFT, CLOSED):
        raise TransitionRefused(f"campaign {campaign.id} is {campaign.state}: no letters or visits are recorded")
    subject = _text(report.subject, "subject", required=True)
    if report.channel not in CHANNELS:
        raise InvalidInput(f"channel must be one of {', '.join(CHANNELS)}; got {report.channel!r}")
    today = local_date(now, campaign.timezone)
    received = report.received_on or today
    if received > today:
        raise InvalidInput(f"received_on {received.isoformat()} is in the future")
    unit = _unit(session, campaign, report.unit)
    responsible = _responsible(session, campaign, definition.roles, unit, report.responsible)
    deadline = _deadline(received, report, calendar)

    petition = Petition(campaign_id=campaign.id, unit_id=unit.id if unit else None, channel=report.channel,
                        petitioner=_text(report.petitioner, "petitioner"), subject=subject, received_on=received,
                        responsible_id=responsible.id, state="open", deadline=deadline,
                        deadline_at=end_of_day(deadline, campaign.timezone), recorded_at=now,
                        recorded_by_id=by.person_id)
    petition.next_escalation_at = first_step_at(steps_for(definition.escalation, deadline, campaign.timezone,
                                                          calendar, now))
    session.add(petition)
    session.flush()
    audit.record(session, at=now, by=by, entity="petition", entity_id=petition.id, event="record", from_state=None,
                 to_state="open", campaign_id=campaign.id,
                 note=f"{report.channel}; deadline {deadline.isoformat()}; responsible {responsible.email}")
    subject_line, body = _assigned_mail(responsible, petition, unit, campaign.title, base_url)
    enqueue(session, key=f"petition-{petition.id}", recipient=responsible.email, subject=subject_line, body=body,
            now=now, campaign_id=campaign.id)
    return petition


def process_petition(session: Session, petition_id: int, *, by: Actor, clock: Clock,
                     outcome: str | None) -> Petition:
    """The responsible person (or a coordinator) records how it was processed (办结): open → processed."""
    query = (select(Petition).where(Petition.id == petition_id).with_for_update()
             .execution_options(populate_existing=True))
    petition = session.scalar(query)
    if petition is None or not (by.person_id == petition.responsible_id
                                or takes_part(session, petition.campaign_id, by)):
        raise NotFound(f"no petition {petition_id}")
    campaign = session.get(Campaign, petition.campaign_id)
    definition = stored_definition(campaign.definition)  # type: ignore[union-attr]
    if not (by.is_operator or by.person_id == petition.responsible_id
            or is_coordinator(session, definition, petition.campaign_id, by.person_id or 0)):
        raise Forbidden("only the responsible person or a coordinator processes a letter or visit")
    text = _text(outcome, "outcome", required=True)
    if petition.state != "open":
        raise TransitionRefused(f"petition {petition.id} is already {petition.state}")
    now = clock.now()
    petition.state, petition.processed_at, petition.processed_by_id = "processed", now, by.person_id
    petition.outcome, petition.next_escalation_at = text, None
    audit.record(session, at=now, by=by, entity="petition", entity_id=petition.id, event="process",
                 from_state="open", to_state="processed", campaign_id=petition.campaign_id, note=text)
    session.flush()
    return petition


def escalate_due_petitions(session: Session, now: datetime, calendar: WorkingCalendar, *, base_url: str,
                           limit: int = BATCH_SIZE) -> EscalationSummary:
    """Record the reminders and levels of open petitions that came due by ``now`` (one batch) and queue the mails.

    Like ``escalation.escalate_due``: rows claimed FOR UPDATE SKIP LOCKED, each
    (petition, level) inserted once whoever else sweeps; an empty summary means
    nothing more is due.
    """
    rows = session.execute(
        select(Petition.id, Petition.campaign_id, Petition.unit_id, Petition.responsible_id, Petition.subject,
               Petition.deadline, Petition.next_escalation_at, Petition.recorded_at, Unit.name)
        .outerjoin(Unit, Unit.id == Petition.unit_id)
        .where(Petition.next_escalation_at <= now, Petition.state == "open")
        .order_by(Petition.next_escalation_at).limit(limit)
        .with_for_update(of=Petition, skip_locked=True)).all()
    if not rows:
        return EscalationSummary()
    items = [_Item("petition", pid, cid, uid, who, title, deadline, 0, next_at, created, unit=unit)
             for pid, cid, uid, who, title, deadline, next_at, created, unit in rows]
    campaigns = _campaign_context(session, {item.campaign_id for item in items}, {})
    reached = []
    next_at: dict[int, datetime | None] = {}
    for item in items:
        context = campaigns[item.campaign_id]
        steps = [s for s in steps_for(context.definition.escalation, item.deadline, context.timezone, calendar,
                                      EVER_BEFORE)
                 if not (s.level == REMINDER and s.due_at <= item.created_at)]
        overdue = now >= end_of_day(item.deadline, context.timezone)
        reached += [(item, step) for step in steps
                    if item.next_at <= step.due_at <= now and not (step.level == REMINDER and overdue)]
        next_at[item.id] = next_step_at(steps, now)
    people = _people(session, items, reached, campaigns)
    notified = {(item.kind, item.id, step.level): _resolve(step.notify, item, campaigns[item.campaign_id])
                for item, step in reached}
    inserted = _record(session, reached, notified, people, now)
    summary = EscalationSummary(items=len(items))
    mails = []
    for item, step in reached:
        if (item.kind, item.id, step.level) not in inserted:
            continue  # a concurrent sweep recorded it and told them
        if step.level == REMINDER:
            summary.reminders += 1
        else:
            summary.levels[step.level] += 1
        for person_id in notified[(item.kind, item.id, step.level)]:
            subject, body = _escalation_mail(people[person_id].name, item, step.level, step.colour,
                                             campaigns[item.campaign_id].title, people[item.responsible_id].name,
                                             base_url)
            mails.append(mail_row(key=f"esc-L{step.level}-petition{item.id}-p{person_id}",
                                  recipient=people[person_id].email, subject=subject, body=body, now=now,
                                  campaign_id=item.campaign_id))
    enqueue_many(session, mails)
    summary.mails = len(mails)
    by_time: dict[datetime | None, list[int]] = defaultdict(list)
    for petition_id, when in next_at.items():
        by_time[when].append(petition_id)
    for when, ids in by_time.items():
        session.execute(update(Petition).where(Petition.id.in_(ids)).values(next_escalation_at=when))
    return summary


# --- helpers -------------------------------------------------------------------------------------------------------

def _unit(session: Session, campaign: Campaign, code: str | None) -> Unit | None:
    if not code:
        return None
    unit = session.scalar(select(Unit).where(Unit.code == code))
    if unit is None or not (unit.id == campaign.unit_id or session.scalar(select(CampaignUnit.unit_id).where(
            CampaignUnit.campaign_id == campaign.id, CampaignUnit.unit_id == unit.id)) is not None):
        raise InvalidInput(f"no unit '{code}' in this campaign")
    return unit


def _responsible(session: Session, campaign: Campaign, roles: tuple, unit: Unit | None,  # type: ignore[type-arg]
                 email: str | None) -> Person:
    """The named person, else the first holder of a unit role in the petition's unit (谁主管谁负责)."""
    if email:
        try:
            return person_by_email(session, email)
        except NotFound:
            raise InvalidInput(f"no person with e-mail '{email}'") from None
    if unit is not None and unit.id != campaign.unit_id:
        holder = session.scalar(select(RoleBinding.person_id).where(
            RoleBinding.campaign_id == campaign.id, RoleBinding.unit_id == unit.id,
            RoleBinding.role.in_([role.id for role in roles if role.scope == "unit"])).order_by(RoleBinding.id))
        if holder is not None:
            return session.get(Person, holder)  # type: ignore[return-value]
    raise InvalidInput("name the responsible person (no sub-unit with a responsible person was given)")


def _deadline(received: date, report: PetitionReport, calendar: WorkingCalendar) -> date:
    if report.deadline is not None and report.deadline_working_days is not None:
        raise InvalidInput("give either deadline or deadline_working_days, not both")
    if report.deadline_working_days is not None:
        if not 1 <= report.deadline_working_days <= 366:
            raise InvalidInput("deadline_working_days must be a whole number from 1 to 366")
        return calendar.add_working_days(received, report.deadline_working_days)
    if report.deadline is not None:
        if report.deadline < received:
            raise InvalidInput(f"the deadline {report.deadline.isoformat()} is before the day it was received")
        return report.deadline
    return DEFAULT_DEADLINE.after(received, calendar)


def _text(value: str | None, field: str, *, required: bool = False) -> str | None:
    cleaned = (value or "").replace("\x00", "").strip()
    if required and not cleaned:
        raise InvalidInput(f"{field} is required")
    if len(cleaned) > TEXT_LIMIT:
        raise InvalidInput(f"{field} is too long ({len(cleaned)} characters; at most {TEXT_LIMIT})")
    return cleaned or None


def _link(base_url: str, petition_id: int) -> str:
    return f"{base_url.rstrip('/')}/petitions/{petition_id}"


def _assigned_mail(person: Person, petition: Petition, unit: Unit | None, campaign_title: str,
                   base_url: str) -> tuple[str, str]:
    channel = "来信" if petition.channel == "letter" else "来访"
    subject = (f"【信访办理通知】{petition.subject[:40]}，限 {petition.deadline.isoformat()} 前办结 / "
               f"letter or visit to process by {petition.deadline.isoformat()} — {campaign_title}")
    lines = [f"{person.name}：", "", f"以下群众{channel}由您负责办理。",
             "You are responsible for processing this letter or visit.", "",
             f"   事由 subject: {petition.subject}", f"   单位 unit: {unit.name if unit else '—'}",
             f"   收到 received: {petition.received_on.isoformat()}",
             f"   期限 deadline: {petition.deadline.isoformat()}", f"   链接 link: {_link(base_url, petition.id)}", "",
             "——平安创建活动领导小组办公室 / pingan"]
    return subject, "\n".join(lines)


def _escalation_mail(name: str, item: _Item, level: int, colour: str, campaign_title: str, responsible: str,
                     base_url: str) -> tuple[str, str]:
    colour_zh, colour_en = COLOUR_WORDS.get(colour, COLOUR_WORDS["red"])
    if level == REMINDER:
        subject = f"【{colour_zh}】信访事项即将到期 / a letter or visit is due soon — {campaign_title}"
        opening = "以下信访事项即将到期，请按期办结。 / Due soon: please process it by the deadline."
    else:
        subject = (f"【{colour_zh}·第{level}级】信访事项逾期未办结 / level {level}: a letter or visit is overdue — "
                   f"{campaign_title}")
        opening = f"以下信访事项已逾期，现按第{level}级督办通知您。 / Overdue: you are notified at level {level} ({colour_en})."
    lines = [f"{name}：", "", opening, "", f"   事由 subject: {item.title}", f"   单位 unit: {item.unit or '—'}",
             f"   期限 deadline: {item.deadline.isoformat()}", f"   责任人 responsible: {responsible}",
             f"   链接 link: {_link(base_url, item.id)}", "", "——平安创建活动领导小组办公室 / pingan"]
    return subject, "\n".join(lines)
