"""Phase windows: a phase that runs past its planned end with required work open is reported
once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.campaigns.lifecycle import count_phase_blockers, phase_blockers
from workflow.clock import local_date
from workflow.definitions.catalogue import stored_definition
from workflow.durations import last_day
from workflow.mail.outbox import enqueue
from workflow.models import Campaign, CampaignPhase, Person, RoleBinding

SHOWN = 30  # items listed in the mail; the count says how many there are
REPORTED_ROLE = "office_director"  # 办公室主任 runs the day-to-day work (DOMAIN.md)


def report_late_phases(session: Session, now: datetime, base_url: str) -> int:
    """Tell the office director (else the coordinators) once about each phase past its planned end;
    return how many."""
    rows = session.execute(
        select(CampaignPhase, Campaign)
        .join(Campaign, Campaign.id == CampaignPhase.campaign_id)
        .where(
            Campaign.state == CampaignPhase.phase_key,
            CampaignPhase.planned_end.is_not(None),
            CampaignPhase.late_notified_at.is_(None),
        )
        .with_for_update(of=CampaignPhase, skip_locked=True)
    ).all()
    reported = 0
    for phase_row, campaign in rows:
        today = local_date(now, campaign.timezone)
        last = last_day(phase_row.planned_end)
        if last is None or today <= last:
            continue
        open_count = count_phase_blockers(session, campaign)
        if not open_count:
            continue
        blockers = phase_blockers(session, campaign, limit=SHOWN)
        definition = stored_definition(campaign.definition)
        roles = (
            [REPORTED_ROLE]
            if any(r.id == REPORTED_ROLE for r in definition.roles)
            else list(definition.coordinators)
        )
        people = session.scalars(
            select(Person)
            .join(RoleBinding, RoleBinding.person_id == Person.id)
            .where(
                RoleBinding.campaign_id == campaign.id,
                RoleBinding.role.in_(roles),
                RoleBinding.unit_id == campaign.unit_id,
            )
            .distinct()
        ).all()
        phase = definition.phase(phase_row.phase_key)
        days = (today - last).days
        lines = [
            f"{b.title}"
            + (f"（{b.unit}）" if b.unit else "")
            + (f" — {b.assignee}" if b.assignee else "")
            for b in blockers
        ]
        more = (
            [f"……另有 {open_count - SHOWN} 项 / and {open_count - SHOWN} more"]
            if open_count > SHOWN
            else []
        )
        for person in people:
            body = "\n".join(
                [
                    f"{person.name}：",
                    "",
                    f"“{campaign.title}”的{phase.title}计划于 {last.isoformat()} 结束，"
                    f"已超期 {days} 天，仍有 {open_count} 项必办事项未完成：",
                    f"Phase '{phase.title_en or phase.id}' of this campaign was planned to end on "
                    f"{last.isoformat()}; it is {days} day(s) late with "
                    f"{open_count} required item(s) open:",
                    "",
                    *[f"  - {line}" for line in lines],
                    *more,
                    "",
                    f"链接 link: {base_url.rstrip('/')}/campaigns/{campaign.id}",
                    "",
                    "——pingan",
                ]
            )
            enqueue(
                session,
                key=f"late-phase-{phase_row.id}-p{person.id}",
                recipient=person.email,
                subject=f"【阶段超期】{campaign.title}：{phase.title}已超过计划结束日期 / phase running late",  # noqa: E501
                body=body,
                now=now,
                campaign_id=campaign.id,
            )
        phase_row.late_notified_at = now
        reported += 1
    return reported
