"""The organisation's role changes reach every running campaign's role bindings, at once.

Authorisation reads ``role_bindings`` (who holds which role of a campaign, for
which unit); they were written when the campaign started and never changed,
so a role taken away in the organisation file kept working. Two ways out were
possible: authorise from the organisation directly, or make the bindings
follow it. The bindings follow, because they are the campaign's own record:
a coordinator's hand-over moves a binding inside one campaign only (the
successor covers the post there, whatever the file says), a closed campaign
keeps who held what, and the eight places that read bindings stay as they are.
So what the organisation *changed* is applied, not the whole file re-resolved
(which would undo every hand-over): a role given up is withdrawn where that
person holds it, a role taken up is bound where the campaign's definition has
it for that unit. Each change is an audit event of its campaign (entity
``role``, ``grant`` or ``withdraw``), so who held what when stays on record.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from workflow import audit
from workflow.audit import Actor
from workflow.definitions.catalogue import stored_definition
from workflow.models import Campaign, CampaignUnit, Person, RoleBinding, Unit
from workflow.organisation.directory import ImportSummary, RoleChange, import_organisation
from workflow.organisation.org_file import Organisation
from workflow.people.administrators import forget_administered, grant_administrator


@dataclass
class Rebinding:
    """What following the organisation changed in the running campaigns."""

    granted: int = 0
    withdrawn: int = 0
    # "campaign 3: role 'leader' of town (东风镇) is now held by nobody"
    vacant: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        text = f"running campaigns: {self.granted} role(s) granted, {self.withdrawn} withdrawn"
        return text + "".join(f"\nwarning: {line}" for line in self.vacant)


def import_and_rebind(
    session: Session, organisation: Organisation, *, now: datetime, by: Actor
) -> tuple[ImportSummary, Rebinding]:
    """Import an organisation file, grant the administrations it names (a file never revokes one:
    it may cover part of the tree), and let every running campaign follow its role changes."""
    summary = import_organisation(session, organisation)
    forget_administered(session)  # the file may have added units under administered ones
    for spec in organisation.people:
        for unit_code in spec.administers:
            grant_administrator(session, spec.email, unit_code, by=by, now=now)
    return summary, follow_role_changes(session, summary.role_changes, now=now, by=by)


def follow_role_changes(
    session: Session, changes: Iterable[RoleChange], *, now: datetime, by: Actor
) -> Rebinding:
    """Apply role changes to the bindings of every campaign not closed; audit each one."""
    result = Rebinding()
    changes = list(changes)
    if not changes:
        return result
    for campaign in session.scalars(
        select(Campaign).where(Campaign.closed_at.is_(None)).order_by(Campaign.id)
    ):
        _follow_in(session, campaign, changes, now, by, result)
    session.flush()
    return result


def bound_roles(session: Session, person_id: int) -> list[RoleChange]:
    """The person's bindings in running campaigns, as the changes that would withdraw them."""
    rows = session.execute(
        select(RoleBinding.role, RoleBinding.unit_id)
        .join(Campaign, Campaign.id == RoleBinding.campaign_id)
        .where(RoleBinding.person_id == person_id, Campaign.closed_at.is_(None))
        .distinct()
    )
    return [RoleChange(person_id, role, unit_id, held=False) for role, unit_id in rows]


# --- helpers ------------------------------------------------------------------------------------


def _follow_in(
    session: Session,
    campaign: Campaign,
    changes: list[RoleChange],
    now: datetime,
    by: Actor,
    result: Rebinding,
) -> None:
    definition = stored_definition(campaign.definition)
    roles = {role.id: role for role in definition.roles}
    sub_units = set(
        session.scalars(select(CampaignUnit.unit_id).where(CampaignUnit.campaign_id == campaign.id))
    )
    bindings = {
        (b.role, b.unit_id, b.person_id)
        for b in session.scalars(select(RoleBinding).where(RoleBinding.campaign_id == campaign.id))
    }
    needed = definition.referenced_roles() | {r.id for r in definition.roles if r.required}
    emptied: set[tuple[str, int]] = set()
    for change in changes:
        key = (change.role, change.unit_id, change.person_id)
        if not change.held:
            if key not in bindings:
                continue
            session.execute(
                delete(RoleBinding).where(
                    RoleBinding.campaign_id == campaign.id,
                    RoleBinding.role == change.role,
                    RoleBinding.unit_id == change.unit_id,
                    RoleBinding.person_id == change.person_id,
                )
            )
            bindings.discard(key)
            emptied.add((change.role, change.unit_id))
            result.withdrawn += 1
        else:
            role = roles.get(change.role)
            in_scope = role is not None and (
                change.unit_id in sub_units
                if role.scope == "unit"
                else change.unit_id == campaign.unit_id
            )
            if not in_scope or key in bindings:
                continue
            session.add(
                RoleBinding(
                    campaign_id=campaign.id,
                    role=change.role,
                    unit_id=change.unit_id,
                    person_id=change.person_id,
                )
            )
            bindings.add(key)
            result.granted += 1
        _record(session, campaign, change, now, by)
    for role, unit_id in sorted(emptied):
        if role in needed and not any(b[:2] == (role, unit_id) for b in bindings):
            unit = session.get(Unit, unit_id)
            result.vacant.append(
                f"campaign {campaign.id}: role '{role}' of {unit.code if unit else unit_id} "
                f"({unit.name if unit else '?'}) is now held by nobody"
            )


def _record(
    session: Session, campaign: Campaign, change: RoleChange, now: datetime, by: Actor
) -> None:
    person = session.get(Person, change.person_id)
    unit = session.get(Unit, change.unit_id)
    audit.record(
        session,
        at=now,
        by=by,
        entity="role",
        entity_id=change.person_id,
        event="grant" if change.held else "withdraw",
        from_state=None if change.held else change.role,
        to_state=change.role if change.held else None,
        campaign_id=campaign.id,
        note=(
            f"{person.email if person else change.person_id}: {change.role} of "
            f"{unit.code if unit else change.unit_id}, following the organisation"
        ),
    )
