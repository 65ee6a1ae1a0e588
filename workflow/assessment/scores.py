"""The assessment (考核验收): the inspecting group enters each unit's scores and findings; the
result, graded.

Scores are entered only by the inspecting group (the definition's
``scorers``), only while the campaign is in the scoring phase, every change
audit-logged. Once the campaign leaves that phase they are frozen, and the
automatic part (deductions, vetoes from incidents and targets) is counted as
of the moment it left, so a published result never moves. The arithmetic,
the veto, grades and ranks are in ``grading.py``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow import audit
from workflow.access import Need, campaign_for, is_scorer, load_campaign, scorer_roles
from workflow.assessment.grades import Assessment, UnitResult, compute_assessment, scoring_state
from workflow.assessment.targets import evaluate_targets, incident_rows
from workflow.assessment.unit_counts import (
    UnitRef,
    count_units,
    participating_units,
    scored_subjects,
)
from workflow.audit import Actor
from workflow.clock import Clock
from workflow.definitions.catalogue import stored_definition
from workflow.definitions.reader import Definition
from workflow.errors import Forbidden, InvalidInput, NotFound, TransitionRefused
from workflow.limits import NOTE_LIMIT
from workflow.models import AssessmentFinding, Campaign, CampaignPhase, Score, Site

__all__ = [
    "Assessment",
    "ScoreSheet",
    "UnitResult",
    "assess",
    "assessment_as_of",
    "compute_assessment",
    "enter_scores",
    "scoring_state",
]


@dataclass(frozen=True)
class ScoreSheet:
    """What the inspecting group enters for a unit: item → points (None clears), finding → reason
    (None withdraws)."""

    items: Mapping[str, Any] = field(default_factory=dict)
    vetoes: Mapping[str, Any] = field(default_factory=dict)
    criticisms: Mapping[str, Any] = field(default_factory=dict)


def enter_scores(
    session: Session,
    campaign_id: int,
    unit_code: str,
    sheet: ScoreSheet,
    *,
    by: Actor,
    clock: Clock,
) -> UnitResult:
    """Enter (or clear) a unit's item scores and findings; audit-logged. Only the inspecting group,
    only during the scoring phase; anything out of range refuses the whole sheet."""
    # a score cannot race the phase leaving
    campaign = campaign_for(session, campaign_id, by, lock=True)
    definition = stored_definition(campaign.definition)
    spec = definition.assessment
    if spec is None:
        raise InvalidInput(f"campaign {campaign.id}'s definition has no assessment")
    if not is_scorer(session, definition, campaign.id, by):
        raise Forbidden(
            f"only the inspecting group ({', '.join(sorted(scorer_roles(definition)))}) enters "
            "scores"
        )
    state = scoring_state(definition, campaign)
    if state != "open":
        raise TransitionRefused(
            f"scores are entered during phase '{definition.scoring_phase()}'; they are "
            + ("frozen: the campaign has left it" if state == "frozen" else "not open yet")
        )
    subjects = scored_subjects(
        session, campaign, definition, participating_units(session, campaign)
    )
    # a unit's code first: a key site shares the organisation file's ids, not the units' table
    unit = next((u for u in subjects if u.code == unit_code and not u.is_site), None) or next(
        (u for u in subjects if u.code == unit_code), None
    )
    if unit is None:
        raise NotFound(f"no unit or scored key site '{unit_code}' in this campaign")
    if unit.is_site and (sheet.vetoes or sheet.criticisms):
        raise InvalidInput(
            f"{unit.name} is a key site: vetoes and notices of criticism are entered for units"
        )
    items = _checked_items(definition, sheet.items, site=unit.is_site)
    findings = {
        ("veto", rule): reason
        for rule, reason in _checked_findings(spec.veto, sheet.vetoes, "veto")
    }
    findings |= {
        ("criticism", rule): reason
        for rule, reason in _checked_findings(spec.criticism, sheet.criticisms, "criticism")
    }
    if not items and not findings:
        raise InvalidInput("nothing to enter: give items, vetoes or criticisms")
    now = clock.now()
    _store_scores(session, campaign, unit, items, by, now)
    _store_findings(session, campaign, unit, findings, by, now)
    session.flush()
    result = assess(session, campaign.id, by=by, clock=clock, check_access=False)
    return next(row for row in result.units if row.unit_id == unit.id)


def assess(
    session: Session, campaign_id: int, *, by: Actor, clock: Clock, check_access: bool = True
) -> Assessment:
    """Every unit's score, deductions, veto, grade and rank; for the leading group (others: not
    found)."""
    if check_access:
        campaign = campaign_for(session, campaign_id, by, Need.LEADING_GROUP)
    else:
        campaign = load_campaign(session, campaign_id)
    definition = stored_definition(campaign.definition)
    units = participating_units(session, campaign)
    subjects = scored_subjects(session, campaign, definition, units)
    as_of = assessment_as_of(session, definition, campaign, clock.now())
    counts = count_units(session, campaign, subjects, as_of)
    targets = evaluate_targets(
        definition, campaign, subjects, counts, incident_rows(session, campaign.id, as_of)
    )
    return compute_assessment(session, definition, campaign, subjects, counts, targets)


def assessment_as_of(
    session: Session, definition: Definition, campaign: Campaign, now: datetime
) -> datetime:
    """When the automatic part is counted: the moment the scoring phase ended once frozen, else
    now."""
    if scoring_state(definition, campaign) != "frozen":
        return now
    ended = session.scalar(
        select(CampaignPhase.ended_at).where(
            CampaignPhase.campaign_id == campaign.id,
            CampaignPhase.phase_key == definition.scoring_phase(),
        )
    )
    return min(ended or campaign.closed_at or now, now)


# --- helpers ------------------------------------------------------------------------------------


def _checked_items(
    definition: Definition, entered: Mapping[str, Any], *, site: bool = False
) -> dict[str, float | None]:
    subject = "sites" if site else "units"
    items = {
        item.id: item
        for item in definition.assessment.items  # type: ignore[union-attr]
        if subject in item.subjects
    }
    checked: dict[str, float | None] = {}
    for key, value in entered.items():
        if key not in items:
            raise InvalidInput(f"unknown score item {key!r} (items: {', '.join(items) or 'none'})")
        if value is None:
            checked[key] = None
            continue
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
        ):
            raise InvalidInput(f"{key}: points must be a number; got {value!r}")
        if not 0 <= value <= items[key].points:
            raise InvalidInput(
                f"{key}: {value:g} is outside 0–{items[key].points:g}, the item's range"
            )
        checked[key] = float(value)
    return checked


def _checked_findings(
    rules: tuple, entered: Mapping[str, Any], kind: str
) -> list[tuple[str, str | None]]:  # type: ignore[type-arg]
    by_id = {rule.id: rule for rule in rules}
    checked = []
    for key, reason in entered.items():
        rule = by_id.get(key)
        if rule is None:
            raise InvalidInput(
                f"unknown {kind} item {key!r} (declared: {', '.join(by_id) or 'none'})"
            )
        if rule.incident is not None or rule.target is not None:
            raise InvalidInput(
                f"{kind} {key!r} follows from the incident log and the targets; it is not entered"
            )
        if reason is not None:
            if not isinstance(reason, str) or not reason.strip():
                raise InvalidInput(f"{kind} {key!r} needs a reason (text)")
            if len(reason) > NOTE_LIMIT:
                raise InvalidInput(
                    f"{kind} {key!r}: the reason is too long (at most {NOTE_LIMIT} characters)"
                )
            reason = reason.strip()
        checked.append((key, reason))
    return checked


def _store_scores(
    session: Session,
    campaign: Campaign,
    unit: UnitRef,
    items: dict[str, float | None],
    by: Actor,
    now: datetime,
) -> None:
    site_id = -unit.id if unit.is_site else None
    owner = session.scalar(select(Site.unit_id).where(Site.id == site_id)) if site_id else unit.id
    stored = {
        row.item_key: row
        for row in session.scalars(
            select(Score).where(
                Score.campaign_id == campaign.id,
                Score.unit_id == owner,
                Score.site_id.is_(None) if site_id is None else Score.site_id == site_id,
                Score.item_key.in_(list(items)),
            )
        )
    }
    for key, points in items.items():
        row = stored.get(key)
        before = None if row is None else f"{row.points:g}"
        if points is None:
            if row is None:
                continue
            session.delete(row)
        elif row is None:
            row = Score(
                campaign_id=campaign.id,
                unit_id=owner,
                site_id=site_id,
                item_key=key,
                points=points,
                entered_at=now,
                entered_by_id=by.person_id,
            )
            session.add(row)
        else:
            row.points, row.entered_at, row.entered_by_id = points, now, by.person_id
        session.flush()
        audit.record(
            session,
            at=now,
            by=by,
            entity="score",
            entity_id=row.id,
            event="score",
            from_state=before,
            to_state=None if points is None else f"{points:g}",
            campaign_id=campaign.id,
            note=f"{unit.code}: {key}",
        )


def _store_findings(
    session: Session,
    campaign: Campaign,
    unit: UnitRef,
    findings: dict[tuple[str, str], str | None],
    by: Actor,
    now: datetime,
) -> None:
    for (kind, rule), reason in findings.items():
        row = session.scalar(
            select(AssessmentFinding).where(
                AssessmentFinding.campaign_id == campaign.id,
                AssessmentFinding.unit_id == unit.id,
                AssessmentFinding.rule_kind == kind,
                AssessmentFinding.rule_key == rule,
            )
        )
        if reason is None:
            if row is None:
                continue
            session.delete(row)
        elif row is None:
            row = AssessmentFinding(
                campaign_id=campaign.id,
                unit_id=unit.id,
                rule_kind=kind,
                rule_key=rule,
                reason=reason,
                entered_at=now,
                entered_by_id=by.person_id,
            )
            session.add(row)
        else:
            row.reason, row.entered_at, row.entered_by_id = reason, now, by.person_id
        session.flush()
        audit.record(
            session,
            at=now,
            by=by,
            entity=kind,
            entity_id=row.id,
            event="withdraw" if reason is None else "find",
            from_state=None,
            to_state=rule,
            campaign_id=campaign.id,
            note=f"{unit.code}: {reason or 'withdrawn'}",
        )
