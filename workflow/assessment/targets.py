"""Target status (目标): zero, reduce, max from the incident log; rate from the engine's own items;
judged by people.

- ``zero`` (不发生, 杜绝): no incident of the kind in any period;
- ``max`` (控制目标): no period with more than ``value`` incidents;
- ``reduce`` (同比减少, 逐年下降): each period fewer than the one before (the
  first period is compared with ``baseline`` when the definition gives one,
  else with the incidents recorded for the period before, which the log
  accepts back-dated); a period with none is met, there is nothing to curb;
- ``rate``: the measure's share reaches ``value`` percent (nothing to count: met);
- ``judged``: the inspecting group decides; no status is computed.

A calendar period (year, quarter, month) is the whole calendar period, so a
year-on-year comparison counts January's incidents of a campaign started in May.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.access import Need, campaign_for
from workflow.assessment.unit_counts import (
    CampaignCounts,
    UnitRef,
    campaign_window,
    count_units,
    participating_units,
    percent,
    scored_subjects,
    subject_key,
)
from workflow.audit import Actor
from workflow.campaigns.cascade import branches, descendants
from workflow.clock import Clock
from workflow.definitions.catalogue import stored_definition
from workflow.definitions.reader import Definition, TargetSpec
from workflow.models import Campaign, Incident

MONTHS_IN = {"year": 12, "quarter": 3, "month": 1}


@dataclass(frozen=True)
class TargetResult:
    """One target for one holder: a participating unit, a key site (``unit_id`` minus its id), or
    the campaign as a whole (``unit_id`` None)."""

    target: str
    title: str
    kind: str
    bundle: str | None
    unit_id: int | None
    met: bool | None  # None: judged by the inspecting group
    # incidents (zero: all; max: the worst period; reduce: the last period) or the rate in %
    actual: float | None
    expected: str
    detail: str


@dataclass(frozen=True)
class Period:
    label: str
    first: date
    last: date


IncidentRows = list[tuple[int, int | None, str, date]]  # (unit id, site id, kind, occurred on)


def target_status(
    session: Session, campaign_id: int, *, by: Actor, clock: Clock
) -> list[TargetResult]:
    """Every target of the campaign for each unit held to it, as of now; for the leading group
    (others: not found)."""
    campaign = campaign_for(session, campaign_id, by, Need.LEADING_GROUP)
    now = clock.now()
    definition = stored_definition(campaign.definition)
    units = scored_subjects(session, campaign, definition, participating_units(session, campaign))
    counts = count_units(session, campaign, units, now)
    return evaluate_targets(
        definition, campaign, units, counts, incident_rows(session, campaign.id, now)
    )


def incident_rows(session: Session, campaign_id: int, as_of: datetime) -> IncidentRows:
    """The campaign's incidents recorded by ``as_of``, back-dated ones included (reduce compares
    with them); and those of every campaign below it, each the incident of the sub-unit whose
    campaign it is under: a county's targets are summed over its towns and villages, by period."""
    rows: IncidentRows = [
        tuple(row)  # type: ignore[misc]
        for row in session.execute(
            select(Incident.unit_id, Incident.site_id, Incident.kind, Incident.occurred_on).where(
                Incident.campaign_id == campaign_id, Incident.recorded_at <= as_of
            )
        )
    ]
    campaign = session.get(Campaign, campaign_id)
    if campaign is None or campaign.child_definition_id is None:
        return rows
    branch = branches(campaign.id, descendants(session, campaign))
    rows += [
        (branch[below].unit_id, None, kind, occurred_on)
        for below, kind, occurred_on in session.execute(
            select(Incident.campaign_id, Incident.kind, Incident.occurred_on).where(
                Incident.campaign_id.in_(list(branch)), Incident.recorded_at <= as_of
            )
        )
    ]
    return rows


def evaluate_targets(
    definition: Definition,
    campaign: Campaign,
    units: list[UnitRef],
    counts: CampaignCounts,
    incidents: IncidentRows,
) -> list[TargetResult]:
    """The status of each target for each of its holders (a pure function of the counts and the
    incidents). ``units``: the scored subjects; a key site among them (``UnitRef.is_site``) holds
    the targets ``per: site``."""
    start, end = campaign_window(campaign, counts.as_of)
    days: dict[tuple[str, int | None], list[date]] = defaultdict(list)
    for unit_id, site_id, kind, occurred_on in incidents:
        if occurred_on <= end:
            days[(kind, unit_id)].append(occurred_on)
            days[(kind, None)].append(occurred_on)
            if site_id is not None:
                days[(kind, subject_key(unit_id, site_id))].append(occurred_on)
    results = []
    for target in definition.targets:
        holders: list[int | None] = (
            [None]
            if target.per == "campaign"
            else [unit.id for unit in units if unit.is_site == (target.per == "site")]
        )
        spans = periods(target.period, start, end)
        for holder in holders:
            if target.kind == "rate":
                held = counts.total if holder is None else counts.units[holder]
                results.append(_rate(target, holder, *held.rate(target.measure or "")))
            elif target.kind == "judged":
                results.append(
                    TargetResult(
                        target.id,
                        target.title,
                        target.kind,
                        target.bundle,
                        holder,
                        None,
                        None,
                        "judged by the inspecting group",
                        "",
                    )
                )
            else:
                results.append(
                    _incident_target(
                        target, holder, days.get((target.incident or "", holder), []), spans
                    )
                )
    return results


def missed_by_unit(results: list[TargetResult]) -> dict[int, list[TargetResult]]:
    """The targets each unit missed (campaign-wide targets are no unit's)."""
    missed: dict[int, list[TargetResult]] = defaultdict(list)
    for result in results:
        if result.met is False and result.unit_id is not None:
            missed[result.unit_id].append(result)
    return missed


def periods(period: str, start: date, end: date) -> list[Period]:
    """The periods from ``start`` to ``end``: the campaign itself, or the calendar years, quarters
    or months."""
    if period not in MONTHS_IN:
        return [Period("campaign", start, end)]
    found = [_calendar_period(period, start)]
    while found[-1].last < end:
        found.append(_calendar_period(period, found[-1].last + timedelta(days=1)))
    return found


def previous(period: str, first: Period) -> Period:
    """The period before ``first``: the calendar period before, or as many days before the campaign
    started."""
    if period not in MONTHS_IN:
        length = (first.last - first.first).days + 1
        return Period(
            "before", first.first - timedelta(days=length), first.first - timedelta(days=1)
        )
    return _calendar_period(period, first.first - timedelta(days=1))


# --- helpers ------------------------------------------------------------------------------------


def _rate(target: TargetSpec, holder: int | None, numerator: int, denominator: int) -> TargetResult:
    share = percent(numerator, denominator)
    met = share is None or share >= (target.value or 0)
    return TargetResult(
        target.id,
        target.title,
        target.kind,
        target.bundle,
        holder,
        met,
        share,
        f"≥ {target.value or 0:g}%",
        f"{numerator}/{denominator}",
    )


def _incident_target(
    target: TargetSpec, holder: int | None, days: list[date], spans: list[Period]
) -> TargetResult:
    def count(span: Period) -> int:
        return sum(1 for day in days if span.first <= day <= span.last)

    counted = [(span, count(span)) for span in spans]
    per = "" if target.period == "campaign" else f" per {target.period}"
    if target.kind == "zero":
        total = sum(n for _span, n in counted)
        return TargetResult(
            target.id,
            target.title,
            target.kind,
            target.bundle,
            holder,
            total == 0,
            total,
            "0",
            f"{total} incident(s)",
        )
    if target.kind == "max":
        limit = target.value or 0
        worst = max((n for _span, n in counted), default=0)
        detail = ", ".join(f"{span.label}: {n}" for span, n in counted)
        return TargetResult(
            target.id,
            target.title,
            target.kind,
            target.bundle,
            holder,
            worst <= limit,
            worst,
            f"≤ {limit:g}{per}",
            detail,
        )
    # reduce
    before = previous(target.period, spans[0])
    compared = target.baseline if target.baseline is not None else count(before)
    met, parts = True, []
    for span, n in counted:
        met = met and (n == 0 or n < compared)
        parts.append(f"{span.label}: {n} (before: {compared})")
        compared = n
    expected = (
        f"< {target.baseline} then fewer each period"
        if target.baseline is not None
        else "< the period before"
    )
    return TargetResult(
        target.id,
        target.title,
        target.kind,
        target.bundle,
        holder,
        met,
        counted[-1][1],
        expected,
        "; ".join(parts),
    )


def _calendar_period(period: str, day: date) -> Period:
    months = MONTHS_IN[period]
    index = (day.year * 12 + day.month - 1) // months * months
    first = date(index // 12, index % 12 + 1, 1)
    following = index + months
    last = date(following // 12, following % 12 + 1, 1) - timedelta(days=1)
    if period == "year":
        label = str(first.year)
    elif period == "quarter":
        label = f"{first.year}-Q{(first.month - 1) // 3 + 1}"
    else:
        label = f"{first.year}-{first.month:02d}"
    return Period(label, first, last)
