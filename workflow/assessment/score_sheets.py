"""The score sheets as the inspecting group's form shows them: each unit's points and findings, and
who may change them.

Read from the assessment itself (``assess``), so the form shows exactly what
the report will count. Only the veto items and criticism rules that are
*entered* (neither an incident nor a target behind them) are on the form: the
others follow from the incident log and the targets and are only shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from workflow.access import is_scorer
from workflow.assessment.grades import Mark
from workflow.assessment.scores import assess
from workflow.audit import Actor
from workflow.clock import Clock
from workflow.definitions.catalogue import stored_definition
from workflow.definitions.texts import english_twins
from workflow.models import Campaign


@dataclass(frozen=True)
class SheetLine:
    """A checklist item (``points``: its maximum) or an entered finding rule (``points`` None)."""

    id: str
    title: str
    points: float | None = None


@dataclass(frozen=True)
class UnitSheet:
    code: str
    name: str
    items: dict[str, float | None]  # item id → points given (None: not scored yet)
    vetoes: dict[str, str]  # entered veto id → reason
    criticisms: dict[str, str]  # entered criticism id → reason
    automatic: list[Mark]  # vetoes and criticisms that follow from incidents, targets or the grade
    score: float
    rank: int | None  # None: not graded (yet)
    grade: str | None
    site_of: str | None = None  # a key site (assessment.sites): its unit's name


@dataclass(frozen=True)
class ScoreSheets:
    campaign_id: int
    campaign_title: str
    state: str  # none | pending | open | frozen (grading.scoring_state)
    scoring_phase: str | None  # the phase's title
    may_enter: bool  # the sheets are open and this person is of the inspecting group
    items: list[SheetLine]
    veto_rules: list[SheetLine]
    criticism_rules: list[SheetLine]
    units: list[UnitSheet]  # by name, as the units are listed everywhere else; then key sites
    # the definition's texts (items, rules, phases, its title) → their English twins, for the page
    # in English
    english: Mapping[str, str] = field(default_factory=dict)


def score_sheets(session: Session, campaign_id: int, *, by: Actor, clock: Clock) -> ScoreSheets:
    """Every unit's sheet as of now; for the leading group (others: not found)."""
    result = assess(session, campaign_id, by=by, clock=clock)  # NotFound outside the leading group
    campaign = session.get(Campaign, campaign_id)
    definition = stored_definition(campaign.definition)  # type: ignore[union-attr]
    english = english_twins(definition)
    spec = definition.assessment
    if spec is None:
        title = campaign.title  # type: ignore[union-attr]
        return ScoreSheets(campaign_id, title, "none", None, False, [], [], [], [], english)
    entered_vetoes = {
        rule.id for rule in spec.veto if rule.incident is None and rule.target is None
    }
    entered_criticisms = {
        rule.id for rule in spec.criticism if rule.incident is None and rule.target is None
    }
    units = [
        UnitSheet(
            row.code,
            row.name,
            dict(row.items),
            {m.rule: m.reason for m in row.vetoes if m.rule in entered_vetoes},
            {m.rule: m.reason for m in row.criticisms if m.rule in entered_criticisms},
            [
                m
                for m in (*row.vetoes, *row.criticisms)
                if m.rule not in entered_vetoes | entered_criticisms
            ],
            row.score,
            row.rank,
            row.grade,
            row.site_of,
        )
        # the units by name, then the key sites by unit and name
        for row in sorted(result.units, key=lambda row: (row.is_site, row.site_of or "", row.name))
    ]
    phase = result.scoring_phase
    phase_title = definition.phase(phase).title if phase in definition.phase_ids() else phase
    return ScoreSheets(
        campaign_id,
        campaign.title,
        result.state,
        phase_title,  # type: ignore[union-attr]
        result.state == "open" and is_scorer(session, definition, campaign_id, by),
        [SheetLine(item.id, item.title, item.points) for item in spec.items],
        [SheetLine(rule.id, rule.title) for rule in spec.veto if rule.id in entered_vetoes],
        [
            SheetLine(rule.id, rule.title)
            for rule in spec.criticism
            if rule.id in entered_criticisms
        ],
        units,
        english,
    )
