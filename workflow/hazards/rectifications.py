"""Hazards and their rectification (隐患整改): register, submit, verify (销号), reject, extend, look
back.

"Register every major hazard and unsafe factor one by one; propose a
rectification; supervise it until solved; what cannot be solved at once gets
temporary measures and a deadline" (the seed documents, DOMAIN.md §6). The
responsible person cannot move their own deadline: they ask, a coordinator
decides, and the original deadline is kept for assessment.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow import audit, form_keys
from workflow.access import (
    Need,
    assignable_person,
    campaign_for,
    campaign_unit_ids,
    in_leading_group,
    require_coordinator,
)
from workflow.audit import Actor
from workflow.calendar import WorkingCalendar
from workflow.campaigns.inspections import is_inspection
from workflow.clock import Clock, local_date
from workflow.definitions.catalogue import stored_definition
from workflow.definitions.reader import Definition
from workflow.durations import Counted, Duration, count, parse_duration
from workflow.errors import Forbidden, InvalidInput, NotFound, TransitionRefused
from workflow.escalation import queue
from workflow.escalation.levels import first_step_at, steps_for
from workflow.limits import (
    LOCATION_LIMIT,
    MAX_WORKING_DAYS,
    NOTE_LIMIT,
    TEXT_LIMIT,
    check_not_too_far,
)
from workflow.machines import CLOSED, DRAFT, EXTENSION_MACHINE, RECTIFICATION_MACHINE, fire
from workflow.mail import texts as mailtext
from workflow.mail.outbox import enqueue
from workflow.mail.sent_back import tell_sent_back
from workflow.models import (
    Campaign,
    DeadlineExtension,
    Person,
    Rectification,
    RoleBinding,
    Site,
    Task,
    Unit,
)
from workflow.organisation.roles import holders_of
from workflow.people import stand_ins

SEVERITIES = ("minor", "major")
# when a definition has no escalation block (corrective-action tools derive due days from severity)
DEFAULT_DEADLINES = {"major": parse_duration("5wd"), "minor": parse_duration("15wd")}


@dataclass
class HazardReport:
    """What an inspector found; ``deadline`` or ``deadline_working_days`` or neither (the severity's
    default)."""

    description: str
    severity: str = "minor"
    unit: str | None = None  # unit code
    site: str | None = None  # key site code
    location: str | None = None
    # e-mail; default: the site's, else the unit's responsible person
    responsible: str | None = None
    deadline: date | None = None
    deadline_working_days: int | None = None
    temporary_measures: str | None = None
    evidence: str | None = None
    task_id: int | None = None


def register_hazard(
    session: Session,
    campaign_id: int,
    report: HazardReport,
    *,
    by: Actor,
    clock: Clock,
    calendar: WorkingCalendar,
    base_url: str,
    form_key: str | None = None,
) -> Rectification:
    """Register a hazard and open its rectification; the responsible person is mailed at once.

    ``form_key``: the page form's one-time key; posted again, it registers nothing
    (``form_keys.AlreadySubmitted``).
    """
    now = clock.now()
    claimed = form_keys.claim(session, form_key, by=by, now=now, entity="rectification")
    task = _task_of(session, campaign_id, report.task_id)
    # a coordinator registers hazards; an inspector, those their open inspection found
    inspecting = task is not None and _is_own_open_inspection(task, by)
    need = Need.OWN_ITEMS if inspecting else Need.COORDINATOR
    campaign = campaign_for(session, campaign_id, by, need, doing="register hazards")
    definition = stored_definition(campaign.definition)
    if campaign.state in (DRAFT, CLOSED):
        raise TransitionRefused(
            f"campaign {campaign.id} is {campaign.state}: hazards cannot be registered"
        )
    description = _text(report.description, "description", required=True)
    if report.severity not in SEVERITIES:
        raise InvalidInput(
            f"severity must be one of {', '.join(SEVERITIES)}; got {report.severity!r}"
        )
    if task is not None and not (report.site or report.unit):
        # found where the task (an inspection, say) looked
        report = replace(
            report,
            site=task.site.code if task.site else None,
            unit=task.unit.code if task.unit else None,
        )
    site, unit = _place(session, campaign, report)
    if report.task_id is not None and task is None:
        raise InvalidInput(f"no task {report.task_id} in this campaign")
    responsible = _responsible(session, campaign, definition, report, site, unit)
    today = local_date(now, campaign.timezone)
    default = (
        definition.escalation.deadline_by_severity.get(report.severity)
        if definition.escalation
        else None
    )
    counted = _deadline(
        today,
        report.deadline,
        report.deadline_working_days,
        default or DEFAULT_DEADLINES[report.severity],
        calendar,
    )
    deadline = counted.day

    rectification = Rectification(
        campaign_id=campaign.id,
        phase_key=campaign.state,
        unit_id=unit.id if unit else None,
        site_id=site.id if site else None,
        task_id=report.task_id,
        location=_text(report.location, "location", limit=LOCATION_LIMIT),
        description=description,
        severity=report.severity,
        responsible_id=responsible.id,
        temporary_measures=_text(report.temporary_measures, "temporary_measures"),
        evidence=_text(report.evidence, "evidence"),
        state=RECTIFICATION_MACHINE.initial,
        original_deadline=deadline,
        # the day, its end, and whether it is an estimate to recount when the year is imported
        **counted.columns("deadline", campaign.timezone),
        deadline_round=0,
        extensions=0,
        registered_at=now,
        registered_by_id=by.person_id,
    )
    session.add(rectification)
    session.flush()
    form_keys.created(session, claimed, rectification.id)
    queue.schedule(
        session,
        "rectification",
        rectification.id,
        0,
        first_step_at(steps_for(definition.escalation, deadline, campaign.timezone, calendar, now)),
    )
    audit.record(
        session,
        at=now,
        by=by,
        entity="rectification",
        entity_id=rectification.id,
        event="register",
        from_state=None,
        to_state=rectification.state,
        campaign_id=campaign.id,
        note=f"{report.severity}; deadline {deadline.isoformat()}; responsible {responsible.email}",
    )
    subject, body = mailtext.hazard_registered_mail(
        recipient=responsible,
        item=_line(rectification, site, unit, responsible),
        campaign_title=campaign.title,
        registered_by=by.label,
        base_url=base_url,
    )
    # to them, and to whoever stands in for them while they are away
    stand_ins.enqueue_to_person(
        session,
        responsible,
        today,
        key=f"hazard-{rectification.id}",
        subject=subject,
        body=body,
        now=now,
        campaign_id=campaign.id,
    )
    if site is not None:
        _tell_of_site_hazard(
            session, campaign, definition, rectification, site, unit, by, now, base_url
        )
    return rectification


def submit_rectification(
    session: Session,
    rectification_id: int,
    *,
    by: Actor,
    clock: Clock,
    note: str | None,
    evidence: str | None = None,
    form_key: str | None = None,
) -> Rectification:
    """The responsible person reports the hazard fixed, with a note (open → submitted).

    ``form_key``: the page form's one-time key; posted again, it is answered with
    ``form_keys.AlreadySubmitted`` rather than as a move the state no longer allows.
    """
    form_keys.claim(
        session,
        form_key,
        by=by,
        now=clock.now(),
        entity="rectification",
        entity_id=rectification_id,
    )
    rectification, campaign, definition = _load(session, rectification_id, by, now=clock.now())
    holder = _holder(session, rectification, campaign, by, clock.now())
    if not (by.is_operator or holder is not None):
        raise Forbidden("only the responsible person reports a rectification done")
    by = holder or by  # a stand-in is recorded as acting for the responsible person
    text = _text(note, "note", required=True, limit=NOTE_LIMIT)
    now = clock.now()
    before, after = fire(
        RECTIFICATION_MACHINE, "submit", rectification, f"rectification {rectification.id}"
    )
    rectification.submitted_at, rectification.submission_note = now, text
    if evidence:
        rectification.evidence = "\n".join(
            filter(None, [rectification.evidence, _text(evidence, "evidence")])
        )
    _audit(session, rectification, by, now, "submit", before, after, text)
    return rectification


def verify_rectification(
    session: Session, rectification_id: int, *, by: Actor, clock: Clock, note: str | None = None
) -> Rectification:
    """A coordinator verifies the rectification and closes it (销号: submitted → closed)."""
    rectification, campaign, definition = _load(session, rectification_id, by)
    require_coordinator(session, campaign, by)
    now = clock.now()
    before, after = fire(
        RECTIFICATION_MACHINE, "verify", rectification, f"rectification {rectification.id}"
    )
    rectification.closed_at, rectification.closed_by_id = now, by.person_id
    _audit(
        session,
        rectification,
        by,
        now,
        "verify",
        before,
        after,
        _text(note, "note", limit=NOTE_LIMIT),
    )
    return rectification


def reject_rectification(
    session: Session,
    rectification_id: int,
    *,
    by: Actor,
    clock: Clock,
    calendar: WorkingCalendar,
    reason: str | None,
    deadline: date | None = None,
    deadline_working_days: int | None = None,
    base_url: str | None = None,
) -> Rectification:
    """A coordinator finds it not fixed (submitted → open); a reason and a new deadline are
    required. With ``base_url`` (the pages, the API), the responsible person is mailed the reason,
    the new deadline and the link."""
    return _back_to_open(
        session,
        rectification_id,
        "reject",
        by=by,
        clock=clock,
        calendar=calendar,
        reason=reason,
        deadline=deadline,
        deadline_working_days=deadline_working_days,
        base_url=base_url,
    )


def reopen_rectification(
    session: Session,
    rectification_id: int,
    *,
    by: Actor,
    clock: Clock,
    calendar: WorkingCalendar,
    reason: str | None,
    deadline: date | None = None,
    deadline_working_days: int | None = None,
) -> Rectification:
    """A look-back (回头看) finds a closed hazard back: reopen it with a reason and a new
    deadline."""
    return _back_to_open(
        session,
        rectification_id,
        "reopen",
        by=by,
        clock=clock,
        calendar=calendar,
        reason=reason,
        deadline=deadline,
        deadline_working_days=deadline_working_days,
    )


def request_extension(
    session: Session,
    rectification_id: int,
    *,
    by: Actor,
    clock: Clock,
    calendar: WorkingCalendar,
    reason: str | None,
    until: date | None,
) -> DeadlineExtension:
    """The responsible person asks for a later deadline, with a reason; a coordinator decides.

    The date asked for is bounded as a deadline given at registration is (workflow/limits.py), so a
    request that could never be approved is refused now, not when a coordinator approves it.
    """
    rectification, campaign, definition = _load(session, rectification_id, by, now=clock.now())
    holder = _holder(session, rectification, campaign, by, clock.now())
    if not (by.is_operator or holder is not None):
        raise Forbidden("only the responsible person asks for an extension")
    by = holder or by  # a stand-in is recorded as acting for the responsible person
    text = _text(reason, "reason", required=True, limit=NOTE_LIMIT)
    before, after = fire(
        RECTIFICATION_MACHINE,
        "request_extension",
        rectification,
        f"rectification {rectification.id}",
        refused=f"rectification {rectification.id} is {rectification.state}: nothing to extend",
    )
    if until is None:
        raise InvalidInput("until is required: the deadline asked for (YYYY-MM-DD)")
    if until <= rectification.deadline:
        raise InvalidInput(
            "the requested deadline must be after the current one "
            f"({rectification.deadline.isoformat()})"
        )
    now = clock.now()
    check_not_too_far(
        until,
        "the requested deadline",
        today=local_date(now, campaign.timezone),
        calendar=calendar,
    )
    pending = session.scalar(
        select(DeadlineExtension.id).where(
            DeadlineExtension.rectification_id == rectification.id,
            DeadlineExtension.state == "requested",
        )
    )
    if pending is not None:
        raise TransitionRefused(f"extension request {pending} is still waiting for a decision")
    extension = DeadlineExtension(
        rectification_id=rectification.id,
        requested_by_id=by.person_id,
        requested_at=now,
        reason=text,
        requested_deadline=until,
        state=EXTENSION_MACHINE.initial,
    )
    session.add(extension)
    session.flush()
    _audit(
        session,
        rectification,
        by,
        now,
        "request_extension",
        before,
        after,
        f"until {until.isoformat()}: {text}",
    )
    return extension


def decide_extension(
    session: Session,
    extension_id: int,
    *,
    by: Actor,
    clock: Clock,
    calendar: WorkingCalendar,
    approve: bool,
    note: str | None = None,
) -> DeadlineExtension:
    """A coordinator approves (the deadline moves, the original is kept) or refuses an extension
    request."""
    rectification_id = session.scalar(
        select(DeadlineExtension.rectification_id).where(DeadlineExtension.id == extension_id)
    )
    try:
        if rectification_id is None:
            raise NotFound("")
        # its rectification locked first, as every move of it is (request_extension too)
        rectification, campaign, definition = _load(session, rectification_id, by)
    except NotFound:
        # the same answer whether it does not exist or is not theirs to see
        raise NotFound(f"no extension request {extension_id}") from None
    require_coordinator(session, campaign, by)
    # then the request itself, read afresh under its lock: checked on a copy read before the lock,
    # two coordinators deciding at once on PostgreSQL both approved it (the deadline moved twice)
    extension = session.scalars(
        select(DeadlineExtension)
        .where(DeadlineExtension.id == extension_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    fire(
        EXTENSION_MACHINE,
        "approve" if approve else "refuse",
        extension,
        f"extension request {extension.id}",
        refused=f"extension request {extension.id} was already {extension.state}",
    )
    now = clock.now()
    if approve:  # a request made before dates were bounded: refused, not an overflow on approval
        check_not_too_far(
            extension.requested_deadline,
            "the requested deadline",
            today=local_date(now, campaign.timezone),
            calendar=calendar,
        )
    extension.decided_by_id, extension.decided_at = by.person_id, now
    extension.decision_note = _text(note, "note", limit=NOTE_LIMIT)
    if approve:
        rectification.extensions += 1
        _move_deadline(
            session,
            rectification,
            campaign,
            definition,
            Counted.given(extension.requested_deadline),
            now,
            calendar,
        )
    _audit(
        session,
        rectification,
        by,
        now,
        "approve_extension" if approve else "refuse_extension",
        rectification.state,
        rectification.state,
        f"until {extension.requested_deadline.isoformat()}"
        + (f": {extension.decision_note}" if note else ""),
    )
    return extension


def get_rectification(
    session: Session, rectification_id: int, by: Actor, now: datetime | None = None
) -> Rectification:
    """A rectification its viewer may see: the responsible person, a coordinator or leader of the
    campaign; given ``now``, the responsible person's stand-in that day as well."""
    return _load(session, rectification_id, by, for_update=False, now=now)[0]


def acts_as_responsible(
    session: Session, rectification: Rectification, by: Actor, now: datetime
) -> bool:
    """Whether ``by`` reports this rectification fixed: its responsible person, or their stand-in
    that day (what the page offers)."""
    return _holder(session, rectification, rectification.campaign, by, now) is not None


def overdue(rectification: Rectification, now: datetime) -> bool:
    """Overdue is derived, never stored: open and past the end of its deadline day."""
    return rectification.state == "open" and now >= rectification.deadline_at


# --- helpers ------------------------------------------------------------------------------------


def _back_to_open(
    session: Session,
    rectification_id: int,
    event: str,
    *,
    by: Actor,
    clock: Clock,
    calendar: WorkingCalendar,
    reason: str | None,
    deadline: date | None,
    deadline_working_days: int | None,
    base_url: str | None = None,
) -> Rectification:
    rectification, campaign, definition = _load(session, rectification_id, by)
    require_coordinator(session, campaign, by)
    text = _text(reason, "reason", required=True, limit=NOTE_LIMIT)
    if deadline is None and deadline_working_days is None:
        raise InvalidInput("a new deadline is required (deadline or deadline_working_days)")
    now = clock.now()
    new_deadline = _deadline(
        local_date(now, campaign.timezone), deadline, deadline_working_days, None, calendar
    )
    before, after = fire(
        RECTIFICATION_MACHINE, event, rectification, f"rectification {rectification.id}"
    )
    rectification.submitted_at = None
    rectification.closed_at, rectification.closed_by_id = None, None
    _move_deadline(session, rectification, campaign, definition, new_deadline, now, calendar)
    _audit(
        session,
        rectification,
        by,
        now,
        event,
        before,
        after,
        f"{text} (new deadline {new_deadline.day.isoformat()})",
    )
    if base_url is not None and event == "reject":
        tell_sent_back(
            session,
            kind="rectification",
            item_id=rectification.id,
            title=rectification.description,
            person=rectification.responsible,
            campaign=campaign,
            by=by,
            reason=text or "",
            deadline=new_deadline.day,
            now=now,
            base_url=base_url,
        )
    return rectification


def _move_deadline(
    session: Session,
    rectification: Rectification,
    campaign: Campaign,
    definition: Definition,
    counted: Counted,
    now: datetime,
    calendar: WorkingCalendar,
) -> None:
    deadline = counted.day
    counted.apply(rectification, "deadline", campaign.timezone)
    # a new deadline starts escalation over: each level once per deadline
    rectification.deadline_round += 1
    # a submitted one waits for a coordinator; a rejection moves it again
    if rectification.state == "open":
        queue.schedule(
            session,
            "rectification",
            rectification.id,
            rectification.deadline_round,
            first_step_at(
                steps_for(definition.escalation, deadline, campaign.timezone, calendar, now)
            ),
        )


def _load(
    session: Session,
    rectification_id: int,
    by: Actor,
    for_update: bool = True,
    now: datetime | None = None,
) -> tuple[Rectification, Campaign, Definition]:
    query = (
        select(Rectification, Campaign)
        .join(Campaign, Campaign.id == Rectification.campaign_id)
        .where(Rectification.id == rectification_id)
    )
    if for_update:  # a move reads and writes under the row lock; a plain read waits for no writer
        query = query.with_for_update(of=Rectification).execution_options(populate_existing=True)
    row = session.execute(query).first()
    if row is None:
        raise NotFound(f"no rectification {rectification_id}")
    rectification, campaign = row
    if not (
        by.person_id == rectification.responsible_id
        or in_leading_group(session, campaign.id, campaign.unit_id, by)
        or (now is not None and _holder(session, rectification, campaign, by, now))
    ):
        raise NotFound(f"no rectification {rectification_id}")  # its existence is private
    return rectification, campaign, stored_definition(campaign.definition)


def _holder(
    session: Session, rectification: Rectification, campaign: Campaign, by: Actor, now: datetime
) -> Actor | None:
    """``by`` as the responsible person, or as their stand-in that day (named "for" them), or
    None."""
    today = local_date(now, campaign.timezone)
    return stand_ins.acting_actor(session, by, rectification.responsible_id, today)


def _task_of(session: Session, campaign_id: int, task_id: int | None) -> Task | None:
    """The task a hazard was found in, when it is one of this campaign's (else the check below
    refuses it)."""
    task = session.get(Task, task_id) if task_id is not None else None
    return task if task is not None and task.campaign_id == campaign_id else None


def _is_own_open_inspection(task: Task, by: Actor) -> bool:
    """Whether ``by`` is carrying out this inspection now: they register what it finds."""
    if by.person_id is None or task.state != "open" or task.assignee_id != by.person_id:
        return False
    return is_inspection(stored_definition(task.campaign.definition), task)


def _place(
    session: Session, campaign: Campaign, report: HazardReport
) -> tuple[Site | None, Unit | None]:
    """The key site and unit of the hazard; both must belong to the campaign."""
    allowed = campaign_unit_ids(session, campaign)
    site = None
    if report.site:
        site = session.scalar(select(Site).where(Site.code == report.site))
        if site is None or site.unit_id not in allowed:
            raise InvalidInput(f"no key site '{report.site}' in this campaign")
    unit = session.get(Unit, site.unit_id) if site else None
    if report.unit:
        named = session.scalar(select(Unit).where(Unit.code == report.unit))
        if named is None or named.id not in allowed:
            raise InvalidInput(f"no unit '{report.unit}' in this campaign")
        if unit is not None and named.id != unit.id:
            raise InvalidInput(f"key site '{report.site}' is not in unit '{report.unit}'")
        unit = named
    return site, unit


def _responsible(
    session: Session,
    campaign: Campaign,
    definition: Definition,
    report: HazardReport,
    site: Site | None,
    unit: Unit | None,
) -> Person:
    """The named person, else the site's responsible person, else the unit's (谁主管谁负责)."""
    if report.responsible:
        return assignable_person(
            session, campaign, report.responsible, what="the responsible person"
        )
    if site is not None and site.responsible_id is not None:
        return session.get(Person, site.responsible_id)  # type: ignore[return-value]
    if unit is not None and unit.id != campaign.unit_id:
        unit_roles = [role.id for role in definition.roles if role.scope == "unit"]
        holder = session.scalar(
            select(RoleBinding.person_id)
            .where(
                RoleBinding.campaign_id == campaign.id,
                RoleBinding.unit_id == unit.id,
                RoleBinding.role.in_(unit_roles),
            )
            .order_by(RoleBinding.id)
            .limit(1)
        )
        if holder is not None:
            return session.get(Person, holder)  # type: ignore[return-value]
    raise InvalidInput(
        "name the responsible person (no key site or sub-unit with a responsible person was given)"
    )


def _deadline(
    today: date,
    deadline: date | None,
    working_days: int | None,
    default: Duration | None,
    calendar: WorkingCalendar,
) -> Counted:
    if deadline is not None and working_days is not None:
        raise InvalidInput("give either deadline or deadline_working_days, not both")
    if working_days is not None:
        if (
            isinstance(working_days, bool)
            or not isinstance(working_days, int)
            or not 1 <= working_days <= MAX_WORKING_DAYS
        ):
            raise InvalidInput(
                f"deadline_working_days must be a whole number from 1 to {MAX_WORKING_DAYS}"
            )
        return count(Duration(working_days, "wd"), today, calendar)
    if deadline is not None:
        if not isinstance(deadline, date):
            raise InvalidInput("deadline must be a date (YYYY-MM-DD)")
        if deadline < today:
            raise InvalidInput(f"the deadline {deadline.isoformat()} is in the past")
        # a date a person typed is theirs, not an estimate, whatever year it falls in
        return Counted.given(
            check_not_too_far(deadline, "the deadline", today=today, calendar=calendar)
        )
    if default is None:
        raise InvalidInput("a deadline is required (deadline or deadline_working_days)")
    return count(default, today, calendar)


def _text(
    value: str | None, field: str, *, required: bool = False, limit: int = TEXT_LIMIT
) -> str | None:
    if value is not None and not isinstance(value, str):
        raise InvalidInput(f"{field} must be text")
    cleaned = (value or "").replace("\x00", "").strip()
    if required and not cleaned:
        raise InvalidInput(f"{field} is required")
    # as given (workflow/limits.py): what the forms and the API document count
    if len(value or "") > limit:
        raise InvalidInput(f"{field} is too long ({len(value or '')} characters; at most {limit})")
    return cleaned or None


def _line(
    rectification: Rectification, site: Site | None, unit: Unit | None, responsible: Person
) -> mailtext.ItemLine:
    return mailtext.ItemLine(
        kind="rectification",
        id=rectification.id,
        title=rectification.description,
        site=site.name if site else None,
        unit=unit.name if unit else None,
        deadline=rectification.deadline,
        severity=rectification.severity,
        overdue_working_days=0,
        responsible=responsible.name,
        temporary_measures=rectification.temporary_measures,
        estimated=bool(rectification.deadline_estimated),
    )


def _tell_of_site_hazard(
    session: Session,
    campaign: Campaign,
    definition: Definition,
    rectification: Rectification,
    site: Site,
    unit: Unit | None,
    by: Actor,
    now: datetime,
    base_url: str,
) -> None:
    """The roles the definition names (``notify_site_hazards``: the railway's liaisons) are told
    of a hazard at a key site, once each; the responsible person has had their own mail."""
    roles = definition.escalation.notify_site_hazards if definition.escalation else ()
    responsible = session.get(Person, rectification.responsible_id)
    for person in holders_of(session, campaign, definition, roles, unit):
        if person.id == rectification.responsible_id:
            continue
        subject, body = mailtext.site_hazard_mail(
            recipient=person,
            item=_line(rectification, site, unit, responsible),  # type: ignore[arg-type]
            campaign_title=campaign.title,
            registered_by=by.label,
            base_url=base_url,
        )
        enqueue(
            session,
            key=f"hazard-{rectification.id}-site-p{person.id}",
            recipient=person.email,
            subject=subject,
            body=body,
            now=now,
            campaign_id=campaign.id,
        )


def _audit(
    session: Session,
    rectification: Rectification,
    by: Actor,
    now: datetime,
    event: str,
    before: str | None,
    after: str | None,
    note: str | None,
) -> None:
    audit.record(
        session,
        at=now,
        by=by,
        entity="rectification",
        entity_id=rectification.id,
        event=event,
        from_state=before,
        to_state=after,
        campaign_id=rectification.campaign_id,
        note=note,
    )
    session.flush()
