"""A campaign's progress: its phase, allowed moves, progress per phase, overdue items; what keeps it
in its phase, as far as the viewer may see; and what advancing it now would do."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.orm import Session

from workflow.access import (
    Need,
    campaign_for,
    in_leading_group,
    is_coordinator,
    load_campaign,
    takes_part,
)
from workflow.audit import Actor
from workflow.campaigns.letters import open_required_letters
from workflow.campaigns.lifecycle import (
    count_phase_blockers,
    open_major_hazards,
    open_required_tasks,
)
from workflow.clock import Clock, local_date
from workflow.definitions.catalogue import stored_definition
from workflow.definitions.reader import Definition, PhaseSpec
from workflow.durations import last_day
from workflow.errors import TransitionRefused
from workflow.machines import CLOSED, DRAFT, TASK_SETTLED_STATES, allowed_events, campaign_machine
from workflow.models import CampaignPhase, Letter, Person, Rectification, Task, Unit

OVERDUE_LIST_LIMIT = 50
# a town of fifty villages with one required task each still fits a phone's page; the count says
# how many more there are
BLOCKER_LIST_LIMIT = 50
# the due dates a coordinator's overview looks ahead to (pingan status)
NEXT_DUE_SHOWN = 5
TITLE_SHOWN = 80  # of a hazard's description, which is its title in a list


@dataclass
class PhaseProgress:
    id: str
    title: str
    status: str  # done | current | pending
    planned_start: date | None
    # the last day on time (inclusive), never the stored exclusive end: see durations.last_day
    planned_last_day: date | None
    started_on: date | None
    ended_at: datetime | None
    late: bool
    tasks: dict[str, int] = field(default_factory=dict)  # state → count

    @property
    def settled(self) -> int:
        """Tasks of the phase that no longer block it (not in the API's JSON: it has the counts per
        state)."""
        return sum(count for state, count in self.tasks.items() if state in TASK_SETTLED_STATES)


@dataclass
class OverdueItem:
    kind: str
    id: int
    title: str
    unit: str | None
    assignee: str
    due_on: date
    days_overdue: int
    due_estimated: bool = False  # counted over a year without the official calendar: 「预计」


@dataclass
class CampaignStatus:
    id: int
    title: str
    definition: str
    version: int
    unit: str
    state: str
    state_title: str
    allowed_moves: list[str]
    blocking: int
    phases: list[PhaseProgress]
    overdue_count: int
    overdue: list[OverdueItem]

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(asdict(self))


@dataclass(frozen=True)
class BlockingItem:
    """A required item that keeps the campaign in its phase, as a page lists it."""

    kind: str  # task | letter (a responsibility letter not yet signed) | rectification (an open
    # major hazard)
    id: int
    title: str
    title_en: str | None  # a task's English title, where the definition gives one
    unit: str | None
    assignee: str
    due_on: date | None
    state: str
    due_estimated: bool = False  # counted over a year without the official calendar: 「预计」


@dataclass(frozen=True)
class PhaseBlockers:
    """What keeps a campaign in its current phase, as far as the viewer may see it."""

    total: int  # every blocking item, seen by the viewer or not
    whole: bool  # the viewer sees every item (the leading group); else only their own
    seen: int  # the blocking items the viewer may see
    items: list[BlockingItem]  # the first BLOCKER_LIST_LIMIT of those, soonest due first


@dataclass(frozen=True)
class PhaseName:
    id: str
    title: str
    title_en: str | None


@dataclass(frozen=True)
class AdvancePreview:
    """What advancing the campaign now would do, for a coordinator to confirm."""

    campaign_id: int
    campaign_title: str
    leaving: PhaseName
    entering: PhaseName | None  # None: the campaign closes
    # False: nothing required is created on entering, so the phase could be left again at once (a
    # second advance would skip it: the confirmation says so)
    entering_has_required_work: bool
    blocking: int  # items that keep the campaign in the phase it would leave: refused while any


def campaign_status(
    session: Session, campaign_id: int, *, clock: Clock, by: Actor | None = None
) -> CampaignStatus:
    """The standing of one campaign as of the clock's now; ``by``, when given, must take part in
    it or hold items in it (``Need.OWN_ITEMS``: then the overdue items listed are their own)."""
    now = clock.now()
    campaign = (
        load_campaign(session, campaign_id)
        if by is None
        else campaign_for(session, campaign_id, by, Need.OWN_ITEMS)
    )
    definition = stored_definition(campaign.definition)
    today = local_date(now, campaign.timezone)

    counts: dict[str, dict[str, int]] = {}
    for phase_key, state, count in session.execute(
        select(Task.phase_key, Task.state, func.count())
        .where(Task.campaign_id == campaign.id)
        .group_by(Task.phase_key, Task.state)
    ):
        counts.setdefault(phase_key, {})[state] = count

    phase_rows = {
        row.phase_key: row
        for row in session.scalars(
            select(CampaignPhase).where(CampaignPhase.campaign_id == campaign.id)
        )
    }
    order = definition.phase_ids()
    current = (
        order.index(campaign.state)
        if campaign.state in order
        else (len(order) if campaign.state == CLOSED else -1)
    )
    phases = []
    for position, spec in enumerate(definition.phases):
        row = phase_rows.get(spec.id)
        status = "done" if position < current else "current" if position == current else "pending"
        last = last_day(row.planned_end) if row else None
        late = bool(status == "current" and last and today > last)
        phases.append(
            PhaseProgress(
                id=spec.id,
                title=spec.title,
                status=status,
                planned_start=row.planned_start if row else None,
                planned_last_day=last,
                started_on=row.started_on if row else None,
                ended_at=row.ended_at if row else None,
                late=late,
                tasks=counts.get(spec.id, {}),
            )
        )

    overdue_query = (
        select(Task.id, Task.title, Unit.name, Person.name, Task.due_on, Task.due_estimated)
        .join(Person, Person.id == Task.assignee_id)
        .outerjoin(Unit, Unit.id == Task.unit_id)
        .where(Task.campaign_id == campaign.id, Task.state == "open", Task.due_at <= now)
    )
    if by is not None and not takes_part(session, campaign.id, by):
        overdue_query = overdue_query.where(Task.assignee_id == by.person_id)
    overdue_count = session.scalar(select(func.count()).select_from(overdue_query.subquery())) or 0
    overdue = [
        OverdueItem("task", tid, title, unit, assignee, due_on, (today - due_on).days, estimated)
        for tid, title, unit, assignee, due_on, estimated in session.execute(
            overdue_query.order_by(Task.due_at, Task.id).limit(OVERDUE_LIST_LIMIT)
        )
    ]
    in_phase = campaign.state not in (DRAFT, CLOSED)
    blocking = count_phase_blockers(session, campaign) if in_phase else 0
    moves = allowed_events(campaign_machine(order), campaign.state)
    if by is not None and not is_coordinator(session, definition, campaign.id, by):
        moves = []  # starting and advancing are a coordinator's: nobody else is offered them
    return CampaignStatus(
        id=campaign.id,
        title=campaign.title,
        definition=definition.id,
        version=definition.version,
        unit=campaign.unit.name,
        state=campaign.state,
        state_title=definition.phase(campaign.state).title if in_phase else campaign.state,
        allowed_moves=moves,
        blocking=blocking,
        phases=phases,
        overdue_count=overdue_count,
        overdue=overdue,
    )


def phase_blockers_seen_by(
    session: Session, campaign_id: int, *, by: Actor, limit: int | None = BLOCKER_LIST_LIMIT
) -> PhaseBlockers:
    """The items that keep the campaign in its current phase: all of them for its leading group,
    who may open every one; for anyone else of the campaign, their own (the count says how many
    there are in all). The first ``limit`` of them, soonest due first (None: all)."""
    campaign = campaign_for(session, campaign_id, by, Need.OWN_ITEMS)
    if campaign.state in (DRAFT, CLOSED):
        return PhaseBlockers(0, True, 0, [])
    # the rule of the task and rectification pages (visible_task, get_rectification): the
    # assignee, or the leading group
    whole = in_leading_group(session, campaign.id, campaign.unit_id, by)
    tasks = (
        select(
            Task.id,
            Task.title,
            Task.spec_key,
            Unit.name,
            Person.name,
            Task.due_on,
            Task.state,
            Task.due_estimated,
        )
        .join(Person, Person.id == Task.assignee_id)
        .outerjoin(Unit, Unit.id == Task.unit_id)
        .where(*open_required_tasks(campaign))
    )
    majors = _hazard_rows(Rectification.state, Rectification.deadline_estimated).where(
        *open_major_hazards(campaign)
    )
    letters = (
        select(
            Letter.id,
            Letter.title,
            Letter.spec_key,
            Unit.name,
            Person.name,
            Letter.due_on,
            Letter.state,
            Letter.due_estimated,
        )
        # the party whose move it is: the issuer while drafted, then the signer
        .join(
            Person,
            Person.id
            == case((Letter.state == "drafted", Letter.issuer_id), else_=Letter.signer_id),
        )
        .outerjoin(Unit, Unit.id == Letter.unit_id)
        .where(*open_required_letters(campaign))
    )
    if not whole:
        tasks = tasks.where(Task.assignee_id == by.person_id)
        majors = majors.where(Rectification.responsible_id == by.person_id)
        letters = letters.where(
            or_(Letter.signer_id == by.person_id, Letter.issuer_id == by.person_id)
        )
    seen = sum(
        session.scalar(select(func.count()).select_from(query.subquery())) or 0
        for query in (tasks, majors, letters)
    )
    total = seen if whole else count_phase_blockers(session, campaign)
    titles_en = _spec_titles_en(stored_definition(campaign.definition), campaign.state)
    items = (
        [
            BlockingItem(
                "task", tid, title, titles_en.get(spec), unit, who, due_on, state, estimated
            )
            for tid, title, spec, unit, who, due_on, state, estimated in session.execute(
                tasks.order_by(Task.due_on.is_(None), Task.due_on, Task.id).limit(limit)
            )
        ]
        + [
            BlockingItem(
                "letter", lid, title, titles_en.get(spec), unit, who, due_on, state, estimated
            )
            for lid, title, spec, unit, who, due_on, state, estimated in session.execute(
                letters.order_by(Letter.due_on.is_(None), Letter.due_on, Letter.id).limit(limit)
            )
        ]
        + [
            BlockingItem(
                "rectification", rid, _shortened(text), None, unit, who, deadline, state, estimated
            )
            for rid, text, unit, who, deadline, state, estimated in session.execute(
                majors.order_by(Rectification.deadline, Rectification.id).limit(limit)
            )
        ]
    )
    items.sort(
        key=lambda item: (
            item.due_on is None,
            item.due_on or date.max,
            item.kind != "rectification",  # on the same day, the hazard first (as in the inbox)
            item.id,
        )
    )
    return PhaseBlockers(total, whole, seen, items[:limit])


@dataclass(frozen=True)
class DueItem:
    """An open task or rectification with its due date (a rectification's deadline), as a
    coordinator's overview lists it."""

    kind: str  # task | rectification
    id: int
    title: str
    unit: str | None
    responsible: str
    due_on: date
    due_estimated: bool = False


@dataclass
class CampaignOutlook:
    """What a coordinator needs of a campaign at a glance (``pingan status``): its standing, every
    item that keeps it in its phase, its hazards still open and overdue, and what falls due next."""

    status: CampaignStatus
    blockers: list[BlockingItem]
    open_rectifications: int
    overdue_rectification_count: int
    overdue_rectifications: list[DueItem]  # the first OVERDUE_LIST_LIMIT, longest overdue first
    next_due: list[DueItem]

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.status.to_dict(),
            "blocking_items": _jsonable([asdict(item) for item in self.blockers]),
            "rectifications": {
                "open": self.open_rectifications,
                "overdue": self.overdue_rectification_count,
                "overdue_items": _jsonable([asdict(i) for i in self.overdue_rectifications]),
            },
            "next_due": _jsonable([asdict(item) for item in self.next_due]),
        }


def campaign_outlook(
    session: Session, campaign_id: int, *, clock: Clock, by: Actor
) -> CampaignOutlook:
    """A campaign's standing for its leading group, with every blocking item named (not only
    counted), its open and overdue rectifications, and the next ``NEXT_DUE_SHOWN`` due dates."""
    campaign = campaign_for(session, campaign_id, by, Need.LEADING_GROUP)
    now = clock.now()
    status = campaign_status(session, campaign.id, clock=clock)
    blockers = phase_blockers_seen_by(session, campaign.id, by=by, limit=None).items
    hazards = _hazard_rows(Rectification.deadline_estimated).where(
        Rectification.campaign_id == campaign.id
    )
    # overdue: still the responsible person's to do (one reported fixed waits on its verifier)
    late = (Rectification.state == "open", Rectification.deadline_at <= now)
    open_count, overdue_count = (
        session.scalar(
            select(func.count())
            .select_from(Rectification)
            .where(Rectification.campaign_id == campaign.id, *where)
        )
        or 0
        for where in ((Rectification.state != "closed",), late)
    )
    overdue = [
        DueItem("rectification", rid, _shortened(text), unit, who, deadline, estimated)
        for rid, text, unit, who, deadline, estimated in session.execute(
            hazards.where(*late)
            .order_by(Rectification.deadline, Rectification.id)
            .limit(OVERDUE_LIST_LIMIT)
        )
    ]
    coming_hazards = [
        DueItem("rectification", rid, _shortened(text), unit, who, deadline, estimated)
        for rid, text, unit, who, deadline, estimated in session.execute(
            hazards.where(Rectification.state == "open", Rectification.deadline_at > now)
            .order_by(Rectification.deadline_at, Rectification.id)
            .limit(NEXT_DUE_SHOWN)
        )
    ]
    coming_tasks = [
        DueItem("task", tid, title, unit, who, due_on, estimated)
        for tid, title, unit, who, due_on, estimated in session.execute(
            select(Task.id, Task.title, Unit.name, Person.name, Task.due_on, Task.due_estimated)
            .join(Person, Person.id == Task.assignee_id)
            .outerjoin(Unit, Unit.id == Task.unit_id)
            .where(Task.campaign_id == campaign.id, Task.state == "open", Task.due_at > now)
            .order_by(Task.due_at, Task.id)
            .limit(NEXT_DUE_SHOWN)
        )
    ]
    next_due = sorted(
        coming_tasks + coming_hazards, key=lambda item: (item.due_on, item.kind, item.id)
    )[:NEXT_DUE_SHOWN]
    return CampaignOutlook(status, blockers, open_count, overdue_count, overdue, next_due)


def advance_preview(session: Session, campaign_id: int, *, by: Actor) -> AdvancePreview:
    """The phase a coordinator's advance would leave and the one it would enter (or that the
    campaign would close), and whether anything still keeps it where it is.

    Refused (TransitionRefused) when the campaign is in no phase it could leave: not started, or
    closed.
    """
    campaign = campaign_for(session, campaign_id, by, Need.COORDINATOR, doing="advance it")
    definition = stored_definition(campaign.definition)
    machine = campaign_machine(definition.phase_ids())
    if "advance" not in allowed_events(machine, campaign.state):
        raise TransitionRefused(f"cannot advance campaign {campaign.id}: it is {campaign.state}")
    # the machine says where "advance" leads: the next phase, or closed after the last
    destination = machine.events["advance"].transitions[campaign.state][0].dest
    leaving = definition.phase(campaign.state)
    entering = None if destination == CLOSED else definition.phase(destination)
    return AdvancePreview(
        campaign_id=campaign.id,
        campaign_title=campaign.title,
        leaving=_phase_name(leaving),
        entering=_phase_name(entering) if entering else None,
        entering_has_required_work=bool(
            entering
            and any(
                spec.required
                for spec in (*entering.tasks, *definition.duties(entering.id), *entering.letters)
            )
        ),
        blocking=count_phase_blockers(session, campaign),
    )


def _hazard_rows(*then: Any) -> Select[Any]:
    """Rectifications as lists show them: id, description, unit, responsible person, deadline,
    then ``then``."""
    return (
        select(
            Rectification.id,
            Rectification.description,
            Unit.name,
            Person.name,
            Rectification.deadline,
            *then,
        )
        .join(Person, Person.id == Rectification.responsible_id)
        .outerjoin(Unit, Unit.id == Rectification.unit_id)
    )


def _phase_name(phase: PhaseSpec) -> PhaseName:
    return PhaseName(phase.id, phase.title, phase.title_en)


def _spec_titles_en(definition: Definition, phase_id: str) -> dict[str, str]:
    phase = definition.phase(phase_id)
    specs = (*phase.tasks, *definition.duties(phase_id), *phase.letters)
    return {spec.id: spec.title_en for spec in specs if spec.title_en}


def _shortened(text: str) -> str:
    return text if len(text) <= TITLE_SHOWN else text[: TITLE_SHOWN - 1] + "…"


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value
