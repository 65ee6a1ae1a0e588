"""Reports to outside bodies (上报): who told the railway department, the police … of an incident,
when and how; and the one escalation of an incident not reported in time.

The railway text says an incident "must be reported at once to the railway
department and the police" (立即向铁路部门和公安机关报告). Telling them happens on
the phone, outside the engine; what the engine keeps is the record of it, one
per body the kind's ``report_to`` names, so that the leading group sees which
incident is still unreported and the ledger shows it was done. A kind with
``report_within`` gives its incidents a time limit from when they are recorded
(the moment the town knows of it): a body not told by then escalates the
incident once, to the kind's ``notify`` roles and whoever recorded it, like an
overdue item (an ``escalations`` row, red, on the leaders' page until all are
told).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow import audit, form_keys
from workflow.access import campaign_for, in_leading_group
from workflow.assessment.incidents import declared_kind, holds_role_in
from workflow.audit import Actor
from workflow.clock import Clock, local_date, local_time
from workflow.definitions.catalogue import stored_definition
from workflow.definitions.reader import IncidentKind
from workflow.durations import time_limit_text
from workflow.errors import Conflict, Forbidden, InvalidInput, NotFound, TransitionRefused
from workflow.limits import TEXT_LIMIT
from workflow.machines import CLOSED
from workflow.mail.outbox import enqueue
from workflow.models import Campaign, Escalation, Incident, OutsideReport, Person, Unit
from workflow.organisation.roles import holders_of

# the colour and level an unreported incident reaches: the leaders' page shows it with the overdue
UNREPORTED_LEVEL = 1
UNREPORTED_COLOUR = "red"


def record_outside_report(
    session: Session,
    incident_id: int,
    body: str | None,
    *,
    reported_at: datetime | None,
    note: str | None,
    by: Actor,
    clock: Clock,
    form_key: str | None = None,
    in_campaign: int | None = None,
) -> OutsideReport:
    """Record that ``body`` was told of the incident at ``reported_at`` (default: now; a time
    without a zone is the campaign's wall clock, as a person types it).

    Who may: whoever may record the incident (the leading group, or the people of
    its unit). Refused, nothing written: a body the kind does not name, one
    already recorded, a time in the future or before the incident's day.
    ``form_key``: the page form's one-time key (``form_keys.AlreadySubmitted``);
    ``in_campaign``: the campaign the address names, which must be the incident's.
    """
    now = clock.now()
    claimed = form_keys.claim(session, form_key, by=by, now=now, entity="outside_report")
    incident = session.get(Incident, incident_id)
    if incident is None or in_campaign not in (None, incident.campaign_id):
        raise NotFound(f"no incident {incident_id}")
    campaign = campaign_for(session, incident.campaign_id, by)
    unit = incident.unit
    if not (
        in_leading_group(session, campaign.id, campaign.unit_id, by)
        or (unit is not None and holds_role_in(session, campaign, unit, by))
    ):
        raise Forbidden("only the leading group or the people of the incident's unit record this")
    if campaign.state == CLOSED:
        raise TransitionRefused(f"campaign {campaign.id} is closed: nothing more is recorded in it")
    kind = declared_kind(stored_definition(campaign.definition), incident.kind)
    named = (body or "").strip()
    if not kind.report_to:
        raise InvalidInput(f"incidents of kind '{kind.id}' are not reported to outside bodies")
    if named not in kind.report_to:
        raise InvalidInput(
            f"{named or 'body'!r} is not a body this kind is reported to "
            f"(report to: {'、'.join(kind.report_to)})"
        )
    earlier = session.scalar(
        select(OutsideReport).where(
            OutsideReport.incident_id == incident.id, OutsideReport.body == named
        )
    )
    if earlier is not None:
        raise Conflict(
            f"the report to {named} is already recorded "
            f"({local_time(earlier.reported_at, campaign.timezone):%Y-%m-%d %H:%M})"
        )
    # on the campaign's clock, as the person reads it back (stored in UTC all the same)
    when = local_time(
        now if reported_at is None else _aware(reported_at, campaign.timezone), campaign.timezone
    )
    if when > now:
        raise InvalidInput(f"reported_at {when.isoformat()} is in the future")
    if local_date(when, campaign.timezone) < incident.occurred_on:
        raise InvalidInput(
            f"reported_at {when.isoformat()} is before the incident's day "
            f"{incident.occurred_on.isoformat()}"
        )
    text = (note or "").replace("\x00", "").strip() or None
    if len(note or "") > TEXT_LIMIT:
        raise InvalidInput(f"note is too long ({len(note or '')} characters; at most {TEXT_LIMIT})")
    report = OutsideReport(
        incident_id=incident.id,
        body=named,
        reported_at=when,
        reported_by_id=by.person_id,
        note=text,
        recorded_at=now,
    )
    session.add(report)
    session.flush()
    form_keys.created(session, claimed, incident.id)
    told = set(
        session.scalars(select(OutsideReport.body).where(OutsideReport.incident_id == incident.id))
    )
    if told >= set(kind.report_to):
        incident.report_due_at = None  # all told: nothing for the sweep to look at
    audit.record(
        session,
        at=now,
        by=by,
        entity="incident",
        entity_id=incident.id,
        event="report",
        from_state=None,
        to_state=named,
        campaign_id=campaign.id,
        note=f"{when.isoformat()}" + (f": {text[:200]}" if text else ""),
    )
    return report


def escalate_unreported(session: Session, now: datetime, base_url: str) -> int:
    """Escalate, once each, the incidents whose time to report ran out with a body untold; return
    how many. Looks at each incident with a limit once, when its limit has passed."""
    incidents = session.scalars(
        select(Incident)
        .where(Incident.report_due_at.is_not(None), Incident.report_due_at <= now)
        .order_by(Incident.report_due_at, Incident.id)
        .with_for_update(skip_locked=True)
    ).all()
    escalated = 0
    for incident in incidents:
        due_at = incident.report_due_at
        incident.report_due_at = None
        campaign = session.get(Campaign, incident.campaign_id)
        if due_at is None or campaign is None or campaign.state == CLOSED:
            continue
        definition = stored_definition(campaign.definition)
        kind = declared_kind(definition, incident.kind)
        told_in_time = set(
            session.scalars(
                select(OutsideReport.body).where(
                    OutsideReport.incident_id == incident.id, OutsideReport.reported_at <= due_at
                )
            )
        )
        untold = [body for body in kind.report_to if body not in told_in_time]
        if not untold:
            continue
        unit = incident.unit
        people = holders_of(session, campaign, definition, kind.notify, unit)
        recorder = session.get(Person, incident.recorded_by_id) if incident.recorded_by_id else None
        if recorder is not None and recorder.active and recorder not in people:
            people.append(recorder)
        session.add(
            Escalation(
                campaign_id=campaign.id,
                item_kind="incident",
                item_id=incident.id,
                deadline_round=0,
                level=UNREPORTED_LEVEL,
                colour=UNREPORTED_COLOUR,
                deadline=local_date(due_at, campaign.timezone),
                due_at=due_at,
                reached_at=now,
                recipients=",".join(person.email for person in people),
            )
        )
        for person in people:
            subject, body = unreported_mail(
                person.name, kind, unit, incident, untold, campaign, base_url
            )
            enqueue(
                session,
                key=f"incident-unreported-{incident.id}-p{person.id}",
                recipient=person.email,
                subject=subject,
                body=body,
                now=now,
                campaign_id=campaign.id,
            )
        escalated += 1
    return escalated


def unreported_mail(
    name: str,
    kind: IncidentKind,
    unit: Unit | None,
    incident: Incident,
    untold: list[str],
    campaign: Campaign,
    base_url: str,
) -> tuple[str, str]:
    """Subject and body of the escalation of an incident not reported in time (Chinese first)."""
    limit = time_limit_text(kind.report_within) if kind.report_within else ""
    where = unit.name if unit else ""
    bodies = "、".join(untold)
    recorded = local_time(incident.recorded_at, campaign.timezone)
    subject = (
        f"【未按时上报】{where}：{kind.title}未在{limit}内报告{bodies} / "
        f"not reported in time: {kind.title_en or kind.id} — {campaign.title}"
    )
    lines = [
        f"{name}：",
        "",
        f"{where}的“{kind.title}”（{recorded:%Y-%m-%d %H:%M} 登记）须在{limit}内报告"
        f"{'、'.join(kind.report_to)}，至今未登记向{bodies}报告。请立即报告并在系统中登记。",
        f"This incident had to be reported within {kind.report_within} of being recorded; "
        f"no report to {bodies} is recorded. Report it now and record the report.",
        "",
        f"   经过 what happened: {incident.description}",
        f"   链接 link: {base_url.rstrip('/')}/campaigns/{incident.campaign_id}/incidents"
        f"#incident-{incident.id}",
        "",
        "——平安创建活动领导小组办公室 / pingan",
    ]
    return subject, "\n".join(lines)


# --- helpers ------------------------------------------------------------------------------------


def _aware(value: datetime, tz: str) -> datetime:
    return value.replace(tzinfo=ZoneInfo(tz)) if value.tzinfo is None else value
