"""A dry run of starting a campaign: what ``start_campaign`` would create, with nothing written.

The start is the engine's own (``lifecycle.start_campaign``) run inside a savepoint that is rolled
back, so a dry run can never disagree with the start it previews: the same role resolution, the
same refusals (every role nobody holds, with its unit), the same first tasks with their assignees
and due dates. The later phases' tasks are created only when the campaign enters them; for them
the dry run names the role and who holds it now.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from workflow.audit import Actor
from workflow.calendar import WorkingCalendar
from workflow.campaigns.lifecycle import start_campaign
from workflow.clock import Clock
from workflow.definitions.checks import RESPONSIBLE
from workflow.definitions.plan import PlanNotice, Window, plan_notice, planned_windows
from workflow.definitions.reader import Definition
from workflow.errors import StartProblem, StartRefused
from workflow.models import Letter, Person, Site, Task, Unit
from workflow.organisation.directory import unit_by_code
from workflow.organisation.roles import resolve_roles


@dataclass(frozen=True)
class TrialItem:
    """A task (or a letter to sign) the start creates, as its assignee will find it."""

    kind: str  # task | letter
    phase: str
    title: str
    assignee: str
    assignee_email: str
    unit: str | None
    site: str | None
    due_on: date | None
    required: bool
    period: str | None = None  # a recurring duty's occurrence


@dataclass(frozen=True)
class LaterSpec:
    """A task or duty of a later phase: created when the campaign enters it, for the role's
    holders."""

    phase: str
    kind: str  # task | duty
    title: str
    role: str
    per: str
    holders: tuple[str, ...]  # names of who holds the role now ("unit: name" for unit roles)


@dataclass
class TrialStart:
    """What starting would do: the items of the first phase, per person; the later phases' work;
    or the problems that refuse the start (``problems``)."""

    definition: Definition
    unit_code: str
    unit_name: str
    starts_on: date
    windows: list[tuple[str, Window]]
    items: list[TrialItem] = field(default_factory=list)
    later: list[LaterSpec] = field(default_factory=list)
    problems: list[StartProblem] = field(default_factory=list)
    notice: PlanNotice | None = None

    @property
    def refused(self) -> bool:
        return bool(self.problems)

    def per_person(self) -> list[tuple[str, list[TrialItem]]]:
        """The first phase's items grouped by assignee, in the order they first appear."""
        grouped: dict[str, list[TrialItem]] = {}
        for item in self.items:
            grouped.setdefault(item.assignee, []).append(item)
        return list(grouped.items())


def trial_start(
    session: Session,
    definition: Definition,
    unit_code: str,
    starts_on: date,
    *,
    by: Actor,
    clock: Clock,
    calendar: WorkingCalendar,
    title: str | None = None,
) -> TrialStart:
    """Run ``start_campaign`` and roll it back: what it would create, or why it is refused.

    Anything else the start refuses (no such unit, not theirs to start, the definition's version
    stored with other text) is raised as the start would raise it.
    """
    unit = unit_by_code(session, unit_code)
    trial = TrialStart(
        definition,
        unit.code,
        unit.name,
        starts_on,
        list(
            zip(
                definition.phase_ids(),
                planned_windows(definition, starts_on, calendar),
                strict=True,
            )
        ),
        notice=plan_notice(definition, starts_on),
    )
    savepoint = session.begin_nested()
    try:
        campaign = start_campaign(
            session,
            definition,
            unit_code,
            starts_on,
            by=by,
            clock=clock,
            calendar=calendar,
            title=title,
        )
        trial.items = _items(session, campaign.id)
    except StartRefused as refused:
        trial.problems = list(refused.problems)
    finally:
        savepoint.rollback()
    trial.later = _later(session, definition, unit)
    return trial


# --- helpers ------------------------------------------------------------------------------------


def _items(session: Session, campaign_id: int) -> list[TrialItem]:
    tasks = session.execute(
        select(Task, Person.name, Person.email, Unit.name, Site.name)
        .join(Person, Person.id == Task.assignee_id)
        .outerjoin(Unit, Unit.id == Task.unit_id)
        .outerjoin(Site, Site.id == Task.site_id)
        .where(Task.campaign_id == campaign_id)
        .order_by(Task.due_on, Task.id)
    )
    items = [
        TrialItem(
            "task",
            task.phase_key,
            task.title,
            name,
            email,
            unit,
            site,
            task.due_on,
            task.required,
            task.period,
        )
        for task, name, email, unit, site in tasks
    ]
    issuer = aliased(Person)
    letters = session.execute(
        select(Letter, issuer.name, issuer.email, Unit.name, Site.name)
        .join(issuer, issuer.id == Letter.issuer_id)
        .outerjoin(Unit, Unit.id == Letter.unit_id)
        .outerjoin(Site, Site.id == Letter.site_id)
        .where(Letter.campaign_id == campaign_id)
        .order_by(Letter.id)
    )
    # a drafted letter is first its issuer's to issue
    items += [
        TrialItem(
            "letter",
            letter.phase_key,
            letter.title,
            name,
            email,
            unit,
            site,
            letter.due_on,
            letter.required,
        )
        for letter, name, email, unit, site in letters
    ]
    return items


def _later(session: Session, definition: Definition, unit: Unit) -> list[LaterSpec]:
    resolution = resolve_roles(session, definition, unit)
    wanted = {person for people in resolution.holders.values() for person in people}
    names = dict(session.execute(select(Person.id, Person.name).where(Person.id.in_(wanted))).all())
    units = {unit.id: unit.name, **{child.id: child.name for child in resolution.units}}

    def holders(role: str) -> tuple[str, ...]:
        if role == RESPONSIBLE:
            return ()
        shown = []
        for (held, unit_id), people in resolution.holders.items():
            if held == role and people:
                first = names.get(people[0], "?")
                shown.append(first if unit_id == unit.id else f"{units[unit_id]}: {first}")
        return tuple(shown)

    later = []
    for phase in definition.phases[1:]:
        for task in phase.tasks:
            later.append(
                LaterSpec(
                    phase.id, "task", task.title, task.assignee, task.per, holders(task.assignee)
                )
            )
        for duty in definition.duties(phase.id):
            later.append(
                LaterSpec(
                    phase.id, "duty", duty.title, duty.assignee, duty.per, holders(duty.assignee)
                )
            )
    return later
