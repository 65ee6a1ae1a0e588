"""A letter or visit (信访) as its page shows it, and the open ones a person must process (their
inbox).

The mails about a petition link to its page (``petitions._link``). Who sees
it: the person responsible for it and the campaign's leading group (the office
that recorded it, the leaders it is escalated to); anyone else is told it does
not exist. Who may mark it processed is ``process_petition``'s rule (the
responsible person or a coordinator); the page only asks it beforehand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from workflow.access import in_leading_group, is_coordinator
from workflow.audit import Actor
from workflow.clock import Clock, local_date
from workflow.definitions.catalogue import stored_definition
from workflow.definitions.texts import campaign_twins, english_twin
from workflow.errors import NotFound
from workflow.machines import PETITION_MACHINE, can
from workflow.models import Campaign, Person, Petition, Task, Unit


@dataclass(frozen=True)
class PetitionPage:
    id: int
    campaign_id: int
    campaign_title: str
    channel: str  # letter | visit
    petitioner: str | None
    subject: str
    unit: str | None
    responsible: str
    received_on: date
    deadline: date
    state: str  # open | processed
    days_overdue: int  # calendar days past the deadline while open (0: not overdue)
    processed_at: datetime | None
    processed_by: str | None
    outcome: str | None
    is_responsible: bool
    leading_group: bool  # sees the campaign's pages
    # the machine allows "process", and this person is responsible for it or a coordinator
    may_process: bool
    # the definition's English title, unless the campaign's title was given by hand
    campaign_title_en: str | None = None
    # counted over a year without the official calendar: shown as 「预计」
    deadline_estimated: bool = False
    major: bool = False  # 重大信访
    meeting: MeetingLine | None = None  # the meeting it called (重大信访会), if any


@dataclass(frozen=True)
class MeetingLine:
    """The meeting task a major letter or visit called: its page, its state, by when."""

    task_id: int
    state: str
    due_on: date | None


@dataclass(frozen=True)
class OpenPetition:
    id: int
    subject: str
    channel: str
    campaign_title: str
    unit: str | None
    deadline: date
    days_overdue: int
    campaign_title_en: str | None = None
    deadline_estimated: bool = False  # shown as 「预计」


def petition_page(session: Session, petition_id: int, *, by: Actor, clock: Clock) -> PetitionPage:
    """The petition as its page shows it; for its responsible person and the leading group (others:
    not found)."""
    petition = session.get(Petition, petition_id)
    campaign = session.get(Campaign, petition.campaign_id) if petition is not None else None
    if petition is None or campaign is None:
        raise NotFound(f"no petition {petition_id}")
    responsible = by.person_id is not None and by.person_id == petition.responsible_id
    leading = in_leading_group(session, campaign.id, campaign.unit_id, by)
    if not (responsible or leading):
        # its existence is private, like a rectification's
        raise NotFound(f"no petition {petition_id}")
    definition = stored_definition(campaign.definition)
    coordinator = is_coordinator(session, definition, campaign.id, by)
    today = local_date(clock.now(), campaign.timezone)
    processor = session.get(Person, petition.processed_by_id) if petition.processed_by_id else None
    return PetitionPage(
        petition.id,
        campaign.id,
        campaign.title,
        petition.channel,
        petition.petitioner,
        petition.subject,
        petition.unit.name if petition.unit else None,
        petition.responsible.name,
        petition.received_on,
        petition.deadline,
        petition.state,
        _days_overdue(petition.state, petition.deadline, today),
        petition.processed_at,
        processor.name if processor else None,
        petition.outcome,
        responsible,
        leading,
        can(PETITION_MACHINE, petition.state, "process") and (responsible or coordinator),
        english_twin(campaign.title, definition),
        petition.deadline_estimated,
        petition.major,
        _meeting(session, petition) if petition.major else None,
    )


def open_petitions(session: Session, person_id: int, *, clock: Clock) -> list[OpenPetition]:
    """The open letters and visits ``person_id`` is responsible for, the soonest deadline first."""
    now = clock.now()
    unit = aliased(Unit)
    rows = session.execute(
        select(
            Petition.id,
            Petition.subject,
            Petition.channel,
            Petition.deadline,
            Campaign.id.label("campaign_id"),
            Campaign.title,
            Campaign.timezone,
            unit.name,
            Petition.deadline_estimated,
        )
        .join(Campaign, Campaign.id == Petition.campaign_id)
        .outerjoin(unit, unit.id == Petition.unit_id)
        .where(Petition.responsible_id == person_id, Petition.state == "open")
        .order_by(Petition.deadline, Petition.id)
    ).all()
    twins = campaign_twins(session, {row.campaign_id for row in rows})
    today: dict[str, date] = {}
    shown = []
    for (
        petition_id,
        subject,
        channel,
        deadline,
        campaign_id,
        title,
        zone,
        unit_name,
        estimated,
    ) in rows:
        day = today.get(zone) or today.setdefault(zone, local_date(now, zone))
        shown.append(
            OpenPetition(
                petition_id,
                subject,
                channel,
                title,
                unit_name,
                deadline,
                _days_overdue("open", deadline, day),
                twins[campaign_id].get(title),
                bool(estimated),
            )
        )
    return shown


def _meeting(session: Session, petition: Petition) -> MeetingLine | None:
    row = session.execute(
        select(Task.id, Task.state, Task.due_on).where(
            Task.campaign_id == petition.campaign_id,
            Task.occurrence_key.startswith(f"petition-{petition.id}:"),
        )
    ).first()
    return MeetingLine(*row) if row else None


def _days_overdue(state: str, deadline: date, today: date) -> int:
    # the deadline is the whole day (deadline_at is its end): overdue from the next day on
    return max((today - deadline).days, 0) if state == "open" else 0
