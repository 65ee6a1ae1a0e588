"""Responsibility letters (责任书): drafted with their phase, issued by the head, signed by each
site or unit.

The seed texts bind their key sites, sections and departments by a letter
signed with the head (与局长签订责任书，实行目标管理). A letter is a first-class
item, not a task: two parties each do their part, and both are named on it.
Entering a phase drafts one letter per key site or sub-unit of each of the
phase's ``letters:`` (fanned out as a task is, ``workflow/campaigns/fanout.py``);
a holder of the ``issued_by`` role in the campaign's unit issues it (甲方), the
signer mailed at once through the outbox; the signer signs it (乙方). Each move
is audited. A required letter not yet signed keeps the campaign in its phase
(``open_required_letters``, counted with the phase's blockers).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from workflow import audit, form_keys
from workflow.access import in_leading_group
from workflow.audit import Actor
from workflow.calendar import WorkingCalendar
from workflow.campaigns.fanout import Scope, targets
from workflow.campaigns.task_rows import NO_DUE
from workflow.clock import Clock
from workflow.definitions.plan import Window, spec_due
from workflow.definitions.reader import Definition, PhaseSpec
from workflow.errors import Forbidden, NotFound, StartProblem, TransitionRefused
from workflow.machines import CLOSED, LETTER_MACHINE, LETTER_SETTLED_STATES, fire
from workflow.mail.outbox import enqueue
from workflow.mail.texts import letter_issued_mail, letter_link
from workflow.models import Campaign, Letter, Person, RoleBinding


def draft_letters(
    session: Session,
    campaign: Campaign,
    definition: Definition,
    scope: Scope,
    phase: PhaseSpec,
    planned: Window,
    phase_start: date,
    shift: Any,
    calendar: WorkingCalendar,
    now: datetime,
) -> int:
    """Draft the phase's letters (one per site, unit or entry of each spec), due as its tasks are;
    return how many."""
    rows = []
    for spec in phase.letters:
        due = spec_due(spec, planned, phase_start, shift=shift, calendar=calendar)
        issuer = _first_holder(scope, spec.issued_by, scope.campaign_unit.id)
        if issuer is None:  # start refuses a campaign whose issuing role nobody holds
            continue
        dates = due.columns("due", campaign.timezone) if due else NO_DUE
        found, _nobody = targets(spec, definition, scope)  # checked at start, like a task's
        rows += [
            {
                "campaign_id": campaign.id,
                "phase_key": phase.id,
                "spec_key": spec.id,
                "occurrence_key": f"{phase.id}:{spec.id}:{target.key}",
                "unit_id": target.unit_id,
                "site_id": target.site_id,
                "entry_id": target.entry_id,
                "title": spec.title,
                "required": spec.required,
                "issuer_role": spec.issued_by,
                "issuer_id": issuer,
                "signer_id": target.assignee_id,
                "state": LETTER_MACHINE.initial,
                **dates,
                "created_at": now,
            }
            for target in found
        ]
    if rows:
        session.execute(insert(Letter), rows)
    return len(rows)


def letter_start_problems(definition: Definition, scope: Scope) -> list[StartProblem]:
    """A site or list entry a letter would go to with nobody responsible for it: start refuses."""
    problems: list[StartProblem] = []
    for phase in definition.phases:
        for spec in phase.letters:
            if spec.per in ("site", "list"):
                problems += [p for p in targets(spec, definition, scope)[1] if p not in problems]
    return problems


def issue_letter(
    session: Session,
    letter_id: int,
    *,
    by: Actor,
    clock: Clock,
    base_url: str,
    form_key: str | None = None,
) -> Letter:
    """A holder of the letter's issuing role issues it (drafted → issued), becoming its 甲方; the
    signer is mailed (through the outbox, in this transaction).

    ``form_key``: the page form's one-time key; posted again, it is answered with
    ``form_keys.AlreadySubmitted`` rather than as a move the state no longer allows.
    """
    now = clock.now()
    form_keys.claim(session, form_key, by=by, now=now, entity="letter", entity_id=letter_id)
    letter, campaign = _letter_for_update(session, letter_id, by)
    if not may_issue(session, letter, campaign, by):
        raise Forbidden(
            f"only the letter's issuer (role '{letter.issuer_role}' of the campaign's unit) "
            f"issues letter {letter.id}"
        )
    before, after = fire(
        LETTER_MACHINE,
        "issue",
        letter,
        f"letter {letter.id}",
        refused=f"letter {letter.id} is already {letter.state}: it is issued once",
    )
    if by.person_id is not None:
        letter.issuer_id = by.person_id
    letter.issued_at, letter.issued_by_id = now, by.person_id
    _audit(session, letter, by, now, "issue", before, after)
    session.flush()
    issuer, signer = session.get(Person, letter.issuer_id), letter.signer
    subject, body = letter_issued_mail(
        signer_name=signer.name,
        issuer_name=issuer.name if issuer else by.label,
        title=letter.title,
        place=_place(letter),
        campaign_title=campaign.title,
        due=letter.due_on,
        link=letter_link(base_url, campaign.id, letter.id),
    )
    enqueue(
        session,
        key=f"letter-{letter.id}-issued",
        recipient=signer.email,
        subject=subject,
        body=body,
        now=now,
        campaign_id=campaign.id,
    )
    return letter


def sign_letter(
    session: Session, letter_id: int, *, by: Actor, clock: Clock, form_key: str | None = None
) -> Letter:
    """The signer (乙方) signs an issued letter (issued → signed); before it is issued, or by anyone
    else, refused."""
    now = clock.now()
    form_keys.claim(session, form_key, by=by, now=now, entity="letter", entity_id=letter_id)
    letter, _campaign = _letter_for_update(session, letter_id, by)
    if not (by.is_operator or by.person_id == letter.signer_id):
        raise Forbidden(f"only {letter.signer.name}, its signer, signs letter {letter.id}")
    refused = (
        f"letter {letter.id} is not issued yet: its issuer issues it first"
        if letter.state == "drafted"
        else f"letter {letter.id} is already {letter.state}: it is signed once"
    )
    before, after = fire(LETTER_MACHINE, "sign", letter, f"letter {letter.id}", refused=refused)
    letter.signed_at, letter.signed_by_id = now, by.person_id
    _audit(session, letter, by, now, "sign", before, after)
    session.flush()
    return letter


def may_issue(session: Session, letter: Letter, campaign: Campaign, by: Actor) -> bool:
    """Whether ``by`` issues this letter: an operator, or a holder of its issuing role in the
    campaign's unit."""
    if by.is_operator:
        return True
    if by.person_id is None:
        return False
    return by.person_id in issuers_of(session, letter, campaign)


def issuers_of(session: Session, letter: Letter, campaign: Campaign) -> list[int]:
    """The people who may issue ``letter``: the holders of its issuing role in the campaign's
    unit."""
    return list(
        session.scalars(
            select(RoleBinding.person_id).where(
                RoleBinding.campaign_id == campaign.id,
                RoleBinding.role == letter.issuer_role,
                RoleBinding.unit_id == campaign.unit_id,
            )
        )
    )


def sees_letter(session: Session, letter: Letter, campaign: Campaign, by: Actor) -> bool:
    """Whether the letter is ``by``'s to see: a party to it (its signer, its issuers) or the
    campaign's leading group; to anyone else it does not exist."""
    if by.is_operator or by.person_id in (letter.signer_id, letter.issuer_id):
        return True
    return in_leading_group(session, campaign.id, campaign.unit_id, by)


def open_required_letters(campaign: Campaign) -> tuple[Any, ...]:
    """The exit guard's letters, as WHERE clauses on ``Letter``: the current phase's required
    letters not yet signed."""
    return (Letter.campaign_id == campaign.id, *required_letters_open(campaign.state))


def required_letters_open(phase: Any) -> tuple[Any, ...]:
    """:func:`open_required_letters` of any campaign, in ``phase`` (a phase id, or a column: each
    campaign's own state)."""
    return (
        Letter.phase_key == phase,
        Letter.required.is_(True),
        Letter.state.not_in(LETTER_SETTLED_STATES),
    )


def load_letter(session: Session, letter_id: int, by: Actor) -> tuple[Letter, Campaign]:
    """The letter and its campaign, if ``by`` may see it (else not found)."""
    letter = session.get(Letter, letter_id)
    campaign = session.get(Campaign, letter.campaign_id) if letter is not None else None
    if letter is None or campaign is None or not sees_letter(session, letter, campaign, by):
        raise NotFound(f"no letter {letter_id}")
    return letter, campaign


# --- helpers ------------------------------------------------------------------------------------


def _letter_for_update(session: Session, letter_id: int, by: Actor) -> tuple[Letter, Campaign]:
    row = session.execute(
        select(Letter, Campaign)
        .join(Campaign, Campaign.id == Letter.campaign_id)
        .where(Letter.id == letter_id)
        .with_for_update(of=Letter)
        .execution_options(populate_existing=True)
    ).first()
    if row is None or not sees_letter(session, row[0], row[1], by):
        raise NotFound(f"no letter {letter_id}")
    letter, campaign = row[0], row[1]
    if campaign.state == CLOSED:
        raise TransitionRefused(f"campaign {campaign.id} is closed: its letters stay as they are")
    return letter, campaign


def _first_holder(scope: Scope, role: str, unit_id: int) -> int | None:
    people = scope.resolution.holders.get((role, unit_id))
    return people[0] if people else None


def _place(letter: Letter) -> str | None:
    """Where the letter binds: the site (with its unit), else the unit."""
    if letter.site is not None:
        return f"{letter.unit.name} · {letter.site.name}" if letter.unit else letter.site.name
    return letter.unit.name if letter.unit is not None else None


def _audit(
    session: Session,
    letter: Letter,
    by: Actor,
    now: datetime,
    event: str,
    before: str,
    after: str,
) -> None:
    audit.record(
        session,
        at=now,
        by=by,
        entity="letter",
        entity_id=letter.id,
        event=event,
        from_state=before,
        to_state=after,
        campaign_id=letter.campaign_id,
        note=f"{letter.title} [{_place(letter) or '—'}]",
    )
