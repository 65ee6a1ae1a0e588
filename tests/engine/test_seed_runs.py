"""Each seed campaign run from start to closed, with the clock moved through its phases by the sweep."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from tests.support.actions import OPERATOR
from tests.support.paths import SHIPPED
from workflow.assessment.incidents import IncidentReport, record_incident
from workflow.assessment.outside_reports import record_outside_report
from workflow.audit import Actor
from workflow.calendar import load_calendar
from workflow.campaigns.inspections import inspections_done, is_inspection
from workflow.campaigns.letters import issue_letter, sign_letter
from workflow.campaigns.lifecycle import advance_campaign, start_campaign
from workflow.campaigns.tasks import complete_task
from workflow.clock import FixedClock, local_date
from workflow.definitions.reader import load_definition_file
from workflow.errors import TransitionRefused
from workflow.escalation.sweep import run_sweep
from workflow.hazards.rectifications import HazardReport, register_hazard
from workflow.models import (
    Campaign,
    CampaignPhase,
    CampaignUnit,
    Letter,
    OutsideReport,
    Site,
    Task,
    Unit,
)
from workflow.organisation.directory import import_organisation
from workflow.organisation.org_file import load_organisation_file

SEEDS = [
    ("safe-unit-district", "district-bureau.yaml", "cg-justice", "2011-03-15"),
    ("safe-unit-lingtai", "lingtai-bureau.yaml", "lingtai-rftv", "2006-05-23"),
    ("safe-tobacco", "dingxi-branch.yaml", "dingxi-tobacco", "2006-01-01"),
    ("safe-railway", "railway-town.yaml", "liuhe-town", "2012-05-20"),
    ("safe-family", "women-federation-town.yaml", "xinzhong-women", "2011-02-01"),
]
BEIJING = ZoneInfo("Asia/Shanghai")


@pytest.mark.slow
@pytest.mark.parametrize("slug, org_file, unit, starts", SEEDS, ids=[s[0] for s in SEEDS])
def test_a_seed_campaign_runs_from_its_first_phase_to_closed(
    sessions, slug, org_file, unit, starts
):
    from datetime import date

    definition = load_definition_file(SHIPPED / f"{slug}.yaml")
    with sessions.begin() as session:
        import_organisation(session, load_organisation_file(SHIPPED / "org" / org_file))
        calendar = load_calendar(session)
        campaign_id = start_campaign(
            session,
            definition,
            unit,
            date.fromisoformat(starts),
            by=OPERATOR,
            clock=FixedClock(_at(date.fromisoformat(starts))),
            calendar=calendar,
        ).id

    visited = []
    inspected = signed = reported = 0
    with sessions() as session:
        first_site = session.scalar(select(Site.code).order_by(Site.id).limit(1))
    for phase in definition.phases:
        with sessions() as session:
            campaign = session.get(Campaign, campaign_id)
            assert campaign.state == phase.id
            window = session.scalar(
                select(CampaignPhase).where(
                    CampaignPhase.campaign_id == campaign_id, CampaignPhase.phase_key == phase.id
                )
            )
            end = window.planned_end or window.started_on + timedelta(days=30)
        # the clock runs to the phase's planned end, a sweep every week: duties appear as their periods start
        day = window.started_on
        while day < end:
            run_sweep(
                sessions, clock=FixedClock(_at(day)), mailer=None, base_url="http://pingan.test"
            )
            day += timedelta(days=7)
        when = _at(end)
        run_sweep(sessions, clock=FixedClock(when), mailer=None, base_url="http://pingan.test")

        with sessions() as session:
            open_required = session.scalar(
                select(func.count())
                .select_from(Task)
                .where(
                    Task.campaign_id == campaign_id,
                    Task.phase_key == phase.id,
                    Task.required.is_(True),
                    Task.state == "open",
                )
            )
            made = set(
                session.scalars(
                    select(Task.spec_key).where(
                        Task.campaign_id == campaign_id, Task.phase_key == phase.id
                    )
                )
            )
        assert made >= {t.id for t in phase.tasks}, "every one-off task of the phase was created"
        assert made >= {d.id for d in phase.recurring}, (
            "every recurring duty ran at least once in its phase"
        )
        with sessions() as session:
            unsigned = session.scalar(
                select(func.count())
                .select_from(Letter)
                .where(Letter.campaign_id == campaign_id, Letter.phase_key == phase.id)
            )
        assert unsigned == len(letters_made(sessions, campaign_id, phase.id)), "none signed yet"
        if open_required or unsigned:
            with pytest.raises(TransitionRefused) as refused, sessions.begin() as session:
                advance_campaign(
                    session, campaign_id, by=OPERATOR, clock=FixedClock(when), calendar=calendar
                )
            assert len(refused.value.blockers) == open_required + unsigned
            assert sum(b.kind == "letter" for b in refused.value.blockers) == unsigned

        # the head issues each letter of the phase, its signer signs it (both as themselves)
        for letter_id, issuer, signer in letters_made(sessions, campaign_id, phase.id):
            with sessions.begin() as session:
                issue_letter(
                    session,
                    letter_id,
                    by=issuer,
                    clock=FixedClock(when),
                    base_url="http://pingan.test",
                )
            with sessions.begin() as session:
                assert sign_letter(session, letter_id, by=signer, clock=FixedClock(when)).state == (
                    "signed"
                )
            signed += 1

        if not visited:  # in the first phase, an incident the text says is reported at once
            reported += _report_an_incident(sessions, definition, campaign_id, when)

        # each assignee checks their work off, then the coordinator advances
        with sessions.begin() as session:
            for task in session.scalars(
                select(Task).where(Task.campaign_id == campaign_id, Task.state == "open")
            ).all():
                # an inspection is checked off with its findings: the first of the campaign found a
                # hazard (registered from it), the others nothing
                found = is_inspection(definition, task) and not inspected
                if found:
                    register_hazard(
                        session,
                        campaign_id,
                        HazardReport(
                            description="消防通道堆放杂物",
                            task_id=task.id,
                            # a campaign-wide inspection names where it found it
                            site=None if task.site_id or task.unit_id else first_site,
                        ),
                        by=OPERATOR,
                        clock=FixedClock(when),
                        calendar=calendar,
                        base_url="http://pingan.test",
                    )
                inspected += is_inspection(definition, task)
                complete_task(
                    session,
                    task.id,
                    by=OPERATOR,
                    clock=FixedClock(when),
                    note="已完成",
                    no_problems=not found,
                )
        with sessions.begin() as session:
            visited.append(
                advance_campaign(
                    session, campaign_id, by=OPERATOR, clock=FixedClock(when), calendar=calendar
                ).to_state
            )

    assert visited == [*definition.phase_ids()[1:], "closed"]
    # the railway's 上访群众向铁路集结 was reported to the railway department and the police
    assert reported == {"safe-railway": 2}.get(slug, 0)
    # every department's, key site's and section's letter was issued by the head and signed
    assert signed == {"safe-unit-district": 6, "safe-unit-lingtai": 6, "safe-railway": 8}.get(
        slug, 0
    )
    with sessions() as session:
        findings = {
            (done.findings, done.hazards) for done in inspections_done(session, campaign_id)
        }
    if slug in ("safe-tobacco", "safe-railway", "safe-unit-lingtai"):  # they inspect
        assert ("hazards", 1) in findings and ("none", 0) in findings, findings
    with sessions() as session:
        ran = set(
            session.execute(
                select(Task.spec_key, Task.phase_key).where(Task.campaign_id == campaign_id)
            ).all()
        )
    for duty in definition.recurring:  # campaign-wide: only in the phases it covers, and ran
        covered = set(duty.phases or definition.phase_ids())
        phases = {phase for spec, phase in ran if spec == duty.id}
        assert phases and phases <= covered, duty.id
        if duty.every == "week":  # every phase has a week (the Wednesday reception)
            assert phases == covered, duty.id
    with sessions() as session:
        assert session.get(Campaign, campaign_id).closed_at is not None


def letters_made(sessions, campaign_id, phase_id):  # noqa: ANN001, ANN201
    """(id, issuer, signer) of each responsibility letter of the phase still to sign, issuer and signer as
    actors: the person named as 甲方 (the head) and the site's or unit's responsible person."""
    with sessions() as session:
        return [
            (letter.id, Actor.person(letter.issuer), Actor.person(letter.signer))
            for letter in session.scalars(
                select(Letter)
                .where(
                    Letter.campaign_id == campaign_id,
                    Letter.phase_key == phase_id,
                    Letter.state != "signed",
                )
                .order_by(Letter.id)
            )
        ]


def _at(day) -> datetime:  # noqa: ANN001
    return datetime.combine(day, time(9, 0), tzinfo=BEIJING)


def _report_an_incident(sessions, definition, campaign_id, when) -> int:  # noqa: ANN001
    """The first incident kind the text says is reported at once: one recorded in the campaign's
    first sub-unit, then each body told, as the office would; how many reports were recorded."""
    kind = next((k for k in definition.incidents if k.report_to and k.report_within), None)
    if kind is None:
        return 0
    with sessions.begin() as session:
        unit = session.scalar(
            select(Unit.code)
            .join(CampaignUnit, CampaignUnit.unit_id == Unit.id)
            .where(CampaignUnit.campaign_id == campaign_id)
            .order_by(Unit.code)
            .limit(1)
        )
        incident = record_incident(
            session,
            campaign_id,
            IncidentReport(kind.id, unit, local_date(when, "Asia/Shanghai"), "登记于试运行"),
            by=OPERATOR,
            clock=FixedClock(when),
            base_url="http://pingan.test",
        ).id
        for body in kind.report_to:
            record_outside_report(
                session, incident, body, reported_at=None, note="电话", by=OPERATOR,
                clock=FixedClock(when),
            )  # fmt: skip
    with sessions() as session:
        return session.scalar(
            select(func.count())
            .select_from(OutsideReport)
            .where(OutsideReport.incident_id == incident)
        )
