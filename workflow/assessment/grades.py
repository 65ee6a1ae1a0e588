"""Grading (考核结果): a unit's score, deductions, veto, grade and rank, from the scores entered and
the counts.

A unit's score is the sum of the points its checklist items were given, less
the automatic deductions (each capped where the definition says), never below
zero: a score sheet has no negative scores. A veto (一票否决) fails the unit
whatever its score: it is ranked after every unit not vetoed and graded
criticised. Units with equal standing share a rank (1, 1, 3). A unit on the
notice of criticism is not also commended, whatever its score.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.assessment.targets import TargetResult, missed_by_unit
from workflow.assessment.unit_counts import CampaignCounts, UnitCounts, UnitRef, subject_key
from workflow.definitions.reader import Definition
from workflow.machines import CLOSED, DRAFT
from workflow.models import AssessmentFinding, Campaign, Score


@dataclass(frozen=True)
class DeductionLine:
    each: str
    what: str  # the rule in words, e.g. "escalation level 3", "missed target no-mass-incident"
    times: int
    points: float  # taken off, after the cap


@dataclass(frozen=True)
class Mark:
    """Why a unit is vetoed or on the notice of criticism."""

    rule: str
    title: str
    reason: str
    accountability: bool = False  # 追究领导责任


@dataclass
class UnitResult:
    unit_id: int
    code: str
    name: str
    items: dict[str, float | None]
    item_total: float
    deductions: list[DeductionLine]
    deducted: float
    score: float
    vetoes: list[Mark]
    criticisms: list[Mark]
    # commended | passed | criticised, once the unit's sheet is complete in or after the scoring
    # phase; scoring (评分中: its sheet is not complete yet) or unscored (the scoring phase ended
    # before it was); None: before the scoring phase, or the definition sets no thresholds
    grade: str | None
    sheet: str = "complete"  # complete | partial | empty: its checklist items given points
    rank: int | None = None  # among the units (or the key sites) graded; None for the others
    # a key site scored as a subject of its own (assessment.sites): the name of its unit; its
    # ``unit_id`` is then minus the site's id
    site_of: str | None = None

    @property
    def vetoed(self) -> bool:
        return bool(self.vetoes)

    @property
    def is_site(self) -> bool:
        return self.site_of is not None


@dataclass
class Assessment:
    campaign_id: int
    scoring_phase: str | None
    # pending (before the scoring phase) | open | frozen | none (no assessment in the definition)
    state: str
    as_of: datetime
    max_points: float
    units: list[UnitResult]  # by rank
    commended: list[UnitResult]
    criticised: list[UnitResult]

    def to_dict(self) -> dict[str, Any]:
        shown = {
            "campaign_id": self.campaign_id,
            "scoring_phase": self.scoring_phase,
            "state": self.state,
            "as_of": self.as_of.isoformat(),
            "max_points": self.max_points,
            "units": [_unit_dict(unit) for unit in self.units],
        }
        shown["commended"] = [unit.code for unit in self.commended]
        shown["criticised"] = [unit.code for unit in self.criticised]
        return shown


def compute_assessment(
    session: Session,
    definition: Definition,
    campaign: Campaign,
    units: list[UnitRef],
    counts: CampaignCounts,
    targets: list[TargetResult],
) -> Assessment:
    """The assessment from counts and target results already made (the report shares them)."""
    spec = definition.assessment
    state = scoring_state(definition, campaign)
    if spec is None:
        return Assessment(campaign.id, None, state, counts.as_of, 0, [], [], [])
    scores: dict[int, dict[str, float]] = {}  # subject key (a site's: minus its id) → item → points
    for unit_id, site_id, item, points in session.execute(
        select(Score.unit_id, Score.site_id, Score.item_key, Score.points).where(
            Score.campaign_id == campaign.id
        )
    ):
        scores.setdefault(subject_key(unit_id, site_id), {})[item] = points  # type: ignore[arg-type]
    findings: dict[tuple[int, str, str], str] = {
        (unit_id, kind, rule): reason
        for unit_id, kind, rule, reason in session.execute(
            select(
                AssessmentFinding.unit_id,
                AssessmentFinding.rule_kind,
                AssessmentFinding.rule_key,
                AssessmentFinding.reason,
            ).where(AssessmentFinding.campaign_id == campaign.id)
        )
    }
    missed = missed_by_unit(targets)
    titles = {kind.id: kind.title for kind in definition.incidents}
    ranked: list[UnitResult] = []  # graded: their sheet complete in or after the scoring phase
    waiting: list[UnitResult] = []
    for unit in units:
        held = counts.units[unit.id]
        given = scores.get(unit.id, {})
        subject = "sites" if unit.is_site else "units"
        items = {item.id: given.get(item.id) for item in spec.items if subject in item.subjects}
        item_total = sum(points for points in items.values() if points is not None)
        lines = [
            line
            for line in (
                _deduction(d, held, missed.get(unit.id, []))
                for d in spec.deductions
                if subject in d.subjects
            )
            if line
        ]
        deducted = sum(line.points for line in lines)
        unit_missed = {result.target: result for result in missed.get(unit.id, [])}

        def marks(rules: tuple, kind: str) -> list[Mark]:  # type: ignore[type-arg]
            found = []
            for rule in rules:
                accountable = getattr(rule, "accountability", False)
                if rule.incident is not None and held.incidents[rule.incident]:
                    title = titles.get(rule.incident, rule.incident)
                    reason = f"{held.incidents[rule.incident]} × {title}"
                elif rule.target is not None and rule.target in unit_missed:
                    reason = f"target missed: {unit_missed[rule.target].detail}"
                elif (
                    rule.incident is None
                    and rule.target is None
                    and (unit.id, kind, rule.id) in findings
                ):
                    reason = findings[(unit.id, kind, rule.id)]
                else:
                    continue
                found.append(Mark(rule.id, rule.title, reason, accountable))
            return found

        score = round(max(item_total - deducted, 0.0), 2)
        vetoes = marks(spec.veto, "veto")
        criticisms = marks(spec.criticism, "criticism")
        given_points = sum(points is not None for points in items.values())
        sheet = "complete" if given_points == len(items) else "partial" if given_points else "empty"
        # a verdict only once it exists: in or after the scoring phase, on a complete sheet (a
        # unit is not failed on the campaign's first day for a score of 0 nobody has given yet)
        judged = state in ("open", "frozen") and sheet == "complete"
        # a subject scored on fewer items (a key site) is held to the same share of its full marks
        share = sum(i.points for i in spec.items if i.id in items) / (spec.total_points() or 1)
        grade = (
            _grade(definition, score, bool(vetoes), share)
            if judged
            else {"open": "scoring", "frozen": "unscored"}.get(state)
        )
        if grade == "criticised":
            passed = spec.grades.passed * share if spec.grades else 0  # type: ignore[union-attr]
            why = "一票否决 vetoed" if vetoes else f"score {score:g} < {passed:g}"
            criticisms.insert(0, Mark("grade", "考核不合格 failed the assessment", why))
        result = UnitResult(
            unit.id,
            unit.code,
            unit.name,
            items,
            round(item_total, 2),
            lines,
            round(deducted, 2),
            score,
            vetoes,
            criticisms,
            grade,
            sheet,
            site_of=unit.site_of,
        )
        (ranked if judged else waiting).append(result)
    # the units graded, by standing, then the key sites (ranked among themselves); then those not
    # graded yet, by code
    ranked.sort(key=lambda r: (r.is_site, r.vetoed, -r.score, r.code))
    for position, result in enumerate(ranked):
        before = ranked[position - 1] if position else None
        if before is None or before.is_site != result.is_site:
            first = position  # the first of its kind
        same = before is not None and (before.is_site, before.vetoed, before.score) == (
            result.is_site,
            result.vetoed,
            result.score,
        )
        result.rank = before.rank if same else position - first + 1  # type: ignore[union-attr]
    results = ranked + sorted(waiting, key=lambda r: (r.is_site, r.code))
    # commended or criticised: in the scoring phase, a unit whose sheet is complete; once it is
    # over, every unit (the incidents and targets behind a criticism stand); before it, nobody.
    # The lists name units: a key site's grade is its unit's business
    listed = [r for r in {"open": ranked, "frozen": results}.get(state, []) if not r.is_site]
    commended = [r for r in listed if r.grade == "commended" and not r.criticisms]
    criticised = [r for r in listed if r.criticisms]
    return Assessment(
        campaign.id,
        definition.scoring_phase(),
        state,
        counts.as_of,
        spec.total_points(),
        results,
        commended,
        criticised,
    )


def scoring_state(definition: Definition, campaign: Campaign) -> str:
    """none (no assessment), pending (before the scoring phase), open (in it) or frozen (after
    it)."""
    phase = definition.scoring_phase()
    if phase is None:
        return "none"
    if campaign.state == CLOSED:
        return "frozen"
    if campaign.state == DRAFT:
        return "pending"
    ids = definition.phase_ids()
    here, there = ids.index(campaign.state), ids.index(phase)
    return "open" if here == there else "pending" if here < there else "frozen"


def _deduction(rule: Any, held: UnitCounts, missed: list[TargetResult]) -> DeductionLine | None:
    if rule.each == "overdue_task":
        times, what = held.tasks_overdue, "overdue task"
    elif rule.each == "overdue_rectification":
        times, what = held.rectifications_late, "rectification not fixed by its original deadline"
    elif rule.each == "escalation":
        times = (
            held.escalations[rule.level]
            if rule.level
            else sum(n for lvl, n in held.escalations.items() if lvl)
        )
        what = f"escalation level {rule.level}" if rule.level else "escalation level reached"
    elif rule.each == "missed_target":
        times = sum(1 for r in missed if rule.target in (None, r.target))
        what = f"missed target {rule.target}" if rule.target else "missed target"
    else:  # incident
        times = held.incidents[rule.incident] if rule.incident else sum(held.incidents.values())
        what = f"incident {rule.incident}" if rule.incident else "incident"
    if not times:
        return None
    taken = times * rule.points
    return DeductionLine(
        rule.each, what, times, min(taken, rule.cap) if rule.cap is not None else taken
    )


def _grade(definition: Definition, score: float, vetoed: bool, share: float = 1.0) -> str | None:
    grades = definition.assessment.grades  # type: ignore[union-attr]
    if grades is None:
        return "criticised" if vetoed else None
    if vetoed or score < grades.passed * share:
        return "criticised"
    return "commended" if score >= grades.commended * share else "passed"


def _unit_dict(unit: UnitResult) -> dict[str, Any]:
    # by hand, not dataclasses.asdict: that deep-copies every field, 0.4 s for 2,000 units
    return {
        "unit_id": unit.unit_id,
        "code": unit.code,
        "name": unit.name,
        "items": unit.items,
        "item_total": unit.item_total,
        "deductions": [dict(vars(line)) for line in unit.deductions],
        "deducted": unit.deducted,
        "score": unit.score,
        "vetoes": [dict(vars(mark)) for mark in unit.vetoes],
        "criticisms": [dict(vars(mark)) for mark in unit.criticisms],
        "grade": unit.grade,
        "sheet": unit.sheet,
        "rank": unit.rank,
        "vetoed": unit.vetoed,
        "kind": "site" if unit.is_site else "unit",
        "site_of": unit.site_of,
    }
