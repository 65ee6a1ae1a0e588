"""Campaign use cases: start a campaign, advance it through its phases, create each phase's tasks.

Each function works inside the caller's transaction and never commits: the
edge (CLI command, web route, sweep) wraps it in ``workflow.db.transaction`` so
a refused or failed call leaves the database exactly as it was.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from workflow import audit
from workflow.access import Need, campaign_for, require_may_start_campaign
from workflow.audit import SYSTEM, Actor
from workflow.calendar import WorkingCalendar
from workflow.campaigns import cascade
from workflow.campaigns.fanout import Scope, fans_out_to_places, load_scope, targets
from workflow.campaigns.letters import (
    draft_letters,
    letter_start_problems,
    open_required_letters,
    required_letters_open,
)
from workflow.campaigns.recurring import start_duties
from workflow.campaigns.task_rows import DeferredWrites, stored_scope, task_rows
from workflow.clock import Clock, local_date
from workflow.db import in_batches
from workflow.definitions.catalogue import register_definition, stored_definition
from workflow.definitions.plan import Window, planned_windows, spec_due, text_shift
from workflow.definitions.reader import Definition, definition_folders
from workflow.errors import Blocker, Conflict, InvalidInput, StartRefused, TransitionRefused
from workflow.limits import CAMPAIGN_TITLE_LIMIT
from workflow.machines import CLOSED, TASK_SETTLED_STATES, campaign_machine, fire
from workflow.models import (
    Campaign,
    CampaignPhase,
    CampaignUnit,
    DefinitionRow,
    Letter,
    Person,
    Rectification,
    RoleBinding,
    Site,
    Task,
    Unit,
)
from workflow.organisation.directory import unit_by_code
from workflow.organisation.roles import (
    Resolution,
    binding_rows,
    resolve_roles,
    resolve_roles_many,
)


@dataclass(frozen=True)
class PhaseMove:
    campaign_id: int
    from_state: str
    to_state: str
    tasks_created: int


def start_campaign(
    session: Session,
    definition: Definition,
    unit_code: str,
    starts_on: date,
    *,
    by: Actor,
    clock: Clock,
    calendar: WorkingCalendar,
    title: str | None = None,
    folders: Sequence[Path] | None = None,
) -> Campaign:
    """Start a campaign of ``definition`` for a unit: bind roles, plan phases, enter the first
    phase.

    Refused, with nothing written, when a role the definition needs resolves to nobody (in the
    unit, or in a sub-unit its cascade starts a campaign in at once). ``folders``: where the
    definitions a cascade names are looked up besides the stored ones (default: the shipped).
    """
    now = clock.now()
    if title is not None and len(title) > CAMPAIGN_TITLE_LIMIT:
        raise InvalidInput(f"the title is too long (at most {CAMPAIGN_TITLE_LIMIT} characters)")
    unit = unit_by_code(session, unit_code)
    resolution = resolve_roles(session, definition, unit)
    # who may start first: the problems below name the unit's roles and sites
    require_may_start_campaign(session, by, unit.id, coordinating(definition, resolution, unit, by))
    child_row = cascade.child_definition_row(
        session, definition, now, definition_folders() if folders is None else folders
    )
    return _open_campaign(
        session,
        definition,
        unit,
        resolution,
        starts_on,
        by=by,
        now=now,
        calendar=calendar,
        title=title or definition.title,
        parent=None,
        child_row=child_row,
    )


def start_late_child(
    session: Session,
    parent_id: int,
    unit_code: str,
    *,
    by: Actor,
    clock: Clock,
    calendar: WorkingCalendar,
) -> Campaign:
    """Start the campaign of a sub-unit that joins after its parent's cascade (a town added to the
    county, a village whose roles were missing): allowed to a coordinator of the parent, audited
    on both campaigns as a late start."""
    now = clock.now()
    parent = campaign_for(
        session, parent_id, by, Need.COORDINATOR, lock=True, doing="start a sub-unit's campaign"
    )
    definition = stored_definition(parent.definition)
    spec = definition.cascade
    if spec is None or parent.child_definition_id is None:
        raise InvalidInput(f"campaign {parent.id} does not cascade to its sub-units")
    if parent.state == CLOSED:
        raise TransitionRefused(f"campaign {parent.id} is closed")
    if not cascade.has_entered(session, parent.id, spec.when):
        raise TransitionRefused(
            f"campaign {parent.id} starts its sub-units' campaigns in phase '{spec.when}', "
            "which it has not entered yet"
        )
    unit = unit_by_code(session, unit_code)
    if unit.parent_id != parent.unit_id:
        raise InvalidInput(f"unit '{unit.code}' is not a sub-unit of the campaign's unit")
    if session.scalar(
        select(Campaign.id).where(Campaign.parent_id == parent.id, Campaign.unit_id == unit.id)
    ):
        raise Conflict(f"unit '{unit.code}' already runs its campaign under campaign {parent.id}")
    if not session.scalar(
        select(CampaignUnit.unit_id).where(
            CampaignUnit.campaign_id == parent.id, CampaignUnit.unit_id == unit.id
        )
    ):
        session.add(CampaignUnit(campaign_id=parent.id, unit_id=unit.id))
    (child,) = _start_children(
        session, parent, [unit], local_date(now, parent.timezone), by, now, calendar, late=True
    )
    audit.record(
        session,
        at=now,
        by=by,
        entity="campaign",
        entity_id=parent.id,
        event="late child",
        from_state=parent.state,
        to_state=parent.state,
        campaign_id=parent.id,
        note=f"campaign {child.id} started late for {unit.code}",
    )
    session.flush()
    return child


def coordinating(definition: Definition, resolution: Resolution, unit: Unit, by: Actor) -> set[str]:
    """The coordinator roles ``by`` would hold in a new campaign of ``definition`` for ``unit``."""
    return {
        role
        for (role, unit_id), people in resolution.holders.items()
        if unit_id == unit.id and by.person_id in people and role in definition.coordinators
    }


def advance_campaign(
    session: Session,
    campaign_id: int,
    *,
    by: Actor,
    clock: Clock,
    calendar: WorkingCalendar,
    from_phase: str | None = None,
) -> PhaseMove:
    """Move the campaign to its next phase (or close it), if the current phase's exit guard holds.

    Refused with :class:`TransitionRefused` listing every blocking item otherwise. ``from_phase``
    is the phase the person asking saw (a page's form carries it): if the campaign has left it
    meanwhile, the request is refused (a Conflict naming the phase it is in now). The lock alone
    queues a second advance behind the first, which then found the next phase's guard holding
    (a phase with no required work) and moved the campaign on again: a double click skipped a
    phase.
    """
    now = clock.now()
    # locked: two coordinators advancing at once on PostgreSQL queue here instead of both passing
    # the guard (SQLite's BEGIN IMMEDIATE does the same)
    campaign = campaign_for(
        session, campaign_id, by, Need.COORDINATOR, lock=True, doing="advance it"
    )
    definition = stored_definition(campaign.definition)
    if from_phase is not None and campaign.state != from_phase:
        raise TransitionRefused(
            f"campaign {campaign.id} is no longer in phase '{from_phase}': it is {campaign.state}"
        )
    if campaign.state == CLOSED:
        raise TransitionRefused(f"campaign {campaign.id} is closed")
    blockers = phase_blockers(session, campaign)
    if blockers:
        raise TransitionRefused(
            f"cannot leave phase '{campaign.state}': {len(blockers)} required item(s) still open",
            blockers,
        )
    children = levels_below(session, campaign).blocked(campaign)
    if children:
        raise TransitionRefused(
            f"cannot leave phase '{campaign.state}': {len(children)} sub-unit campaign(s) not "
            f"done with it: {'; '.join(child.part() for child in children)}",
            [child.blocker() for child in children],
        )
    following = definition.next_phase(campaign.state)
    parent = (
        cascade.parent_not_entered(session, campaign, following) if following is not None else None
    )
    if parent is not None:
        raise TransitionRefused(
            f"cannot enter phase '{following}' before the campaign above it: campaign "
            f"{parent.id} ({parent.title}) has not entered it yet"
        )

    before, after = fire(
        campaign_machine(definition.phase_ids()), "advance", campaign, f"campaign {campaign.id}"
    )
    leaving = session.scalar(
        select(CampaignPhase).where(
            CampaignPhase.campaign_id == campaign.id, CampaignPhase.phase_key == before
        )
    )
    if leaving is not None:
        leaving.ended_at = now
    created = 0
    if after == CLOSED:
        campaign.closed_at = now
    else:
        created = _enter_phase(
            session,
            campaign,
            definition,
            stored_scope(session, campaign),
            after,
            local_date(now, campaign.timezone),
            now,
            calendar,
        )
    audit.record(
        session,
        at=now,
        by=by,
        entity="campaign",
        entity_id=campaign.id,
        event="advance",
        from_state=before,
        to_state=after,
        campaign_id=campaign.id,
        note=f"{created} tasks created" if created else None,
    )
    session.flush()
    return PhaseMove(campaign.id, before, after, created)


def phase_blockers(session: Session, campaign: Campaign, limit: int | None = None) -> list[Blocker]:
    """The items that keep the campaign in its current phase (the first ``limit``): required tasks
    not yet done, required letters not yet signed, then open major hazards."""
    tasks = (
        select(Task.id, Task.title, Task.state, Unit.name, Person.name)
        .join(Person, Person.id == Task.assignee_id)
        .outerjoin(Unit, Unit.id == Task.unit_id)
        .where(*open_required_tasks(campaign))
        .order_by(Task.due_at, Task.id)
        .limit(limit)
    )
    blockers = [
        Blocker("task", tid, title, unit, who, state)
        for tid, title, state, unit, who in session.execute(tasks)
    ]
    if limit is not None and len(blockers) >= limit:
        return blockers
    blockers += unsigned_letters(
        session, campaign, None if limit is None else limit - len(blockers)
    )
    if limit is not None and len(blockers) >= limit:
        return blockers
    majors = (
        select(
            Rectification.id, Rectification.description, Rectification.state, Unit.name, Person.name
        )
        .join(Person, Person.id == Rectification.responsible_id)
        .outerjoin(Unit, Unit.id == Rectification.unit_id)
        .where(*open_major_hazards(campaign))
        .order_by(Rectification.deadline_at, Rectification.id)
        .limit(None if limit is None else limit - len(blockers))
    )
    blockers += [
        Blocker("rectification", rid, text[:80], unit, who, state)
        for rid, text, state, unit, who in session.execute(majors)
    ]
    return blockers


def count_phase_blockers(session: Session, campaign: Campaign) -> int:
    """How many items keep the campaign in its current phase (without loading them)."""
    return open_items(session, [campaign.id])[campaign.id]


def unsigned_letters(
    session: Session, campaign: Campaign, limit: int | None = None
) -> list[Blocker]:
    """The current phase's required letters not yet signed, each with the party whose move it is:
    the issuer while drafted, then the signer."""
    issuer, signer, site = aliased(Person), aliased(Person), aliased(Site)
    rows = session.execute(
        select(
            Letter.id,
            Letter.title,
            Letter.state,
            Unit.name,
            site.name,
            issuer.name,
            signer.name,
        )
        .join(issuer, issuer.id == Letter.issuer_id)
        .join(signer, signer.id == Letter.signer_id)
        .outerjoin(Unit, Unit.id == Letter.unit_id)
        .outerjoin(site, site.id == Letter.site_id)
        .where(*open_required_letters(campaign))
        .order_by(Letter.due_at, Letter.id)
        .limit(limit)
    )
    return [
        Blocker(
            "letter",
            lid,
            title,
            " · ".join(filter(None, (unit, site_name))) or None,
            issuer_name if state == "drafted" else signer_name,
            state,
        )
        for lid, title, state, unit, site_name, issuer_name, signer_name in rows
    ]


def open_required_tasks(campaign: Campaign) -> tuple[Any, ...]:
    """The exit guard's first half, as WHERE clauses on ``Task``: the current phase's required tasks
    not yet settled."""
    return (Task.campaign_id == campaign.id, *_required_tasks_open(campaign.state))


def open_major_hazards(campaign: Campaign) -> tuple[Any, ...]:
    """The exit guard's second half, as WHERE clauses on ``Rectification``: major hazards not yet
    closed (they keep the campaign in any phase)."""
    return (Rectification.campaign_id == campaign.id, *_major_hazards_open())


def open_items(session: Session, campaign_ids: list[int]) -> dict[int, int]:
    """:func:`count_phase_blockers` of many campaigns, each in its own phase, in three statements
    per thousand of them (the campaigns below a county's)."""
    found: dict[int, int] = dict.fromkeys(campaign_ids, 0)
    for chosen in in_batches(campaign_ids):
        for model, guard in (
            (Task, _required_tasks_open(Campaign.state)),
            (Letter, required_letters_open(Campaign.state)),
            (Rectification, _major_hazards_open()),
        ):
            for campaign_id, count in session.execute(
                select(model.campaign_id, func.count())
                .join(Campaign, Campaign.id == model.campaign_id)
                .where(model.campaign_id.in_(chosen), *guard)
                .group_by(model.campaign_id)
            ):
                found[campaign_id] += count
    return found


def levels_below(session: Session, campaign: Campaign) -> cascade.Levels:
    """The campaigns below ``campaign`` with what keeps each in its phase: which of its sub-units
    block it (``blocked``) and how much (``open_in_phase``)."""
    below = cascade.descendants(session, campaign)
    return cascade.Levels(below, open_items(session, [c.id for c, _name in below]))


def _open_campaign(
    session: Session,
    definition: Definition,
    unit: Unit,
    resolution: Resolution,
    starts_on: date,
    *,
    by: Actor,
    now: datetime,
    calendar: WorkingCalendar,
    title: str,
    parent: Campaign | None,
    child_row: DefinitionRow | None,
    late: bool = False,
    batch: DeferredWrites | None = None,
    definition_row: DefinitionRow | None = None,
) -> Campaign:
    """Write a campaign whose roles resolved: refused (StartRefused) while a role, a site's
    responsible person … is missing, or an ancestor's role its escalation names."""
    scope = load_scope(session, unit, resolution, places=fans_out_to_places(definition))
    problems = list(resolution.missing)
    if not problems:  # roles first: a missing role would be named again for every site and entry
        for phase in definition.phases:
            for spec in (*phase.tasks, *definition.duties(phase.id)):
                if spec.per in ("site", "list"):
                    problems += [
                        p for p in targets(spec, definition, scope)[1] if p not in problems
                    ]
        problems += [p for p in letter_start_problems(definition, scope) if p not in problems]
    problems += cascade.ancestor_problems(session, definition, parent)
    if problems:
        raise StartRefused(problems)

    row = definition_row or register_definition(session, definition, now)
    campaign = Campaign(
        definition_id=row.id,
        unit_id=unit.id,
        parent_id=parent.id if parent is not None else None,
        child_definition_id=child_row.id if child_row is not None else None,
        title=title[:CAMPAIGN_TITLE_LIMIT],
        state="draft",
        timezone=definition.timezone,
        starts_on=starts_on,
        created_at=now,
    )
    # fired before the insert, which then writes the first phase: no UPDATE right after it
    before, after = fire(
        campaign_machine(definition.phase_ids()), "start", campaign, "the campaign"
    )
    session.add(campaign)
    session.flush()
    # its rows wait with the cascade's: one executemany per table for them all
    written = DeferredWrites() if batch is None else batch
    phases = _planned_phases(campaign.id, definition, starts_on, calendar)
    # the first phase goes in entered: no read and update of its row right after
    for row in phases:
        entering = row["phase_key"] == after
        row["started_on"], row["started_at"] = (starts_on, now) if entering else (None, None)
    written.insert(CampaignPhase, phases)
    written.insert(
        CampaignUnit, [{"campaign_id": campaign.id, "unit_id": u.id} for u in resolution.units]
    )
    written.insert(RoleBinding, binding_rows(campaign.id, resolution))

    first = next(row for row in phases if row["phase_key"] == after)
    created = _enter_phase(
        session,
        campaign,
        definition,
        scope,
        after,
        starts_on,
        now,
        calendar,
        written,
        entered=Window(first["planned_start"], first["planned_end"]),  # type: ignore[arg-type]
    )
    if batch is None:
        written.write(session)
    origin = ""
    if parent is not None:
        origin = f"; {'started late under' if late else 'cascaded from'} campaign {parent.id}"
    audit.record(
        session,
        at=now,
        by=by,
        entity="campaign",
        entity_id=campaign.id,
        event="start",
        from_state=before,
        to_state=after,
        campaign_id=campaign.id,
        note=(
            f"{definition.id} v{definition.version} for {unit.code}{origin}; "
            f"{created} tasks created"
        )[:300],
    )
    session.flush()
    return campaign


def _start_children(
    session: Session,
    parent: Campaign,
    units: list[Unit],
    starts_on: date,
    by: Actor,
    now: datetime,
    calendar: WorkingCalendar,
    *,
    late: bool = False,
    batch: DeferredWrites | None = None,
) -> list[Campaign]:
    """Start a campaign in each of ``units`` under ``parent``, each with its own leading group:
    refused as a whole (StartRefused naming every sub-unit's problems) when one cannot start."""
    row = session.get(DefinitionRow, parent.child_definition_id)
    assert row is not None
    definition = stored_definition(row)
    child_row = cascade.child_definition_row(session, definition, now, None)
    started, problems = [], []
    resolutions = resolve_roles_many(session, definition, units)
    for unit in units:
        resolution = resolutions[unit.id]
        try:
            started.append(
                _open_campaign(
                    session,
                    definition,
                    unit,
                    resolution,
                    starts_on,
                    by=by,
                    now=now,
                    calendar=calendar,
                    title=_child_title(unit, definition),
                    parent=parent,
                    child_row=child_row,
                    late=late,
                    batch=batch,
                    definition_row=row,
                )
            )
        except StartRefused as refused:
            problems += [p for p in refused.problems if p not in problems]
    if problems:
        raise StartRefused(problems)
    return started


def _child_title(unit: Unit, definition: Definition) -> str:
    """东风镇 + 平安铁路创建活动; a title that opens with the unit's level (镇“平安铁路”…) has it
    once: 石桥镇“平安铁路”…, not 石桥镇镇…"""
    title = definition.title
    if unit.name and title.startswith(unit.name[-1]):
        title = title[1:]
    return f"{unit.name}{title}"


def _required_tasks_open(phase: Any) -> tuple[Any, ...]:
    """:func:`open_required_tasks` of any campaign, in ``phase`` (a phase id, or a column)."""
    return (
        Task.phase_key == phase,
        Task.required.is_(True),
        Task.state.not_in(TASK_SETTLED_STATES),
    )


def _major_hazards_open() -> tuple[Any, ...]:
    return (Rectification.severity == "major", Rectification.state != "closed")


def _planned_phases(
    campaign_id: int, definition: Definition, starts_on: date, calendar: WorkingCalendar
) -> list[dict[str, object]]:
    return [
        {
            "campaign_id": campaign_id,
            "phase_key": phase.id,
            "position": position,
            "planned_start": window.start,
            "planned_end": window.end,
        }
        for position, (phase, window) in enumerate(
            zip(definition.phases, planned_windows(definition, starts_on, calendar), strict=True)
        )
    ]


def _enter_phase(
    session: Session,
    campaign: Campaign,
    definition: Definition,
    scope: Scope,
    phase_key: str,
    phase_start: date,
    now: datetime,
    calendar: WorkingCalendar,
    batch: DeferredWrites | None = None,
    *,
    entered: Window | None = None,
) -> int:
    """Mark the phase started, create its one-off tasks, start its recurring duties and draft its
    letters; return tasks created. ``batch``: where its tasks and their first escalation steps
    wait (a cascade's, written once at its end; None: written at the end of this entry).
    ``entered``: the phase's planned window when its row went in started (a campaign's first).

    Entered after its planned start, the phase's duties still run from the planned start: the
    periods begun meanwhile (this month's screening, a cron date already past) are created now;
    its tasks are due as planned (workflow/definitions/plan.py), unless ``due_from: actual``.
    """
    planned = entered or Window(None, None)
    if entered is None:
        phase_row = session.scalar(
            select(CampaignPhase).where(
                CampaignPhase.campaign_id == campaign.id, CampaignPhase.phase_key == phase_key
            )
        )
        if phase_row is not None:
            phase_row.started_on, phase_row.started_at = phase_start, now
            planned = Window(phase_row.planned_start, phase_row.planned_end)
    window_start = phase_start
    if planned.start is not None:
        window_start = min(phase_start, planned.start)
    phase = definition.phase(phase_key)
    shift = text_shift(definition, campaign.starts_on)
    rows = []
    for spec in phase.tasks:
        due = spec_due(spec, planned, phase_start, shift=shift, calendar=calendar)
        rows += task_rows(campaign, definition, spec, scope, phase_key, due, None, now)
    queued = DeferredWrites() if batch is None else batch
    if rows:
        queued.insert(Task, rows)
        queued.add(campaign, definition, rows, now, calendar)
    occurrences = start_duties(
        session, campaign, definition, phase, window_start, scope, now, calendar
    )
    draft_letters(
        session, campaign, definition, scope, phase, planned, phase_start, shift, calendar, now
    )
    if definition.cascade is not None and definition.cascade.when == phase_key:
        _start_children(
            session,
            campaign,
            scope.resolution.units,
            phase_start,
            SYSTEM,
            now,
            calendar,
            batch=queued,
        )
    if batch is None:
        queued.write(session)
    return len(rows) + occurrences
