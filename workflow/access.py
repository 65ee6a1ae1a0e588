"""Who may see or change a campaign: the one place for that rule.

A person's access to a campaign follows from the roles bound to them in it
(``role_bindings``) and the items they hold in it, at one of five levels:

- ``Need.OWN_ITEMS``: any role in the campaign, or items of their own in it (a
  task assigned to them, a rectification or a letter they are responsible for, a
  responsibility letter they sign):
  a site keeper with no role sees the campaign's page, read-only, with his own
  items (:func:`holds_items`); so does an administrator of the campaign's unit.
  Only the campaign's page (the API's GET of it too) and the campaign list ask
  for no more; every other route keeps its level.
- ``Need.MEMBER``: any role in the campaign. To anyone else the campaign does
  not exist (not found), so its existence is private.
- ``Need.LEADING_GROUP``: a role bound to the campaign's own unit. They read the
  whole register, the standing, the logs and the report; to the others, the
  village heads included, those do not exist either (not found).
- ``Need.COORDINATOR``: one of the definition's ``coordinators`` roles. They
  advance, register hazards, verify, reassign. A member who is not one is told
  so (forbidden); an outsider still finds nothing.
- ``Need.SCORER``: one of the assessment's ``scorers`` (else the coordinators).

A campaign started by a cascade (a town's under the county's) is read by the leading group of
every campaign above it, as if they were of its own (:func:`reads_from_above`); acting in it
needs a role there (forbidden otherwise). Its people read nothing above them nor beside them.

An operator (the ``pingan`` command run on the server) passes every level.
The official working-day calendar is every campaign's: only an operator or an
administrator of a top unit (one with no parent) keeps it (:func:`keeps_calendar`).
An administrator of a unit (``pingan admin grant``) manages that unit and every unit under it:
its people, roles, key sites and rosters, its definitions and the campaigns started for it
(:func:`administers`); an administrator of a village never reaches the town above it. A campaign is
started by an operator, an administrator of its unit or a coordinator of the new campaign
(:func:`may_start_campaign`).
A stand-in (代理) for a person away is named by the person, an administrator of their unit or a
coordinator of a campaign they take part in (:func:`may_name_stand_in`).
Which entries of the pages' main menu a person uses follows from the same rows
(:func:`menu_entries`).
Item-level rules (the responsible person of a rectification, the assignee of a
task) stay with their items, built from the predicates below.

A key site's page (the address its QR code holds) and the check-in there are for the site's
responsible person, anyone given work at the site (a patrol, an inspector), whoever stands in for
one of them today, and the leading group of a campaign the site's unit takes part in
(:func:`may_visit_site`); to anyone else the site does not exist.

Work of a campaign goes only to people of it (:func:`assignable_person`): an
active person of the campaign's unit or of a unit taking part. Naming anyone
else is refused with one message whether the address is unknown, inactive or
of another unit, so the answer does not tell which addresses exist.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import Enum

from sqlalchemy import CompoundSelect, Exists, Select, or_, select, union
from sqlalchemy.orm import Session

from workflow.audit import Actor
from workflow.definitions.catalogue import stored_definition
from workflow.definitions.reader import Definition
from workflow.errors import Forbidden, InvalidInput, NotFound
from workflow.machines import CLOSED
from workflow.models import (
    Administrator,
    Campaign,
    CampaignUnit,
    Letter,
    Person,
    Petition,
    Rectification,
    RoleBinding,
    Site,
    Task,
    Unit,
)
from workflow.organisation.directory import person_by_email
from workflow.people.administrators import administered_units


class Need(Enum):
    """The level of access a use case needs, from least to most."""

    OWN_ITEMS = "own items"
    MEMBER = "member"
    LEADING_GROUP = "leading group"
    COORDINATOR = "coordinator"
    SCORER = "scorer"


@dataclass(frozen=True)
class CampaignAccess:
    """What a person may do in a campaign, as the engine's rules say."""

    takes_part: bool  # holds a role in it
    leading_group: bool  # sees the whole register, the standing and the escalation log
    coordinator: bool  # advances, registers hazards, verifies, reassigns
    # no role, but items of their own in it: sees its page, read-only, with those items only
    own_items_only: bool = False
    # no role, but in the leading group of a campaign above it: reads it all, acts in nothing
    from_above: bool = False

    @property
    def sees_campaign(self) -> bool:
        """Whether the campaign's page (and its place in the campaign list) is theirs to see."""
        return self.takes_part or self.own_items_only or self.from_above


@dataclass(frozen=True)
class MenuEntries:
    """The main menu's entries a person uses (the inbox, done list and account are everyone's)."""

    campaigns: bool  # a role in some campaign, or items of their own in one
    leader_view: bool  # in the leading group of a campaign not closed: its standing is theirs
    # 管理: the administration pages, an administrator's of any unit (and the operator's)
    administration: bool = False


def campaign_for(
    session: Session,
    campaign_id: int,
    by: Actor,
    need: Need = Need.MEMBER,
    *,
    lock: bool = False,
    doing: str = "do this",
) -> Campaign:
    """The campaign, if ``by`` has the access ``need`` names; else not found (or forbidden, see the
    module).

    ``lock`` reads it FOR UPDATE (fresh from the database): a move that checks the
    campaign's state queues behind another one on PostgreSQL instead of both
    passing the check; ``doing`` completes the refusal "only a coordinator … may …".
    """
    campaign = load_campaign(session, campaign_id, lock=lock)
    if by.is_operator:
        return campaign
    if need is Need.LEADING_GROUP:
        sees = in_leading_group(session, campaign.id, campaign.unit_id, by)
    elif need is Need.OWN_ITEMS:
        sees = (
            takes_part(session, campaign.id, by)
            or holds_items(session, campaign.id, by)
            or administers(session, by, campaign.unit_id)
        )
    else:
        sees = takes_part(session, campaign.id, by)
    if not sees and reads_from_above(session, campaign, by):
        if need in (Need.OWN_ITEMS, Need.MEMBER, Need.LEADING_GROUP):
            return campaign
        raise Forbidden(
            f"only a coordinator of this campaign may {doing}: the campaign above reads it"
        )
    if not sees:  # to anyone else the campaign (or this side of it) does not exist
        raise NotFound(f"no campaign {campaign_id}")
    if need is Need.COORDINATOR:
        require_coordinator(session, campaign, by, doing=doing)
    elif need is Need.SCORER:
        wanted = scorer_roles(stored_definition(campaign.definition))
        if not _roles(session, campaign.id, by) & wanted:
            raise Forbidden(f"only the inspecting group ({', '.join(sorted(wanted))}) may {doing}")
    return campaign


def require_coordinator(
    session: Session, campaign: Campaign, by: Actor, *, doing: str = "do this"
) -> None:
    """Refuse (forbidden) unless ``by`` coordinates ``campaign``: for moves on an item already shown
    to them."""
    if not is_coordinator(session, stored_definition(campaign.definition), campaign.id, by):
        raise Forbidden(f"only a coordinator of this campaign may {doing}")


def load_campaign(session: Session, campaign_id: int, *, lock: bool = False) -> Campaign:
    """The campaign whatever the person: for the operator's commands and for callers that check
    access next."""
    if lock:
        campaign = session.scalar(
            select(Campaign)
            .where(Campaign.id == campaign_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    else:
        campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(f"no campaign {campaign_id}")
    return campaign


def campaign_unit_ids(session: Session, campaign: Campaign) -> set[int]:
    """The campaign's own unit and the units taking part in it (``campaign_units``)."""
    return {
        campaign.unit_id,
        *session.scalars(
            select(CampaignUnit.unit_id).where(CampaignUnit.campaign_id == campaign.id)
        ),
    }


def assignable_person(session: Session, campaign: Campaign, email: str, *, what: str) -> Person:
    """The person with ``email`` if work of ``campaign`` may be given to them: active, and of its
    unit or of a unit taking part (the forms offer only these people).

    Anyone else is refused with the same InvalidInput, ``what`` (say, "the responsible person")
    being the only variable part: an unknown address, an inactive person and a person of another
    town are told apart by nobody.
    """
    try:
        person = person_by_email(session, email)
    except NotFound:
        person = None
    if (
        person is None
        or not person.active
        or person.unit_id not in campaign_unit_ids(session, campaign)
    ):
        raise InvalidInput(
            f"no active person of this campaign's units has the e-mail address given for {what}"
        )
    return person


def campaign_access(session: Session, campaign: Campaign, by: Actor) -> CampaignAccess:
    """What ``by`` may do in ``campaign``: what the pages show and offer."""
    if by.is_operator:
        return CampaignAccess(True, True, True)
    roles = _roles(session, campaign.id, by)
    if not roles and reads_from_above(session, campaign, by):
        return CampaignAccess(False, True, False, from_above=True)
    if not roles:
        # an administrator of its unit (who may have started it) sees its page as a holder of items
        return CampaignAccess(
            False,
            False,
            False,
            holds_items(session, campaign.id, by) or administers(session, by, campaign.unit_id),
        )
    coordinator = bool(roles & set(stored_definition(campaign.definition).coordinators))
    leading = in_leading_group(session, campaign.id, campaign.unit_id, by)
    return CampaignAccess(True, leading, coordinator)


def roles_of(session: Session, campaign_id: int, person_id: int) -> set[str]:
    """The roles a person holds in a campaign."""
    return set(
        session.scalars(
            select(RoleBinding.role).where(
                RoleBinding.campaign_id == campaign_id, RoleBinding.person_id == person_id
            )
        )
    )


def takes_part(session: Session, campaign_id: int, actor: Actor) -> bool:
    """Whether the actor holds any role in the campaign."""
    return actor.is_operator or bool(_roles(session, campaign_id, actor))


def holds_items(session: Session, campaign_id: int, actor: Actor) -> bool:
    """Whether a task of the campaign is assigned to the actor, or a rectification or letter of it
    is theirs to handle (in any state: what they finished stays theirs to look at)."""
    if actor.person_id is None:
        return False
    held = [query.exists() for query in _held_items(actor.person_id, campaign_id)]
    return bool(session.scalar(select(or_(*held))))


def campaigns_held(person_id: int) -> CompoundSelect[tuple[int]]:
    """The ids of the campaigns a person holds a role or items in (``Need.OWN_ITEMS``), for an
    ``IN``."""
    return union(
        select(RoleBinding.campaign_id).where(RoleBinding.person_id == person_id),
        *_held_items(person_id),
    )


def menu_entries(session: Session, actor: Actor) -> MenuEntries:
    """Which of the main menu's entries the actor uses: one statement whose EXISTS are each an
    index probe (``ix_role_bindings_person``, ``ix_tasks_inbox``, ``ix_rectifications_responsible``,
    ``ix_petitions_responsible``, ``ix_letters_signer``), cheap enough for every page."""
    if actor.is_operator:
        return MenuEntries(True, True, True)
    if actor.person_id is None:
        return MenuEntries(False, False)
    person = actor.person_id
    # the leader view's own rule (webapp/pages/leaders.py): the standing of each campaign not closed
    # whose leading group they are in
    leads = (
        select(RoleBinding.id)
        .join(Campaign, Campaign.id == RoleBinding.campaign_id)
        .where(
            RoleBinding.person_id == person,
            RoleBinding.unit_id == Campaign.unit_id,
            Campaign.state != CLOSED,
        )
        .exists()
    )
    bound = select(RoleBinding.id).where(RoleBinding.person_id == person).exists()
    held = [query.exists() for query in _held_items(person)]
    administers_some = select(Administrator.id).where(Administrator.person_id == person).exists()
    row = session.execute(select(or_(bound, *held), leads, administers_some)).one()
    return MenuEntries(bool(row[0]), bool(row[1]), bool(row[2]))


def keeps_calendar(session: Session, actor: Actor) -> bool:
    """Whether the actor may enter the official calendar (holidays, 调休): an operator, or an
    administrator of a top unit, since every campaign of every unit shares the one calendar."""
    if actor.is_operator:
        return True
    if actor.person_id is None:
        return False
    return bool(session.scalar(select(_keeps_calendar(actor.person_id))))


def administered_unit_ids(session: Session, actor: Actor) -> set[int] | None:
    """The ids of the units the actor administers (each granted unit and every unit under it);
    ``None`` for an operator, who administers every unit."""
    if actor.is_operator:
        return None
    if actor.person_id is None:
        return set()
    return administered_units(session, actor.person_id)


def administers(session: Session, actor: Actor, unit_id: int) -> bool:
    """Whether the actor administers the unit: granted it or a unit above it (or is the
    operator)."""
    ids = administered_unit_ids(session, actor)
    return ids is None or unit_id in ids


def require_administrator(session: Session, actor: Actor, unit_id: int | None = None) -> None:
    """Refuse (forbidden) unless the actor administers ``unit_id``, or, with no unit given, some
    unit: the administration pages' gate. A unit outside their tree is refused exactly as one that
    does not exist is refused by the caller's look-up, so a village's administrator learns nothing
    of the town above."""
    ids = administered_unit_ids(session, actor)
    if ids is None:
        return
    if unit_id is None:
        if not ids:
            raise Forbidden("only an administrator may open the administration pages")
    elif unit_id not in ids:
        raise Forbidden("only an administrator of this unit or a unit above it may change it")


def administrative_actor(session: Session, actor: Actor, unit_ids: Iterable[int]) -> Actor:
    """The actor with an operator's standing for one administrative act (a deactivation with its
    hand-over, a role moved to a new holder) about people of ``unit_ids``, once it is checked here
    that the actor administers every one of those units; Forbidden otherwise. The audit trail
    still names the administrator (the label is theirs)."""
    for unit_id in set(unit_ids):
        require_administrator(session, actor, unit_id)
    if actor.is_operator:
        return actor
    return Actor(label=actor.label, person_id=actor.person_id, is_operator=True)


def may_start_campaign(
    session: Session, actor: Actor, unit_id: int, coordinator_roles: set[str]
) -> bool:
    """Whether the actor may start a campaign for the unit: an operator, an administrator of the
    unit (or of a unit above it), or a coordinator of the new campaign (``coordinator_roles``: the
    definition's coordinator roles the actor would hold in it, as its roles resolve)."""
    return bool(coordinator_roles) or administers(session, actor, unit_id)


def require_may_start_campaign(
    session: Session, actor: Actor, unit_id: int, coordinator_roles: set[str]
) -> None:
    """Refuse (forbidden) unless :func:`may_start_campaign`."""
    if not may_start_campaign(session, actor, unit_id, coordinator_roles):
        raise Forbidden(
            "only a coordinator of the campaign's unit or an administrator of the unit may start it"
        )


def require_calendar_keeper(session: Session, actor: Actor) -> None:
    """Refuse (forbidden) unless :func:`keeps_calendar`."""
    if not keeps_calendar(session, actor):
        raise Forbidden(
            "only an operator or an administrator of a top unit may change the official calendar"
        )


def may_visit_site(session: Session, site: Site, actor: Actor, absent: Iterable[int] = ()) -> bool:
    """Whether the actor may open a key site's page and check in there. ``absent``: the people the
    actor stands in for today (their site is the actor's while they are away)."""
    if actor.is_operator:
        return True
    if actor.person_id is None:
        return False
    people = {actor.person_id, *absent}
    if site.responsible_id in people:
        return True
    given_work = select(Task.id).where(Task.site_id == site.id, Task.assignee_id.in_(people))
    if session.scalar(given_work.limit(1)) is not None:
        return True
    return any(True for _ in led_campaigns_covering(session, site.unit_id, actor))


def led_campaigns_covering(session: Session, unit_id: int, actor: Actor) -> Iterator[Campaign]:
    """The campaigns not closed that cover a unit (its own, or one it takes part in) whose leading
    group the actor is in (or one above it), in the order they were started; one at a time, so a
    caller that needs one stops at the first."""
    covering = (
        select(Campaign)
        .where(
            Campaign.state != CLOSED,
            or_(
                Campaign.unit_id == unit_id,
                Campaign.id.in_(
                    select(CampaignUnit.campaign_id).where(CampaignUnit.unit_id == unit_id)
                ),
            ),
        )
        .order_by(Campaign.id)
    )
    for campaign in session.scalars(covering):
        if in_leading_group(session, campaign.id, campaign.unit_id, actor):
            yield campaign


def in_leading_group(
    session: Session, campaign_id: int, campaign_unit_id: int, actor: Actor
) -> bool:
    """Whether the actor holds a role bound to the campaign's own unit, or is of the leading group
    of a campaign above it (:func:`reads_from_above`): they see its whole register."""
    if actor.is_operator:
        return True
    if actor.person_id is None:
        return False
    bound = select(RoleBinding.id).where(
        RoleBinding.campaign_id == campaign_id,
        RoleBinding.person_id == actor.person_id,
        RoleBinding.unit_id == campaign_unit_id,
    )
    if session.scalar(bound.limit(1)) is not None:
        return True
    campaign = session.get(Campaign, campaign_id)
    return campaign is not None and reads_from_above(session, campaign, actor)


def reads_from_above(session: Session, campaign: Campaign, actor: Actor) -> bool:
    """Whether the actor is in the leading group of a campaign above ``campaign`` (its parent's,
    its grandparent's …): the county office reads its towns' and villages' campaigns. A sub-unit's
    people hold no role in their siblings' campaigns nor in their parent's: they read none."""
    if campaign.parent_id is None or actor.person_id is None:
        return False
    parent = session.get(Campaign, campaign.parent_id)
    return parent is not None and in_leading_group(session, parent.id, parent.unit_id, actor)


def leading_groups_of(person_id: int) -> Select[tuple[int]]:
    """The ids of the campaigns in whose leading group the person is (a role bound to the
    campaign's own unit, as :func:`in_leading_group`), for an ``IN``."""
    return (
        select(RoleBinding.campaign_id)
        .join(Campaign, Campaign.id == RoleBinding.campaign_id)
        .where(RoleBinding.person_id == person_id, RoleBinding.unit_id == Campaign.unit_id)
    )


def is_coordinator(
    session: Session, definition: Definition, campaign_id: int, actor: Actor
) -> bool:
    """Whether the actor holds one of the definition's coordinator roles in this campaign."""
    return actor.is_operator or bool(
        _roles(session, campaign_id, actor) & set(definition.coordinators)
    )


def is_scorer(session: Session, definition: Definition, campaign_id: int, actor: Actor) -> bool:
    """Whether the actor is of the campaign's inspecting group (an operator always is)."""
    return actor.is_operator or bool(_roles(session, campaign_id, actor) & scorer_roles(definition))


def scorer_roles(definition: Definition) -> set[str]:
    """The roles of the inspecting group: the assessment's ``scorers``, else the coordinators."""
    spec = definition.assessment
    return set((spec.scorers if spec else ()) or definition.coordinators)


def require_higher_standing(
    session: Session, definition: Definition, campaign_id: int, actor: Actor, roles: list[str]
) -> None:
    """Refuse (Forbidden) unless ``actor`` stands above every one of the leading-group ``roles``.

    Standing is the order of the definition's ``roles`` (the leading group is listed from its
    head down): the leader's post is handed over by the operator only, the office director's by
    the leader or a deputy, never by the office director themself, so no coordinator can give a
    leading-group role away, or to a village head, on their own say.
    """
    if actor.is_operator or not roles:
        return
    rank = {role.id: position for position, role in enumerate(definition.roles)}
    own = [
        rank[role]
        for role in _roles(session, campaign_id, actor)
        if role in rank and definition.role(role).scope == "group"
    ]
    if not own or min(own) >= min(rank[role] for role in roles):
        raise Forbidden(
            f"handing over the leading-group role(s) {', '.join(roles)} needs a coordinator of "
            "higher standing, or the operator (pingan person deactivate --hand-over-to)"
        )


def may_name_stand_in(session: Session, actor: Actor, person: Person) -> bool:
    """Whether the actor may name (or end) a stand-in for ``person``: the person themself, an
    administrator of their unit (or a unit above it), or a coordinator of a campaign not closed in
    which the person holds a role (workflow/people/stand_ins.py)."""
    if actor.is_operator or actor.person_id == person.id:
        return True
    if actor.person_id is None:
        return False
    if administers(session, actor, person.unit_id):
        return True
    campaigns = session.scalars(
        select(Campaign).where(
            Campaign.state != CLOSED,
            Campaign.id.in_(
                select(RoleBinding.campaign_id).where(RoleBinding.person_id == person.id)
            ),
        )
    )
    return any(
        is_coordinator(session, stored_definition(campaign.definition), campaign.id, actor)
        for campaign in campaigns
    )


def require_may_name_stand_in(session: Session, actor: Actor, person: Person) -> None:
    """Refuse (forbidden) unless :func:`may_name_stand_in`."""
    if not may_name_stand_in(session, actor, person):
        raise Forbidden(
            "only the person, an administrator of their unit or a coordinator of their campaign "
            "may name their stand-in"
        )


# --- helpers ---------------------------------------------------------------------------------


def _held_items(person_id: int, campaign_id: int | None = None) -> list[Select[tuple[int]]]:
    """The campaign ids of the person's tasks, rectifications, letters and visits, and
    responsibility letters to sign (of one campaign)."""
    queries = [
        select(Task.campaign_id).where(Task.assignee_id == person_id),
        select(Rectification.campaign_id).where(Rectification.responsible_id == person_id),
        select(Petition.campaign_id).where(Petition.responsible_id == person_id),
        # a responsibility letter to sign: a site's responsible person may hold no role
        select(Letter.campaign_id).where(Letter.signer_id == person_id),
    ]
    if campaign_id is None:
        return queries
    return [
        query.where(model.campaign_id == campaign_id)
        for query, model in zip(queries, (Task, Rectification, Petition, Letter))
    ]


def _keeps_calendar(person_id: int) -> Exists:
    return (
        select(Administrator.id)
        .join(Unit, Unit.id == Administrator.unit_id)
        .where(Administrator.person_id == person_id, Unit.parent_id.is_(None))
        .exists()
    )


def _roles(session: Session, campaign_id: int, actor: Actor) -> set[str]:
    return set() if actor.person_id is None else roles_of(session, campaign_id, actor.person_id)
