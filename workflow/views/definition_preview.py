"""A definition as its reader should see it before a campaign runs on it: each phase's planned
window, its tasks (who, per what, due when), its recurring duties with their next dates, the
escalation ladder, the targets and the assessment.

The dates are the engine's own: phase windows from ``plan.planned_windows``, a task's due date from
``plan.spec_due``, a duty's periods from ``recurring.period_starts`` and each occurrence's due date
counted as the sweep counts it, all on the working calendar given (China's, with the operator's
entries). So the preview cannot promise a date the campaign would not keep.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from workflow.calendar import WorkingCalendar
from workflow.campaigns.recurring import period_starts
from workflow.clock import as_utc
from workflow.definitions.plan import (
    PlanNotice,
    Window,
    plan_notice,
    planned_windows,
    spec_due,
    text_shift,
)
from workflow.definitions.reader import (
    Definition,
    EscalationSpec,
    PhaseSpec,
    RecurringSpec,
    TargetSpec,
)
from workflow.durations import count

# how many coming dates of each recurring duty the preview lists
NEXT_DATES = 5
# a duty of a phase with no planned end: its dates are looked for this far ahead
OPEN_PHASE_HORIZON = timedelta(days=3 * 366)


@dataclass(frozen=True)
class TaskLine:
    id: str
    title: str
    assignee: str  # a role id, or ``responsible``
    per: str
    list: str | None
    due: str | None  # as the definition writes it
    due_on: date | None  # counted for the chosen start day
    estimated: bool
    required: bool


@dataclass(frozen=True)
class Occurrence:
    starts_on: date
    due_on: date | None
    estimated: bool


@dataclass(frozen=True)
class DutyLine:
    id: str
    title: str
    assignee: str
    per: str
    list: str | None
    every: str
    on: str | int | None
    due: str | None
    next: tuple[Occurrence, ...]  # the first NEXT_DATES occurrences within its planned window
    required: bool


@dataclass(frozen=True)
class PhaseLine:
    id: str
    title: str
    duration: str | None
    window: Window
    tasks: tuple[TaskLine, ...]
    duties: tuple[DutyLine, ...]
    letters: tuple[str, ...]  # titles of the responsibility letters drafted on entry


@dataclass(frozen=True)
class DefinitionPreview:
    definition: Definition
    starts_on: date
    phases: tuple[PhaseLine, ...]
    campaign_duties: tuple[DutyLine, ...]  # top-level ``recurring:``, over the phases they cover
    escalation: EscalationSpec | None
    targets: tuple[TargetSpec, ...]
    notice: PlanNotice | None


def preview_definition(
    definition: Definition, starts_on: date, calendar: WorkingCalendar
) -> DefinitionPreview:
    """The preview of ``definition`` for a campaign started on ``starts_on``."""
    windows = planned_windows(definition, starts_on, calendar)
    shift = text_shift(definition, starts_on)
    phases = []
    for phase, window in zip(definition.phases, windows, strict=True):
        entered = window.start or starts_on
        tasks = tuple(
            _task_line(spec, spec_due(spec, window, entered, shift=shift, calendar=calendar))
            for spec in phase.tasks
        )
        duties = tuple(
            _duty_line(duty, window, definition.timezone, calendar) for duty in phase.recurring
        )
        phases.append(
            PhaseLine(
                phase.id,
                phase.title,
                str(phase.duration) if phase.duration else None,
                window,
                tasks,
                duties,
                tuple(letter.title for letter in phase.letters),
            )
        )
    campaign_duties = tuple(
        _duty_line(duty, _covered(definition.phases, windows, duty), definition.timezone, calendar)
        for duty in definition.recurring
    )
    return DefinitionPreview(
        definition,
        starts_on,
        tuple(phases),
        campaign_duties,
        definition.escalation,
        definition.targets,
        plan_notice(definition, starts_on),
    )


def next_occurrences(
    duty: RecurringSpec, window: Window, tz: str, calendar: WorkingCalendar
) -> tuple[Occurrence, ...]:
    """The first NEXT_DATES occurrences of ``duty`` running through ``window``: each period's first
    day, as the sweep creates it, and its due date."""
    if window.start is None:
        return ()
    zone = ZoneInfo(tz)
    after = as_utc(datetime.combine(window.start, time.min, tzinfo=zone) - timedelta(seconds=1))
    end = window.end or window.start + OPEN_PHASE_HORIZON
    until = as_utc(datetime.combine(end, time.min, tzinfo=zone) - timedelta(seconds=1))
    found = []
    for _key, starts_on, _at in period_starts(duty, tz, after, until):
        due = count(duty.due, starts_on, calendar) if duty.due else None
        found.append(Occurrence(starts_on, due.day if due else None, bool(due and due.estimated)))
        if len(found) == NEXT_DATES:
            break
    return tuple(found)


# --- helpers ------------------------------------------------------------------------------------


def _task_line(spec, due) -> TaskLine:  # type: ignore[no-untyped-def]
    return TaskLine(
        spec.id,
        spec.title,
        spec.assignee,
        spec.per,
        spec.list,
        str(spec.due) if spec.due else None,
        due.day if due else None,
        bool(due and due.estimated),
        spec.required,
    )


def _duty_line(duty: RecurringSpec, window: Window, tz: str, calendar: WorkingCalendar) -> DutyLine:
    return DutyLine(
        duty.id,
        duty.title,
        duty.assignee,
        duty.per,
        duty.list,
        duty.every,
        duty.on,
        str(duty.due) if duty.due else None,
        next_occurrences(duty, window, tz, calendar),
        duty.required,
    )


def _covered(phases: tuple[PhaseSpec, ...], windows: list[Window], duty: RecurringSpec) -> Window:
    """The window a campaign-wide duty runs through: from the first phase it covers to the end of
    the last."""
    covered = [
        window
        for phase, window in zip(phases, windows, strict=True)
        if duty.phases is None or phase.id in duty.phases
    ]
    if not covered:
        return Window(None, None)
    return Window(covered[0].start, covered[-1].end)
