"""Responsibility letters as people read them: one letter as it prints (both parties, its content),
a campaign's letters, and the letters awaiting a person's move (their inbox).

A letter's content is not stored: it is its spec's duties and the titles of
the targets it names, read from the campaign's stored definition, whose text
never changes. Who sees a letter is ``workflow/campaigns/letters.py``'s rule:
its two parties and the campaign's leading group.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, aliased

from workflow.access import Need, campaign_for, in_leading_group
from workflow.audit import Actor
from workflow.campaigns.letters import load_letter, may_issue
from workflow.clock import Clock, local_date
from workflow.definitions.catalogue import stored_definition
from workflow.definitions.reader import Definition, LetterSpec
from workflow.definitions.texts import campaign_twins, english_twin
from workflow.errors import NotFound
from workflow.machines import CLOSED, LETTER_MACHINE, can
from workflow.models import Campaign, Letter, Person, RoleBinding, Site, Unit


@dataclass(frozen=True)
class LetterTarget:
    """A target the signer answers for, as the letter names it."""

    id: str
    title: str
    title_en: str | None


@dataclass(frozen=True)
class LetterSheet:
    """One letter as its page shows and prints it: 甲方 and 乙方, what the signer answers for, and
    where it stands."""

    id: int
    campaign_id: int
    campaign_title: str
    campaign_title_en: str | None
    title: str
    title_en: str | None
    state: str  # drafted | issued | signed
    issuing_unit: str  # 甲方's unit: the campaign's own
    issuer: str  # 甲方's name (whoever issued it, else the role's first holder)
    signer: str  # 乙方's name
    unit: str | None  # the signer's sub-unit
    site: str | None  # the key site or section it binds
    duties: tuple[str, ...]
    targets: tuple[LetterTarget, ...]
    description: str | None
    due_on: date | None
    due_estimated: bool
    issued_on: date | None
    signed_on: date | None
    overdue: bool  # not signed, and its day to be signed has passed
    may_issue: bool  # the machine allows it and this person issues it
    may_sign: bool  # the machine allows it and this person is its signer
    leading_group: bool  # sees the campaign's pages


@dataclass(frozen=True)
class LetterRow:
    """A letter in a list: the campaign's letters page, the report, the API and ``pingan letter
    list``."""

    id: int
    title: str
    state: str
    unit: str | None
    site: str | None
    issuer: str
    signer: str
    signer_email: str
    due_on: date | None
    issued_on: date | None
    signed_on: date | None
    required: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "state": self.state,
            "unit": self.unit,
            "site": self.site,
            "issuer": self.issuer,
            "signer": self.signer,
            "signer_email": self.signer_email,
            "due_on": _iso(self.due_on),
            "issued_on": _iso(self.issued_on),
            "signed_on": _iso(self.signed_on),
            "required": self.required,
        }


@dataclass(frozen=True)
class LetterToAct:
    """A letter awaiting the reader's move, for their inbox: to issue (as 甲方) or to sign
    (乙方)."""

    id: int
    campaign_id: int
    campaign_title: str
    campaign_title_en: str | None
    title: str
    title_en: str | None
    move: str  # issue | sign
    unit: str | None
    site: str | None
    counterpart: str  # the other party's name
    due_on: date | None
    due_estimated: bool


def letter_sheet(
    session: Session, campaign_id: int, letter_id: int, *, by: Actor, clock: Clock
) -> LetterSheet:
    """The letter as its page prints it; for its parties and the leading group (others: not
    found, as for a letter of another campaign)."""
    letter, campaign = load_letter(session, letter_id, by)
    if campaign.id != campaign_id:
        raise NotFound(f"no letter {letter_id}")
    definition = stored_definition(campaign.definition)
    spec = _spec(definition, letter)
    today = local_date(clock.now(), campaign.timezone)
    issuer = session.get(Person, letter.issuer_id)
    return LetterSheet(
        id=letter.id,
        campaign_id=campaign.id,
        campaign_title=campaign.title,
        campaign_title_en=english_twin(campaign.title, definition),
        title=letter.title,
        title_en=english_twin(letter.title, definition),
        state=letter.state,
        issuing_unit=campaign.unit.name,
        issuer=issuer.name if issuer else "",
        signer=letter.signer.name,
        unit=letter.unit.name if letter.unit else None,
        site=letter.site.name if letter.site else None,
        duties=spec.duties if spec else (),
        targets=tuple(
            LetterTarget(target.id, target.title, target.title_en)
            for target in definition.targets
            if spec and target.id in spec.targets
        ),
        description=spec.description if spec else None,
        due_on=letter.due_on,
        due_estimated=letter.due_estimated,
        issued_on=_local(letter.issued_at, campaign.timezone),
        signed_on=_local(letter.signed_at, campaign.timezone),
        overdue=letter.state != "signed" and letter.due_on is not None and letter.due_on < today,
        may_issue=can(LETTER_MACHINE, letter.state, "issue")
        and campaign.state != CLOSED
        and may_issue(session, letter, campaign, by),
        may_sign=can(LETTER_MACHINE, letter.state, "sign")
        and campaign.state != CLOSED
        and (by.is_operator or by.person_id == letter.signer_id),
        leading_group=in_leading_group(session, campaign.id, campaign.unit_id, by),
    )


def campaign_letters(session: Session, campaign_id: int, *, by: Actor) -> list[LetterRow]:
    """The campaign's letters, by phase and place: all of them for its leading group, their own to
    anyone else of it (the letters they sign or issue); to an outsider the campaign does not
    exist."""
    campaign = campaign_for(session, campaign_id, by, Need.OWN_ITEMS)
    query = _rows().where(Letter.campaign_id == campaign.id)
    if not in_leading_group(session, campaign.id, campaign.unit_id, by):
        query = query.where(or_(Letter.signer_id == by.person_id, Letter.issuer_id == by.person_id))
    return _letter_rows(session, query, campaign.timezone)


def leading_group_letters(session: Session, campaign: Campaign) -> list[LetterRow]:
    """Every letter of a campaign already shown to its leading group (the report)."""
    return _letter_rows(
        session, _rows().where(Letter.campaign_id == campaign.id), campaign.timezone
    )


def letters_to_act_on(session: Session, person_id: int) -> list[LetterToAct]:
    """The letters awaiting ``person_id`` in campaigns not closed: drafted ones whose issuing role
    they hold in the campaign's unit, issued ones they sign; soonest due first."""
    signer, issuer = aliased(Person), aliased(Person)
    holds_issuer_role = (
        select(RoleBinding.id)
        .where(
            RoleBinding.campaign_id == Letter.campaign_id,
            RoleBinding.role == Letter.issuer_role,
            RoleBinding.unit_id == Campaign.unit_id,
            RoleBinding.person_id == person_id,
        )
        .exists()
    )
    rows = session.execute(
        select(
            Letter.id,
            Letter.campaign_id,
            Campaign.title,
            Letter.title,
            Letter.state,
            Unit.name,
            Site.name,
            issuer.name,
            signer.name,
            Letter.due_on,
            Letter.due_estimated,
        )
        .join(Campaign, Campaign.id == Letter.campaign_id)
        .join(issuer, issuer.id == Letter.issuer_id)
        .join(signer, signer.id == Letter.signer_id)
        .outerjoin(Unit, Unit.id == Letter.unit_id)
        .outerjoin(Site, Site.id == Letter.site_id)
        .where(
            Campaign.state != CLOSED,
            or_(
                and_(Letter.state == "issued", Letter.signer_id == person_id),
                and_(Letter.state == "drafted", holds_issuer_role),
            ),
        )
        .order_by(Letter.due_on.is_(None), Letter.due_on, Letter.id)
    ).all()
    twins = campaign_twins(session, {row[1] for row in rows})
    return [
        LetterToAct(
            id=letter_id,
            campaign_id=campaign_id,
            campaign_title=campaign_title,
            campaign_title_en=twins[campaign_id].get(campaign_title),
            title=title,
            title_en=twins[campaign_id].get(title),
            move="sign" if state == "issued" else "issue",
            unit=unit,
            site=site,
            counterpart=issuer_name if state == "issued" else signer_name,
            due_on=due_on,
            due_estimated=bool(estimated),
        )
        for (
            letter_id,
            campaign_id,
            campaign_title,
            title,
            state,
            unit,
            site,
            issuer_name,
            signer_name,
            due_on,
            estimated,
        ) in rows
    ]


# --- helpers ------------------------------------------------------------------------------------


def _rows() -> Any:
    issuer, signer = aliased(Person), aliased(Person)
    return (
        select(
            Letter.id,
            Letter.title,
            Letter.state,
            Unit.name,
            Site.name,
            issuer.name,
            signer.name,
            signer.email,
            Letter.due_on,
            Letter.issued_at,
            Letter.signed_at,
            Letter.required,
        )
        .join(issuer, issuer.id == Letter.issuer_id)
        .join(signer, signer.id == Letter.signer_id)
        .outerjoin(Unit, Unit.id == Letter.unit_id)
        .outerjoin(Site, Site.id == Letter.site_id)
        .order_by(Letter.id)
    )


def _letter_rows(session: Session, query: Any, zone: str) -> list[LetterRow]:
    return [
        LetterRow(
            letter_id,
            title,
            state,
            unit,
            site,
            issuer,
            signer,
            email,
            due_on,
            _local(issued_at, zone),
            _local(signed_at, zone),
            required,
        )
        for (
            letter_id,
            title,
            state,
            unit,
            site,
            issuer,
            signer,
            email,
            due_on,
            issued_at,
            signed_at,
            required,
        ) in session.execute(query)
    ]


def _spec(definition: Definition, letter: Letter) -> LetterSpec | None:
    phases = [p for p in definition.phases if p.id == letter.phase_key]
    return next((s for p in phases for s in p.letters if s.id == letter.spec_key), None)


def _local(instant: datetime | None, zone: str) -> date | None:
    return local_date(instant, zone) if instant is not None else None


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None
