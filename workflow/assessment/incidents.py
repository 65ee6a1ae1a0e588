"""The incident log: record an incident of a kind the definition names, against a unit; tell who
must know at once.

Targets count these (不发生, 同比减少, 控制目标), and so do veto items and
criticism rules. Some kinds must be reported at once ("people gathering toward
the railway → the railway department and the police", DOMAIN.md §7): the
kind's ``notify`` roles are mailed through the outbox in the same transaction
as the record, so the mail goes out even if the web worker dies right after.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow import audit, form_keys
from workflow.access import Need, campaign_for, in_leading_group
from workflow.assessment.report_status import ReportStatus, report_statuses
from workflow.audit import Actor
from workflow.clock import Clock, local_date
from workflow.definitions.catalogue import stored_definition
from workflow.definitions.reader import Definition, IncidentKind
from workflow.durations import time_limit_text
from workflow.errors import Forbidden, InvalidInput, TransitionRefused
from workflow.limits import TEXT_LIMIT
from workflow.machines import CLOSED
from workflow.mail.outbox import enqueue
from workflow.models import Campaign, CampaignUnit, Incident, Person, RoleBinding, Site, Unit
from workflow.organisation.roles import holders_of


@dataclass(frozen=True)
class IncidentReport:
    """What happened: a kind id of the definition, the unit's code, the day, and what happened."""

    kind: str
    unit: str | None
    occurred_on: date | None
    description: str | None
    site: str | None = None  # the key site's code, if it happened at one (the unit may be left out)


@dataclass(frozen=True)
class IncidentEntry:
    id: int
    kind: str
    kind_title: str
    unit_code: str
    unit_name: str
    occurred_on: date
    description: str
    recorded_by: str | None
    notified: tuple[str, ...]  # roles told at once, as the definition names them
    # its reports to the outside bodies the kind names (None: the kind names none)
    reports: ReportStatus | None = None
    site: str | None = None  # the key site's name, if it happened at one


def record_incident(
    session: Session,
    campaign_id: int,
    report: IncidentReport,
    *,
    by: Actor,
    clock: Clock,
    base_url: str,
    form_key: str | None = None,
) -> Incident:
    """Record an incident; refused (nothing written) for a kind the definition does not declare.

    The leading group records against any unit of the campaign; a sub-unit's
    own people record against their unit (they are the ones who see it first).
    ``form_key``: the page form's one-time key; posted again, it records nothing
    and mails nobody (``form_keys.AlreadySubmitted``).
    """
    now = clock.now()
    claimed = form_keys.claim(session, form_key, by=by, now=now, entity="incident")
    campaign = campaign_for(session, campaign_id, by)
    definition = stored_definition(campaign.definition)
    kind = declared_kind(definition, report.kind)
    if campaign.state == CLOSED:
        raise TransitionRefused(
            f"campaign {campaign.id} is closed: no more incidents are recorded in it"
        )
    site = _site(session, report.site)
    site_unit = session.get(Unit, site.unit_id) if site else None
    unit = _unit(session, campaign, report.unit or (site_unit.code if site_unit else None))
    if site is not None and site.unit_id != unit.id:
        raise InvalidInput(f"key site '{site.code}' is not in unit '{unit.code}'")
    if not (
        in_leading_group(session, campaign.id, campaign.unit_id, by)
        or holds_role_in(session, campaign, unit, by)
    ):
        raise Forbidden(
            f"only the leading group or the people of {unit.name} record incidents against it"
        )
    if report.occurred_on is None:
        raise InvalidInput("occurred_on is required (YYYY-MM-DD)")
    if report.occurred_on > local_date(now, campaign.timezone):
        raise InvalidInput(f"occurred_on {report.occurred_on.isoformat()} is in the future")
    description = (report.description or "").replace("\x00", "").strip()
    if not description:
        raise InvalidInput("description is required")
    # as given (workflow/limits.py): what the forms and the API count
    if len(report.description or "") > TEXT_LIMIT:
        raise InvalidInput(
            f"description is too long ({len(report.description or '')} characters; at most "
            f"{TEXT_LIMIT})"
        )

    incident = Incident(
        campaign_id=campaign.id,
        kind=kind.id,
        unit_id=unit.id,
        site_id=site.id if site else None,
        occurred_on=report.occurred_on,
        description=description,
        recorded_at=now,
        recorded_by_id=by.person_id,
        # the sweep looks once the time to tell the outside bodies has run out
        report_due_at=now + kind.report_within if kind.report_to and kind.report_within else None,
    )
    session.add(incident)
    session.flush()
    form_keys.created(session, claimed, incident.id)
    audit.record(
        session,
        at=now,
        by=by,
        entity="incident",
        entity_id=incident.id,
        event="record",
        from_state=None,
        to_state=kind.id,
        campaign_id=campaign.id,
        note=f"{unit.code} {report.occurred_on.isoformat()}: {description[:200]}",
    )
    for person in holders_of(session, campaign, definition, kind.notify, unit):
        subject, body = incident_mail(
            person.name, kind, unit, incident, campaign.title, by.label, base_url
        )
        enqueue(
            session,
            key=f"incident-{incident.id}-p{person.id}",
            recipient=person.email,
            subject=subject,
            body=body,
            now=now,
            campaign_id=campaign.id,
        )
    return incident


def list_incidents(
    session: Session,
    campaign_id: int,
    *,
    by: Actor,
    kind: str | None = None,
    unit: str | None = None,
) -> list[IncidentEntry]:
    """The campaign's incidents, newest first; for its leading group (others: not found)."""
    campaign = campaign_for(session, campaign_id, by, Need.LEADING_GROUP)
    definition = stored_definition(campaign.definition)
    query = (
        select(Incident, Unit.code, Unit.name, Person.email, Site.name)
        .join(Unit, Unit.id == Incident.unit_id)
        .outerjoin(Site, Site.id == Incident.site_id)
        .outerjoin(Person, Person.id == Incident.recorded_by_id)
        .where(Incident.campaign_id == campaign.id)
    )
    if kind is not None:
        query = query.where(Incident.kind == declared_kind(definition, kind).id)
    if unit is not None:
        query = query.where(Unit.code == unit)
    rows = session.execute(query.order_by(Incident.occurred_on.desc(), Incident.id.desc())).all()
    kinds = {declared.id: declared for declared in definition.incidents}
    reports = report_statuses(session, [row[0] for row in rows], kinds)
    entries = []
    for incident, code, name, email, site in rows:
        declared = kinds.get(incident.kind)
        entries.append(
            IncidentEntry(
                incident.id,
                incident.kind,
                declared.title if declared else incident.kind,
                code,
                name,
                incident.occurred_on,
                incident.description,
                email,
                declared.notify if declared else (),
                reports.get(incident.id),
                site,
            )
        )
    return entries


def incident_kinds(session: Session, campaign_id: int, *, by: Actor) -> tuple[IncidentKind, ...]:
    """The kinds of incident the campaign's definition counts, for the form that records one; for
    its leading group (others: not found)."""
    campaign = campaign_for(session, campaign_id, by, Need.LEADING_GROUP)
    return stored_definition(campaign.definition).incidents


def incident_mail(
    name: str,
    kind: IncidentKind,
    unit: Unit,
    incident: Incident,
    campaign_title: str,
    recorded_by: str,
    base_url: str,
) -> tuple[str, str]:
    """Subject and body of the at-once report of an incident (Chinese first, then English)."""
    subject = (
        f"【立即报告】{unit.name}：{kind.title}（{incident.occurred_on.isoformat()}） / "
        f"report at once: {kind.title_en or kind.id} in {unit.name} — {campaign_title}"
    )
    lines = [
        f"{name}：",
        "",
        f"{recorded_by} 登记了一起须立即报告的事件。",
        "An incident that must be reported at once was recorded.",
        "",
        f"   类别 kind: {kind.title}" + (f" / {kind.title_en}" if kind.title_en else ""),
        f"   单位 unit: {unit.name}",
        f"   日期 date: {incident.occurred_on.isoformat()}",
        f"   经过 what happened: {incident.description}",
    ]
    if kind.report_to:
        limit = f"（{time_limit_text(kind.report_within)}内）" if kind.report_within else ""
        lines.append(f"   须报告 report to: {'、'.join(kind.report_to)}{limit}")
        lines.append("   报告后请在事件登记中登记报告时间 record each report in the incident log")
    if kind.description:
        lines.append(f"   要求 what to do: {kind.description}")
    lines += [
        f"   链接 link: {base_url.rstrip('/')}/campaigns/{incident.campaign_id}/incidents",
        "",
        "——平安创建活动领导小组办公室 / pingan",
    ]
    return subject, "\n".join(lines)


def declared_kind(definition: Definition, kind_id: str | None) -> IncidentKind:
    """The kind the definition declares by this id; InvalidInput naming the kinds it has."""
    declared = _declared(definition, kind_id or "")
    if declared is None:
        known = ", ".join(kind.id for kind in definition.incidents) or "none"
        raise InvalidInput(f"unknown incident kind {kind_id!r} (this campaign's kinds: {known})")
    return declared


def holds_role_in(session: Session, campaign: Campaign, unit: Unit, by: Actor) -> bool:
    """Whether ``by`` holds a role of the campaign in ``unit`` (its own people)."""
    return (
        by.person_id is not None
        and session.scalar(
            select(RoleBinding.id)
            .where(
                RoleBinding.campaign_id == campaign.id,
                RoleBinding.person_id == by.person_id,
                RoleBinding.unit_id == unit.id,
            )
            .limit(1)
        )
        is not None
    )


# --- helpers ------------------------------------------------------------------------------------


def _declared(definition: Definition, kind_id: str) -> IncidentKind | None:
    return next((kind for kind in definition.incidents if kind.id == kind_id), None)


def _site(session: Session, code: str | None) -> Site | None:
    if not code:
        return None
    site = session.scalar(select(Site).where(Site.code == code))
    if site is None:
        raise InvalidInput(f"no key site '{code}'")
    return site  # in this campaign: its unit is checked to be


def _unit(session: Session, campaign: Campaign, code: str | None) -> Unit:
    if not code:
        raise InvalidInput(
            "unit is required: the code of the unit the incident is recorded against"
        )
    unit = session.scalar(select(Unit).where(Unit.code == code))
    allowed = unit is not None and (
        unit.id == campaign.unit_id
        or session.scalar(
            select(CampaignUnit.unit_id).where(
                CampaignUnit.campaign_id == campaign.id, CampaignUnit.unit_id == unit.id
            )
        )
        is not None
    )
    if not allowed:
        raise InvalidInput(f"no unit '{code}' in this campaign")
    return unit  # type: ignore[return-value]
