"""The five seed campaigns as shipped definitions, each starting on its sample organisation (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime, timedelta

import jsonschema
import pytest
from sqlalchemy import func, select

from tests.support.clock import SHANGHAI
from tests.support.paths import SHIPPED
from tests.support.texts import as_editors_read
from workflow.audit import Actor
from workflow.campaigns.lifecycle import start_campaign
from workflow.campaigns.recurring import period_starts
from workflow.clock import FixedClock
from workflow.definitions.reader import DefinitionError, load_definition_file, parse_definition
from workflow.models import Campaign, CampaignPhase, Letter, Person, PersonRole, Task
from workflow.organisation.directory import import_organisation
from workflow.organisation.org_file import load_organisation_file

DEFINITIONS = sorted(SHIPPED.glob("*.yaml"))
ORGANISATIONS = sorted((SHIPPED / "org").glob("*.yaml"))
OPERATOR = Actor.operator("test")

# definition id → (its sample organisation, the unit it starts for, the date of the seed text's plan)
SEEDS = {
    "safe-unit-district": ("district-bureau.yaml", "cg-justice", date(2011, 3, 15)),
    "safe-unit-lingtai": ("lingtai-bureau.yaml", "lingtai-rftv", date(2006, 5, 23)),
    "safe-tobacco": ("dingxi-branch.yaml", "dingxi-tobacco", date(2006, 1, 1)),
    "safe-railway": ("railway-town.yaml", "liuhe-town", date(2012, 5, 20)),
    "safe-family": ("women-federation-town.yaml", "xinzhong-women", date(2011, 2, 1)),
}
# the three-level railway example (各级创建组织), all on one sample county: definition id → the units of
# its level, each of which runs a campaign of it (the county's cascade starts the towns', theirs the
# villages')
LEVELS_ORG = "railway-county.yaml"
LEVELS = {
    "safe-railway-county": ("pingchuan-county",),
    "safe-railway-town": ("shiqiao-town", "hongliu-town"),
    "safe-railway-village": (
        "shiqiao-dongbu",
        "shiqiao-xibu",
        "shiqiao-qiaotou",
        "hongliu-shahe",
        "hongliu-daobei",
    ),
}


def definition(definition_id: str):
    return load_definition_file(SHIPPED / f"{definition_id}.yaml")


def start_seed(sessions, calendar, definition_id: str) -> int:
    """Import the seed's sample organisation and start the seed campaign on it; return the campaign id."""
    org, unit, starts = SEEDS[definition_id]
    clock = FixedClock(
        datetime.combine(starts, datetime.min.time(), tzinfo=SHANGHAI) + timedelta(hours=9)
    )
    with sessions.begin() as session:
        import_organisation(session, load_organisation_file(SHIPPED / "org" / org))
    with sessions.begin() as session:
        return start_campaign(
            session,
            definition(definition_id),
            unit,
            starts,
            by=OPERATOR,
            clock=clock,
            calendar=calendar,
        ).id


def tasks_of(
    sessions, campaign_id: int
) -> list[tuple[str, str | None, str | None, str | None, str, date | None]]:
    """(spec, unit, site, list entry, assignee e-mail, due date) of every task of the campaign."""
    with sessions() as session:
        tasks = session.scalars(
            select(Task).where(Task.campaign_id == campaign_id).order_by(Task.id)
        )
        return [
            (
                t.spec_key,
                t.unit.code if t.unit else None,
                t.site.code if t.site else None,
                t.entry.code if t.entry else None,
                t.assignee.email,
                t.due_on,
            )
            for t in tasks
        ]


def letters_of(
    sessions, campaign_id: int
) -> list[tuple[str, str | None, str | None, str, str, date | None]]:
    """(spec, unit, site, issuer e-mail, signer e-mail, due date) of every responsibility letter of the campaign,
    all still drafted."""
    with sessions() as session:
        letters = session.scalars(
            select(Letter).where(Letter.campaign_id == campaign_id).order_by(Letter.id)
        )
        rows = [
            (
                letter.spec_key,
                letter.unit.code if letter.unit else None,
                letter.site.code if letter.site else None,
                letter.issuer.email,
                letter.signer.email,
                letter.due_on,
            )
            for letter in letters
            if letter.state == "drafted"
        ]
        assert len(rows) == session.scalar(
            select(func.count()).select_from(Letter).where(Letter.campaign_id == campaign_id)
        )
        return rows


def planned_phases(sessions, campaign_id: int) -> list[tuple[str, date, date]]:
    with sessions() as session:
        rows = session.scalars(
            select(CampaignPhase)
            .where(CampaignPhase.campaign_id == campaign_id)
            .order_by(CampaignPhase.position)
        )
        return [(row.phase_key, row.planned_start, row.planned_end) for row in rows]


def of_spec(tasks, spec: str):
    return [task for task in tasks if task[0] == spec]


# --- every shipped file is valid ----------------------------------------------------------------


@pytest.mark.parametrize("path", DEFINITIONS, ids=lambda p: p.name)
def test_every_shipped_definition_validates_and_matches_the_json_schema(path):
    loaded = load_definition_file(path)
    schema = json.loads((SHIPPED / "schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(
        as_editors_read(path.read_text(encoding="utf-8"))
    )
    assert path.name == f"{loaded.id}.yaml"
    assert loaded.version == 1
    assert path.read_text(encoding="utf-8").startswith(
        "# yaml-language-server: $schema=./schema.json\n"
    )


@pytest.mark.parametrize("path", ORGANISATIONS, ids=lambda p: p.name)
def test_every_sample_organisation_loads_and_every_person_has_the_demo_password(path):
    organisation = load_organisation_file(path)
    assert organisation.units and organisation.people
    assert {person.password for person in organisation.people} == {"pingan-demo"}
    assert all(person.email.endswith("example.org") for person in organisation.people)


def test_there_is_one_definition_per_seed_document_besides_the_template_and_the_levels():
    assert {path.stem for path in DEFINITIONS} == {*SEEDS, *LEVELS, "standard"}


def test_the_sample_organisations_do_not_collide_so_they_can_share_one_database():
    units, sites, people, entries = Counter(), Counter(), Counter(), Counter()
    for path in ORGANISATIONS:
        organisation = load_organisation_file(path)
        units.update(unit.id for unit in organisation.units)
        sites.update(site.id for unit in organisation.units for site in unit.sites)
        people.update(person.email for person in organisation.people)
        entries.update((entry.list, entry.id) for entry in organisation.entries)
    for seen in (units, sites, people, entries):
        assert [key for key, count in seen.items() if count > 1] == []


def test_the_sample_organisations_import_side_by_side(sessions):
    with sessions.begin() as session:
        for path in ORGANISATIONS:
            import_organisation(session, load_organisation_file(path))
    with sessions.begin() as session:  # and again: importing is idempotent
        again = [
            import_organisation(session, load_organisation_file(path)) for path in ORGANISATIONS
        ]
    assert all(
        str(summary).startswith(
            "units: 0 created, 0 updated; people: 0 created, 0 updated; sites: 0 created, 0 updated"
        )
        for summary in again
    )
    assert not any(summary.entries_created or summary.entries_updated for summary in again)


# --- the three-level railway example: county → towns → villages -------------------------------


def test_the_county_cascades_to_the_towns_and_the_towns_to_the_villages_on_the_same_phases():
    county, town, village = (definition(definition_id) for definition_id in LEVELS)
    assert (county.cascade.definition, county.cascade.version) == ("safe-railway-town", 1)
    assert (town.cascade.definition, town.cascade.version) == ("safe-railway-village", 1)
    assert village.cascade is None
    assert county.cascade.when == town.cascade.when == "mobilization"
    # a child enters no phase its parent has not entered
    phases = ("mobilization", "implementation", "inspection", "summary")
    assert county.phase_ids() == town.phase_ids() == village.phase_ids() == phases
    # each level's own items go up its leading group; the village's then climb to the town and the county
    assert [level.notify for level in village.escalation.levels] == [
        ("responsible", "office_director"),
        ("parent.office_director",),
        ("parent.parent.office_director",),
    ]
    assert town.escalation.levels[-1].notify == ("parent.office_director",)
    # no unit roles: the sub-units run campaigns of their own, with their own leading groups
    assert all(role.scope == "group" for d in (county, town, village) for role in d.roles)


@pytest.mark.parametrize(
    ("definition_id", "unit"),
    [(definition_id, unit) for definition_id, units in LEVELS.items() for unit in units],
)
def test_every_unit_of_the_sample_county_holds_the_roles_its_level_needs(
    sessions, calendar, definition_id, unit
):
    with sessions.begin() as session:
        import_organisation(session, load_organisation_file(SHIPPED / "org" / LEVELS_ORG))
    clock = FixedClock(datetime(2012, 5, 20, 9, tzinfo=SHANGHAI))
    with sessions.begin() as session:  # refused if a role it needs is held by nobody in the unit
        campaign_id = start_campaign(
            session,
            definition(definition_id),
            unit,
            date(2012, 5, 20),
            by=OPERATOR,
            clock=clock,
            calendar=calendar,
        ).id
    tasks = tasks_of(sessions, campaign_id)
    assert {spec for spec, *_ in tasks} >= {
        task.id for task in definition(definition_id).phases[0].tasks if task.per == "campaign"
    }
    if definition_id == "safe-railway-village":  # each section's letter, signed by its own patrol
        letters = letters_of(sessions, campaign_id)
        assert letters and {site for _, _, site, _, _, _ in letters} == {
            site.id
            for village in load_organisation_file(SHIPPED / "org" / LEVELS_ORG).units
            if village.id == unit
            for site in village.sites
        }


# --- what the format now says beyond tasks: targets, incidents, assessment ----------------------


def test_a_definition_without_the_new_blocks_has_no_targets_and_no_assessment():
    standard = definition("standard")
    assert (standard.incidents, standard.targets, standard.assessment) == ((), (), None)
    assert standard.scoring_phase() is None


def test_the_railway_control_targets_are_declared_with_their_criticism():
    railway = definition("safe-railway")
    kinds = Counter(target.kind for target in railway.targets)
    assert kinds == {"zero": 6, "reduce": 2, "max": 3, "judged": 2}
    criticised = {rule.target for rule in railway.assessment.criticism if rule.target}
    assert criticised == {t.id for t in railway.targets if t.kind == "max"}
    assert {veto.incident for veto in railway.assessment.veto} == {
        "train-accident",
        "mass-incident",
    }
    gathering = railway.incident("petitioners-gathering")
    assert {"railway_liaison", "police_liaison"} <= set(gathering.notify)
    assert gathering.report_to == ("铁路部门", "公安机关")
    assert railway.assessment.total_points() == 100
    assert railway.scoring_phase() == "inspection"
    assert [item.title for item in railway.assessment.items[:5]] == [
        "会议必须强调",
        "责任必须明确",
        "措施必须落实",
        "重点地段必须检查",
        "隐患问题必须督促整改",
    ]


def test_the_lingtai_targets_are_the_three_named_bundles():
    lingtai = definition("safe-unit-lingtai")
    bundles = Counter((target.bundle, target.kind) for target in lingtai.targets)
    assert bundles == {
        ("六个提高", "judged"): 6,
        ("五个遏制", "reduce"): 5,
        ("五个不发生", "zero"): 5,
    }
    assert lingtai.target("no-signal-accident").incident == "signal-accident"


def test_the_district_bureau_vetoes_a_unit_for_a_major_problem_caused_by_dereliction():
    district = definition("safe-unit-district")
    (veto,) = district.assessment.veto
    assert veto.incident == "dereliction" and "一票否决" in veto.title
    assert any(rule.accountability for rule in district.assessment.criticism)


def test_the_family_campaign_processes_every_letter_and_visit():
    target = definition("safe-family").target("petitions-processed")
    assert (target.kind, target.measure, target.value, target.per) == (
        "rate",
        "petitions_processed",
        100,
        "campaign",
    )


def test_the_tobacco_assessment_is_made_in_the_summary_phase_and_criticises_a_security_failure():
    tobacco = definition("safe-tobacco")
    assert tobacco.scoring_phase() == "summary"
    (rule,) = tobacco.assessment.criticism
    assert (rule.incident, rule.accountability) == ("security-failure", True)


MINIMAL = """\
id: checks
version: 1
title: 检查
roles:
  - {id: leader, title: 组长}
phases:
  - {id: inspection}
"""


def problems(extra: str) -> list[str]:
    with pytest.raises(DefinitionError) as refused:
        parse_definition(MINIMAL + extra, "bad.yaml")
    return [str(problem) for problem in refused.value.problems]


def test_a_target_naming_an_undeclared_incident_kind_is_named_at_its_line():
    assert problems("targets:\n  - {id: t, title: 不发生, kind: zero, incident: fire}\n") == [
        "bad.yaml:9: targets[0].incident: unknown incident kind 'fire' (declared under incidents: none)",
    ]


def test_a_rate_target_needs_a_measure_and_a_percentage():
    assert problems("targets:\n  - {id: t, title: 处理率, kind: rate}\n") == [
        "bad.yaml:9: targets[0]: missing 'measure'",
        "bad.yaml:9: targets[0]: missing 'value'",
    ]


def test_the_assessment_names_only_known_phases_roles_and_targets_and_sensible_grades():
    text = """\
assessment:
  phase: summary
  scorers: [leader, inspector]
  deductions:
    - {each: missed_target, target: nothing, points: 5}
  grades: {commended: 50, passed: 60}
"""
    assert problems(text) == [
        "bad.yaml:9: assessment.phase: unknown phase 'summary' (phases: inspection)",
        "bad.yaml:10: assessment.scorers[1]: unknown role 'inspector' (declared roles: leader)",
        "bad.yaml:12: assessment.deductions[0].target: unknown target 'nothing' (declared under targets: none)",
        "bad.yaml:13: assessment.grades.commended: commended (50) must be at least passed (60)",
    ]


# --- the phases follow the dates of the texts ---------------------------------------------------


def test_the_railway_phases_follow_the_dates_of_the_text(sessions, calendar):
    campaign_id = start_seed(sessions, calendar, "safe-railway")
    assert planned_phases(sessions, campaign_id) == [
        # 宣传发动: 5月30日前 (31 May is no phase's day)
        ("mobilization", date(2012, 5, 20), date(2012, 5, 31)),
        # 全面实施: 1 June to the end of September
        (
            "implementation",
            date(2012, 6, 1),
            date(2012, 10, 1),
        ),
        ("inspection", date(2012, 10, 1), date(2012, 10, 31)),  # 检查评比: 1 to 30 October
    ]


def test_the_tobacco_phases_follow_the_dates_of_the_text(sessions, calendar):
    campaign_id = start_seed(sessions, calendar, "safe-tobacco")
    assert planned_phases(sessions, campaign_id) == [
        ("setup", date(2006, 1, 1), date(2006, 2, 1)),  # done in January 2006
        ("mobilization", date(2006, 2, 1), date(2006, 6, 1)),  # done before June 2006
        ("implementation", date(2006, 6, 1), date(2008, 10, 1)),  # June 2006 – September 2008
        ("summary", date(2008, 10, 1), date(2009, 1, 1)),  # October – December 2008
    ]


# --- each seed starts on its sample organisation and its first tasks land on the right people ---


def test_the_railway_campaign_gives_each_village_head_its_plan_and_each_section_its_letter(
    sessions, calendar
):
    campaign_id = start_seed(sessions, calendar, "safe-railway")
    tasks = tasks_of(sessions, campaign_id)

    plans = sorted((unit, who, due) for _, unit, _, _, who, due in of_spec(tasks, "village-plan"))
    assert plans == [
        ("liuhe-daokou", "daokou@liuhe.example.org", date(2012, 5, 30)),
        ("liuhe-houying", "houying@liuhe.example.org", date(2012, 5, 30)),
        ("liuhe-qianying", "qianying@liuhe.example.org", date(2012, 5, 30)),
        ("liuhe-yangzhuang", "yangzhuang@liuhe.example.org", date(2012, 5, 30)),
        ("liuhe-zhanbei", "zhanbei@liuhe.example.org", date(2012, 5, 30)),
    ]
    letters = letters_of(sessions, campaign_id)
    signers = Counter(who for *_, who, _ in letters)
    assert sum(signers.values()) == 8, "one responsibility letter per section"
    assert signers["qianying-security@liuhe.example.org"] == 2
    assert signers["daokou-keeper@liuhe.example.org"] == 1
    assert {issuer for _, _, _, issuer, _, _ in letters} == {"leader@liuhe.example.org"}, (
        "issued by the town's leading group's head"
    )
    assert (
        "section-letter",
        "liuhe-daokou",
        "lh-crossing-3",
        "leader@liuhe.example.org",
        "daokou-keeper@liuhe.example.org",
        date(2012, 5, 30),
    ) in letters
    groups = sorted(
        (entry, who) for _, _, _, entry, who, _ in of_spec(tasks, "help-education-group")
    )
    assert groups == [
        ("sup-daokou-1", "daokou-security@liuhe.example.org"),
        ("sup-qianying-1", "qianying-security@liuhe.example.org"),
        ("sup-zhanbei-1", "zhanbei-security@liuhe.example.org"),
        ("sup-zhanbei-2", "zhanbei-women@liuhe.example.org"),
    ]
    assert of_spec(tasks, "town-leading-group") == [
        ("town-leading-group", None, None, None, "office@liuhe.example.org", date(2012, 5, 25))
    ]
    assert len(tasks) == 1 + 4 * 5 + 4
    assert {spec for spec, *_ in tasks} == {
        task.id for task in definition("safe-railway").phases[0].tasks
    }


def test_the_lingtai_campaign_asks_each_of_the_six_key_sites_for_its_group_and_letter(
    sessions, calendar
):
    campaign_id = start_seed(sessions, calendar, "safe-unit-lingtai")
    tasks = tasks_of(sessions, campaign_id)

    letters = letters_of(sessions, campaign_id)
    assert {(spec, issuer) for spec, _, _, issuer, _, _ in letters} == {
        ("site-letter", "director@lingtai-rftv.example.org")
    }, "each signed with the director (局长)"
    assert sorted((site, who) for _, _, site, _, who, _ in letters) == [
        ("lt-bureau-internal", "office@lingtai-rftv.example.org"),
        ("lt-film-company", "film@lingtai-rftv.example.org"),
        ("lt-hujiayuan-relay", "hujiayuan@lingtai-rftv.example.org"),
        ("lt-residential-area", "security@lingtai-rftv.example.org"),
        ("lt-staff-housing", "union@lingtai-rftv.example.org"),
        ("lt-tv-station", "tv@lingtai-rftv.example.org"),
    ]
    assert {due for *_, due in letters} == {date(2006, 6, 22)}
    assert len(of_spec(tasks, "site-group")) == 6
    assert sorted(who for *_, who, _ in of_spec(tasks, "unit-measures")) == [
        "film@lingtai-rftv.example.org",
        "tv@lingtai-rftv.example.org",
    ]
    assert of_spec(tasks, "leading-group")[0][4] == "office@lingtai-rftv.example.org"
    assert len(tasks) == 1 + 2 + 6


def test_the_tobacco_campaign_starts_with_the_office_setting_up_the_group_and_the_plan(
    sessions, calendar
):
    campaign_id = start_seed(sessions, calendar, "safe-tobacco")
    tasks = tasks_of(sessions, campaign_id)

    assert sorted((spec, who, due) for spec, *_, who, due in tasks) == [
        ("leading-group", "security@dingxi-tobacco.example.org", date(2006, 1, 11)),
        ("plan", "security@dingxi-tobacco.example.org", date(2006, 2, 1)),
    ]
    with sessions() as session:
        assert session.get(Campaign, campaign_id).state == "setup"


def test_the_tobacco_key_sites_are_the_warehouse_and_the_archive_room():
    organisation = load_organisation_file(SHIPPED / "org" / "dingxi-branch.yaml")
    sites = {site.name: site.responsible for unit in organisation.units for site in unit.sites}
    assert sites == {
        "卷烟仓库": "warehouse@dingxi-tobacco.example.org",
        "档案室": "archive@dingxi-tobacco.example.org",
    }


def test_the_district_campaign_lands_on_every_department_head(sessions, calendar):
    campaign_id = start_seed(sessions, calendar, "safe-unit-district")
    tasks = tasks_of(sessions, campaign_id)

    responsibility = sorted(
        (unit, who) for _, unit, _, _, who, _ in of_spec(tasks, "department-responsibility")
    )
    assert len(responsibility) == 6
    assert ("cg-grassroots", "grassroots@cg-justice.example.org") in responsibility
    assert ("cg-dongcheng", "dongcheng@cg-justice.example.org") in responsibility
    letters = letters_of(sessions, campaign_id)
    assert {(spec, issuer, due) for spec, _, _, issuer, _, due in letters} == {
        ("responsibility-letter", "director@cg-justice.example.org", date(2011, 4, 14))
    }, "each department's letter is signed with the bureau head, due as the task was"
    assert sorted(unit for _, unit, *_ in letters) == sorted(unit for unit, _ in responsibility)
    assert ("cg-grassroots", "grassroots@cg-justice.example.org") in {
        (unit, who) for _, unit, _, _, who, _ in letters
    }
    funding = of_spec(tasks, "funding")
    assert [(who, due) for *_, who, due in funding] == [
        ("office@cg-justice.example.org", date(2011, 4, 14))
    ]
    assert len(tasks) == 1 + 6 + 1


def test_the_family_campaign_splits_the_work_between_party_branch_and_womens_congress(
    sessions, calendar
):
    campaign_id = start_seed(sessions, calendar, "safe-family")
    tasks = tasks_of(sessions, campaign_id)

    agenda = {unit: who for _, unit, _, _, who, _ in of_spec(tasks, "agenda")}
    organisation = {unit: who for _, unit, _, _, who, _ in of_spec(tasks, "women-organisation")}
    assert agenda["xz-sanhe"] == "sanhe-party@xinzhong.example.org"
    assert organisation["xz-sanhe"] == "sanhe-women@xinzhong.example.org"
    assert organisation["xz-community"] == "community-women@xinzhong.example.org"
    assert len(agenda) == len(organisation) == 5
    assert of_spec(tasks, "leading-group") == [
        ("leading-group", None, None, None, "office@xinzhong.example.org", date(2011, 2, 8))
    ]
    assert len(tasks) == 1 + 4 * 5


# --- the recurring duties fall on the days the texts name ---------------------------------------


def occurrences(
    definition_id: str, duty_id: str, phase_starts: date, phase_ends: date
) -> list[date]:
    """The days a duty's occurrences start on while its phase runs from ``phase_starts`` to before ``phase_ends``."""
    loaded = definition(definition_id)
    duty = next(
        d
        for d in (*(d for phase in loaded.phases for d in phase.recurring), *loaded.recurring)
        if d.id == duty_id
    )
    after = datetime.combine(phase_starts, datetime.min.time(), tzinfo=SHANGHAI) - timedelta(
        seconds=1
    )
    until = datetime.combine(phase_ends, datetime.min.time(), tzinfo=SHANGHAI) - timedelta(
        seconds=1
    )
    return [day for _key, day, _at in period_starts(duty, loaded.timezone, after, until)]


def test_the_chair_receives_letters_and_visits_every_wednesday():
    days = occurrences("safe-family", "chair-reception", date(2011, 3, 1), date(2011, 4, 1))
    assert days == [
        date(2011, 3, 2),
        date(2011, 3, 9),
        date(2011, 3, 16),
        date(2011, 3, 23),
        date(2011, 3, 30),
    ]
    assert occurrences("safe-family", "rights-week", date(2011, 3, 1), date(2011, 11, 1)) == [
        date(2011, 3, 1)
    ]


def test_the_railway_screens_each_quarter_and_educates_supervised_persons_each_month_of_the_implementation():
    assert occurrences("safe-railway", "hazard-screening", date(2012, 6, 1), date(2012, 10, 1)) == [
        date(2012, 6, 1),
        date(2012, 9, 1),
    ]
    assert occurrences("safe-railway", "supervised-visit", date(2012, 6, 1), date(2012, 10, 1)) == [
        date(2012, 6, 1),
        date(2012, 9, 1),
    ]
    assert occurrences(
        "safe-railway", "supervised-education", date(2012, 6, 1), date(2012, 10, 1)
    ) == [date(2012, 6, 1), date(2012, 7, 1), date(2012, 8, 1), date(2012, 9, 1)]


def test_lingtai_holds_the_three_ones_every_quarter():
    for duty in ("quarterly-meeting", "quarterly-education", "quarterly-inspection"):
        days = occurrences("safe-unit-lingtai", duty, date(2006, 7, 1), date(2007, 7, 1))
        assert days == [date(2006, 7, 1), date(2006, 10, 1), date(2007, 1, 1), date(2007, 4, 1)]


def test_the_tobacco_branch_summarises_each_year_of_the_implementation():
    assert occurrences("safe-tobacco", "interim-summary", date(2006, 6, 1), date(2008, 10, 1)) == [
        date(2007, 1, 1),
        date(2008, 1, 1),
    ]


def test_the_standing_duties_run_all_the_campaign_long():
    standing = {
        slug: {(d.id, d.phases) for d in definition(slug).recurring}
        for slug in ("safe-unit-lingtai", "safe-family", "safe-railway")
    }
    assert standing == {
        "safe-unit-lingtai": {
            ("quarterly-meeting", None),
            ("quarterly-education", None),
            ("quarterly-inspection", None),
        },
        "safe-family": {("chair-reception", None)},
        "safe-railway": {("supervised-visit", None)},
    }


# clauses of the texts a coordinator looks for, each a task's or duty's own words (issue 17, item 7)
CLAUSES = [
    ("safe-unit-district", "社会治安大防控体系建设"),
    ("safe-unit-district", "严厉打击利用宗教进行违法犯罪的活动"),
    ("safe-unit-district", "向区综治办报送平安创建工作情况"),  # the reporting duty (item 4)
    ("safe-railway", "清理线路、车站周边的流浪乞讨等闲杂人员"),
    ("safe-railway", "与派出所管理工作接轨"),
    ("safe-family", "制定工作目标任务和考核验收细则"),
]


@pytest.mark.parametrize("slug, words", CLAUSES, ids=[f"{s}:{w[:8]}" for s, w in CLAUSES])
def test_the_text_s_clause_is_a_task_or_duty_in_its_own_words(slug, words):
    definition = load_definition_file(SHIPPED / f"{slug}.yaml")
    specs = [
        *definition.recurring,
        *(spec for phase in definition.phases for spec in (*phase.tasks, *phase.recurring)),
    ]
    assert any(words in spec.title or words in (spec.description or "") for spec in specs)


def test_the_tobacco_leading_group_is_the_one_the_opinion_names(sessions):
    organisation = load_organisation_file(SHIPPED / "org" / "dingxi-branch.yaml")
    with sessions.begin() as session:
        import_organisation(session, organisation)
    with sessions() as session:
        roles: dict[int, list[str]] = {}
        for person_id, role in session.execute(select(PersonRole.person_id, PersonRole.role)):
            roles.setdefault(person_id, []).append(role)
        group = {
            person.name: (person.title, sorted(roles.get(person.id, [])))
            for person in session.scalars(select(Person)).all()
            if person.unit.code == "dingxi-tobacco"
        }
    assert group["张维杰"][1] == ["leader"] and group["李红地"][1] == ["deputy"]
    for member in ("李晓伟", "黄金成", "陈杰", "韦育顺"):
        assert "member" in group[member][1], member
    assert "office_director" in group["韦育顺"][1] and "安保科" in group["韦育顺"][0]
