"""SQLAlchemy 2.x mapped classes: the engine's tables.

States are plain strings; the state machines in ``machines.py`` decide which
moves are allowed and are applied to these rows at trigger time. Times are
stored as naive UTC and come back aware (``UTCDateTime``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from workflow.limits import (
    EMAIL_LIMIT,
    FORM_KEY_LIMIT,
    LOCATION_LIMIT,
    PHONE_LIMIT,
    VIEW_NAME_LIMIT,
    VIEW_QUERY_LIMIT,
)

# Stable constraint names so Alembic migrations (batch mode on SQLite) can
# refer to them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, returns aware UTC: SQLite has no time zones, PostgreSQL's
    ``timestamp`` without one keeps both back ends identical."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; use an aware datetime")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)

    def bind_processor(self, dialect: Any) -> Callable[[Any], Any] | None:
        """The usual conversion, remembering the last value bound.

        Bulk writes bind the same few instants over and over (a sweep's ten
        thousand escalation rows share ``now`` and a handful of due times), and
        each conversion costs more than the rest of the row's parameters. The
        memo is one (value, result) tuple, replaced in one assignment, so
        threads sharing the compiled statement never see half of one.
        """
        convert = super().bind_processor(dialect)
        if convert is None:
            return None
        last: list[tuple[Any, Any]] = [(None, None)]

        def process(value: Any) -> Any:
            seen, result = last[0]
            if value is seen and value is not None:
                return result
            result = convert(value)
            last[0] = (value, result)
            return result

        return process


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class DefinitionRow(Base):
    """A definition as used by a campaign: (slug, version) fixes its text for ever."""

    __tablename__ = "definitions"
    __table_args__ = (UniqueConstraint("slug", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Unit(Base):
    """An organisational unit (town, village, department); a tree."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)

    parent: Mapped[Unit | None] = relationship(remote_side=[id])


class Person(Base):
    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(EMAIL_LIMIT), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(String(200))
    # a mainland mobile number, 11 digits (migration 0019): a second way to sign in, unique
    phone: Mapped[str | None] = mapped_column(String(PHONE_LIMIT), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    password_hash: Mapped[str | None] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # set with a one-time password from an operator: the person must choose their own first
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    # part of every browser session id; rotated on sign-out so a copied cookie dies with it
    # (PITFALLS.md, Flask-Login: the "alternative tokens" pattern)
    session_token: Mapped[str | None] = mapped_column(String(64))

    unit: Mapped[Unit] = relationship()


class PersonRole(Base):
    """A role a person holds in their unit, as named in the organisation file."""

    __tablename__ = "person_roles"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class Site(Base):
    """A key site (重点部位) or responsibility section of a unit, with its responsible person."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    responsible_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))


class SiteVisit(Base):
    """A patrol's or an inspector's check-in at a key site (巡查打卡): who, when by the server's
    clock, the phone's clock when it differed, where if the person allowed it, a note; its photos
    are evidence files of kind ``visit`` (migration 0024)."""

    __tablename__ = "site_visits"
    __table_args__ = (Index("ix_site_visits_site", "site_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    # the phone's own clock when the check-in was captured (offline: possibly hours before ``at``)
    phone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    latitude: Mapped[float | None] = mapped_column()
    longitude: Mapped[float | None] = mapped_column()
    accuracy_m: Mapped[float | None] = mapped_column()
    note: Mapped[str | None] = mapped_column(Text)

    site: Mapped[Site] = relationship()
    person: Mapped[Person] = relationship()


class ListEntry(Base):
    """An entry of a named list of the organisation file (e.g. a supervised person 重点列管人员)."""

    __tablename__ = "list_entries"
    __table_args__ = (UniqueConstraint("list_key", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    list_key: Mapped[str] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(300))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    responsible_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    note: Mapped[str | None] = mapped_column(Text)


class CalendarDay(Base):
    """An operator's override of China's official calendar (a year published late, a local
    holiday)."""

    __tablename__ = "calendar_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    workday: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(String(300))


class Campaign(Base):
    __tablename__ = "campaigns"
    # one campaign per sub-unit and parent: a cascade run twice starts nothing twice
    __table_args__ = (UniqueConstraint("parent_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("definitions.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    # the campaign whose cascade started this one (各级创建组织); None for a top campaign
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"))
    # what its sub-units' campaigns run on, fixed when it starts (a definition with ``cascade``)
    child_definition_id: Mapped[int | None] = mapped_column(ForeignKey("definitions.id"))
    title: Mapped[str] = mapped_column(String(300))
    # 'draft', one state per phase id of the definition, 'closed'
    state: Mapped[str] = mapped_column(String(64))
    timezone: Mapped[str] = mapped_column(String(64))
    starts_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    definition: Mapped[DefinitionRow] = relationship(foreign_keys=[definition_id])
    unit: Mapped[Unit] = relationship()


class CampaignPhase(Base):
    """A phase of one campaign: its planned window and when it actually ran."""

    __tablename__ = "campaign_phases"
    __table_args__ = (UniqueConstraint("campaign_id", "phase_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    phase_key: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer)
    planned_start: Mapped[date | None] = mapped_column(Date)
    planned_end: Mapped[date | None] = mapped_column(Date)
    started_on: Mapped[date | None] = mapped_column(Date)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # when the office director was told the phase ran past its planned end with work open (once)
    late_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RecurringCursor(Base):
    """How far a recurring duty of a campaign has been generated: the start of its last
    occurrence."""

    __tablename__ = "recurring_cursors"
    __table_args__ = (UniqueConstraint("campaign_id", "duty_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    phase_key: Mapped[str] = mapped_column(String(64))
    duty_key: Mapped[str] = mapped_column(String(64))
    # occurrences starting after this instant and by now are still to be created
    generated_until: Mapped[datetime] = mapped_column(UTCDateTime)


class CampaignUnit(Base):
    """A sub-unit taking part in a campaign (a child of the campaign's unit)."""

    __tablename__ = "campaign_units"

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)


class RoleBinding(Base):
    """Who holds a definition role in a campaign, and for which unit (谁主管谁负责)."""

    __tablename__ = "role_bindings"
    __table_args__ = (
        UniqueConstraint("campaign_id", "role", "unit_id", "person_id"),
        Index("ix_role_bindings_person", "person_id", "campaign_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(64))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))


class Task(Base):
    __tablename__ = "tasks"
    __table_args__ = (
        # One row per occurrence: re-running a phase entry or a sweep cannot duplicate.
        UniqueConstraint("campaign_id", "occurrence_key"),
        Index("ix_tasks_inbox", "assignee_id", "state", "due_at"),
        Index("ix_tasks_phase", "campaign_id", "phase_key", "state"),
        # the daily digest: open work due soon, every campaign
        Index("ix_tasks_open_due", "state", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    phase_key: Mapped[str] = mapped_column(String(64))
    spec_key: Mapped[str] = mapped_column(String(64))
    occurrence_key: Mapped[str] = mapped_column(String(200))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("list_entries.id"))
    # the period of a recurring duty's occurrence (2026-Q3, 2026-W23, 2026-06 …); None for one-off
    # tasks
    period: Mapped[str | None] = mapped_column(String(32))
    assignee_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    title: Mapped[str] = mapped_column(String(300))
    required: Mapped[bool] = mapped_column(Boolean, default=True)
    # open | done | verified | cancelled
    state: Mapped[str] = mapped_column(String(16), default="open")
    due_on: Mapped[date | None] = mapped_column(Date)
    # the end of due_on in the campaign's time zone, for overdue queries
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # counted over a year without the official calendar (migration 0013): recomputed on import
    due_estimated: Mapped[bool] = mapped_column(Boolean, default=False)
    due_basis: Mapped[date | None] = mapped_column(Date)
    due_rule: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    note: Mapped[str | None] = mapped_column(Text)
    # the check-in at its site (巡查打卡) that fulfilled this patrol or inspection (migration 0024)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("site_visits.id"))
    # an inspection's findings, recorded when it is checked off: none (no problems) | hazards (those
    # registered from it: Rectification.task_id); NULL otherwise
    findings: Mapped[str | None] = mapped_column(String(16))

    campaign: Mapped[Campaign] = relationship()
    unit: Mapped[Unit | None] = relationship()
    site: Mapped[Site | None] = relationship()
    entry: Mapped[ListEntry | None] = relationship()
    assignee: Mapped[Person] = relationship(foreign_keys=[assignee_id])


class Letter(Base):
    """A responsibility letter (责任书) between two parties: issued by the holder of a leading-group
    role (甲方), signed by a site's or sub-unit's responsible person (乙方). Created with its phase,
    like a task; its content is the definition's (duties, targets), which a stored definition never
    changes."""

    __tablename__ = "letters"
    __table_args__ = (
        # one letter per (spec, site or unit): re-entering a phase cannot duplicate
        UniqueConstraint("campaign_id", "occurrence_key"),
        Index("ix_letters_phase", "campaign_id", "phase_key", "state"),
        # the signer's inbox
        Index("ix_letters_signer", "signer_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    phase_key: Mapped[str] = mapped_column(String(64))
    spec_key: Mapped[str] = mapped_column(String(64))
    occurrence_key: Mapped[str] = mapped_column(String(200))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("list_entries.id"))
    title: Mapped[str] = mapped_column(String(300))
    required: Mapped[bool] = mapped_column(Boolean, default=True)
    # the leading-group role that issues it (any holder in the campaign's unit may), and the holder
    # named as 甲方: the first one, until one of them issues it
    issuer_role: Mapped[str] = mapped_column(String(64))
    issuer_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    signer_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    # drafted | issued | signed
    state: Mapped[str] = mapped_column(String(16), default="drafted")
    due_on: Mapped[date | None] = mapped_column(Date)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_estimated: Mapped[bool] = mapped_column(Boolean, default=False)
    due_basis: Mapped[date | None] = mapped_column(Date)
    due_rule: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))

    campaign: Mapped[Campaign] = relationship()
    unit: Mapped[Unit | None] = relationship()
    site: Mapped[Site | None] = relationship()
    issuer: Mapped[Person] = relationship(foreign_keys=[issuer_id])
    signer: Mapped[Person] = relationship(foreign_keys=[signer_id])


class AuditEvent(Base):
    """One state change: who, when, from, to. Written in the same transaction as the change."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_campaign", "campaign_id", "id"),
        Index("ix_audit_entity", "entity", "entity_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int] = mapped_column(Integer)
    event: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(64))
    to_state: Mapped[str | None] = mapped_column(String(64))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    actor: Mapped[str] = mapped_column(String(EMAIL_LIMIT))
    note: Mapped[str | None] = mapped_column(Text)


class Rectification(Base):
    """A hazard registered during an inspection, and the rectification (整改) that removes it.

    Being overdue is not a state: it is derived from ``deadline_at``. The
    original deadline is kept for assessment however often it is extended.
    """

    __tablename__ = "rectifications"
    __table_args__ = (
        Index("ix_rectifications_responsible", "responsible_id", "state", "deadline_at"),
        # the register (台账), soonest deadline first; a unit's register, filtered and counted
        Index("ix_rectifications_campaign", "campaign_id", "state", "deadline_at"),
        # a campaign's register by due date whatever the state: a common word's matches past the
        # search's rank limit are walked in this order until a page is full
        Index("ix_rectifications_campaign_due", "campaign_id", "deadline_at", "id"),
        Index(
            "ix_rectifications_unit_register",
            "campaign_id",
            "unit_id",
            "state",
            "severity",
            "deadline_at",
        ),
        Index("ix_rectifications_open_deadline", "state", "deadline"),  # the daily digest
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    phase_key: Mapped[str] = mapped_column(String(64))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    # the inspection task during which it was found, if any
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id"))
    location: Mapped[str | None] = mapped_column(String(LOCATION_LIMIT))
    description: Mapped[str] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(16))  # minor | major
    responsible_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    temporary_measures: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[str | None] = mapped_column(Text)
    # open | submitted | closed
    state: Mapped[str] = mapped_column(String(16), default="open")
    original_deadline: Mapped[date] = mapped_column(Date)
    deadline: Mapped[date] = mapped_column(Date)
    # end of ``deadline`` in the campaign's zone
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # counted over a year without the official calendar (migration 0013): recomputed on import
    deadline_estimated: Mapped[bool] = mapped_column(Boolean, default=False)
    deadline_basis: Mapped[date | None] = mapped_column(Date)
    deadline_rule: Mapped[str | None] = mapped_column(String(16))
    # bumped whenever the deadline moves (rejection, extension, look-back): escalation starts over
    deadline_round: Mapped[int] = mapped_column(Integer, default=0)
    extensions: Mapped[int] = mapped_column(Integer, default=0)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    registered_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submission_note: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))

    campaign: Mapped[Campaign] = relationship()
    unit: Mapped[Unit | None] = relationship()
    site: Mapped[Site | None] = relationship()
    responsible: Mapped[Person] = relationship(foreign_keys=[responsible_id])


class DeadlineExtension(Base):
    """A responsible person's request to move a deadline, and a coordinator's decision."""

    __tablename__ = "deadline_extensions"

    id: Mapped[int] = mapped_column(primary_key=True)
    rectification_id: Mapped[int] = mapped_column(
        ForeignKey("rectifications.id", ondelete="CASCADE"), index=True
    )
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text)
    requested_deadline: Mapped[date] = mapped_column(Date)
    # requested | approved | refused
    state: Mapped[str] = mapped_column(String(16), default="requested")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str | None] = mapped_column(Text)


class Escalation(Base):
    """A level (0 = the reminder) reached by an overdue item: once per item, deadline round and
    level."""

    __tablename__ = "escalations"
    __table_args__ = (
        UniqueConstraint("item_kind", "item_id", "deadline_round", "level"),
        Index("ix_escalations_campaign", "campaign_id", "reached_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    item_kind: Mapped[str] = mapped_column(String(16))  # rectification | task | petition
    item_id: Mapped[int] = mapped_column(Integer)
    deadline_round: Mapped[int] = mapped_column(Integer, default=0)
    level: Mapped[int] = mapped_column(Integer)
    colour: Mapped[str] = mapped_column(String(16))  # blue | yellow | red
    deadline: Mapped[date] = mapped_column(Date)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)  # when the level came due
    reached_at: Mapped[datetime] = mapped_column(UTCDateTime)  # when a sweep recorded it
    recipients: Mapped[str] = mapped_column(Text)  # e-mails, comma-separated, as notified


class EscalationQueueEntry(Base):
    """When an item's next reminder or escalation level comes due: the sweep's work list, in order
    of time.

    Kept apart from the items so that a sweep rewrites a few pages of this
    narrow table, clustered by time, instead of ten thousand scattered item rows
    (on SQLite it is a WITHOUT ROWID table: the primary key is the storage order).
    An entry is a promise to look, not a fact: the sweep drops one whose item is
    no longer open or whose deadline has moved on to a later round.
    """

    __tablename__ = "escalation_queue"
    __table_args__ = {"sqlite_with_rowid": False}

    due_at: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    # rectification | task | petition
    item_kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    item_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deadline_round: Mapped[int] = mapped_column(Integer, primary_key=True)


class OutboxMail(Base):
    """An e-mail written in the transaction that caused it, delivered afterwards, never twice."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("key"),
        # what is still to send: neither sent nor given up, soonest first
        Index("ix_outbox_pending", "sent_at", "failed_at", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # stable: the Message-ID is built from it, so a resend after a crash is recognisable
    key: Mapped[str] = mapped_column(String(200))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    recipient: Mapped[str] = mapped_column(String(EMAIL_LIMIT))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # a mail that can never be sent (no header could be written, refused for good): not retried
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)


class DigestDay(Base):
    """A day whose daily digests were written: claimed once, by whichever sweep comes first after
    the hour."""

    __tablename__ = "digest_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    written_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ApiToken(Base):
    """An API token, stored only as its SHA-256 digest; revoking it takes effect at once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PasswordReset(Base):
    """A single-use link to choose a new password, valid 24 hours (migration 0019); only the token's
    SHA-256 digest is stored, so the table gives nobody a way in."""

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(EMAIL_LIMIT))


class LoginFailure(Base):
    """Failed sign-ins counted per (account, address), per address and per account, in the database
    so every web worker sees them (webapp/auth/throttle.py)."""

    __tablename__ = "login_failures"

    # "pair:<address>|<e-mail>", "address:<address>" or "account:<e-mail>"
    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class EvidenceFile(Base):
    """A file handed in as evidence for a task or a rectification; the bytes live in the instance
    folder."""

    __tablename__ = "evidence_files"
    __table_args__ = (Index("ix_evidence_files_item", "item_kind", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # None for a check-in's photos: a visit belongs to a site, not to one campaign
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    item_kind: Mapped[str] = mapped_column(String(16))  # task | rectification | visit
    item_id: Mapped[int] = mapped_column(Integer)
    # as uploaded, cleaned; shown, never used as a path
    file_name: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)  # random; the name on disk
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # a photo of a rectification: before (handed in with the hazard) | after (with 'fixed');
    # None for other files (migration 0024)
    stage: Mapped[str | None] = mapped_column(String(16))
    # a photo re-encoded by the server: its thumbnail's random name on disk, its size in pixels, and
    # when the camera took it (EXIF), as UTC
    thumb_name: Mapped[str | None] = mapped_column(String(64))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    captured_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Incident(Base):
    """An incident of a kind the definition counts (案件, 事故, 事件), recorded against a unit:
    targets count these."""

    __tablename__ = "incidents"
    __table_args__ = (
        Index("ix_incidents_campaign", "campaign_id", "kind", "occurred_on"),
        # the sweep's look at incidents whose time to report to outside bodies ran out
        Index("ix_incidents_report_due", "report_due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    # an incident kind id of the campaign's definition
    kind: Mapped[str] = mapped_column(String(64))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    # the key site it happened at, if any (its unit is unit_id): targets held per site count these
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    # the day it happened, which may be before the campaign (last year's count, for a reduce target)
    occurred_on: Mapped[date] = mapped_column(Date)
    description: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    # by when every outside body of the kind's report_to must have been told (None: no limit);
    # cleared once the sweep has looked, or once all were told
    report_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    unit: Mapped[Unit] = relationship()
    site: Mapped[Site | None] = relationship()


class OutsideReport(Base):
    """An incident reported to an outside body (铁路部门, 公安机关, 派出所): when, by whom, how."""

    __tablename__ = "outside_reports"
    __table_args__ = (UniqueConstraint("incident_id", "body"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(String(100))  # as the kind's report_to names it
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime)  # when the body was told
    reported_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    # how and to whom (电话报柳河站值班室 王某), as the person wrote it
    note: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Petition(Base):
    """A letter or visit (信访) to be processed by a deadline; reminded and escalated like a
    rectification."""

    __tablename__ = "petitions"
    __table_args__ = (
        Index("ix_petitions_campaign", "campaign_id", "state"),
        # the inbox's open letters and visits
        Index("ix_petitions_responsible", "responsible_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    channel: Mapped[str] = mapped_column(String(16))  # letter | visit
    petitioner: Mapped[str | None] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(Text)
    received_on: Mapped[date] = mapped_column(Date)
    responsible_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    # open | processed
    state: Mapped[str] = mapped_column(String(16), default="open")
    deadline: Mapped[date] = mapped_column(Date)
    # end of ``deadline`` in the campaign's zone
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # counted over a year without the official calendar (migration 0013): recomputed on import
    deadline_estimated: Mapped[bool] = mapped_column(Boolean, default=False)
    deadline_basis: Mapped[date | None] = mapped_column(Date)
    deadline_rule: Mapped[str | None] = mapped_column(String(16))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    processed_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    outcome: Mapped[str | None] = mapped_column(Text)
    # a major letter or visit (重大信访): it calls the definition's meeting (major_meeting.py)
    major: Mapped[bool] = mapped_column(Boolean, default=False)

    unit: Mapped[Unit | None] = relationship()
    responsible: Mapped[Person] = relationship(foreign_keys=[responsible_id])


class Score(Base):
    """The points the inspecting group gave one unit for one checklist item (考核验收)."""

    __tablename__ = "scores"
    __table_args__ = (
        # one row per item of a unit's own sheet, and of each key site's (site_id set; its unit_id
        # is the site's unit): partial indexes, since NULL never equals NULL in a unique key
        Index(
            "uq_scores_unit_item",
            "campaign_id",
            "unit_id",
            "item_key",
            unique=True,
            sqlite_where=text("site_id IS NULL"),
            postgresql_where=text("site_id IS NULL"),
        ),
        Index(
            "uq_scores_site_item",
            "campaign_id",
            "site_id",
            "item_key",
            unique=True,
            sqlite_where=text("site_id IS NOT NULL"),
            postgresql_where=text("site_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    # a key site's sheet (assessment.sites); None: the unit's own
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    item_key: Mapped[str] = mapped_column(String(64))
    points: Mapped[float] = mapped_column()  # the annotation gives the type: Float
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))


class AssessmentFinding(Base):
    """The inspecting group's finding that a veto item (一票否决) or a criticism rule applies to a
    unit, with why."""

    __tablename__ = "assessment_findings"
    __table_args__ = (UniqueConstraint("campaign_id", "unit_id", "rule_kind", "rule_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    rule_kind: Mapped[str] = mapped_column(String(16))  # veto | criticism
    rule_key: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))


class FormSubmission(Base):
    """A page form's one-time key as its person posted it, and what that post created
    (``form_keys.py``): the same form posted again creates nothing."""

    __tablename__ = "form_submissions"

    # the key is the person's: another person's key is a new key for them (nothing is learnt of
    # what it created)
    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(FORM_KEY_LIMIT), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    entity: Mapped[str] = mapped_column(String(32))  # incident | rectification
    # claimed before the thing exists, set in the same transaction: never empty once committed
    entity_id: Mapped[int | None] = mapped_column(Integer)


class CalendarImport(Base):
    """A year of the official calendar entered by an operator from a file (``pingan calendar
    import``): who, when, from which file; its days are that year's ``calendar_days``."""

    __tablename__ = "calendar_imports"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    imported_by: Mapped[str] = mapped_column(String(EMAIL_LIMIT))
    source_name: Mapped[str] = mapped_column(String(300))
    days_off: Mapped[int] = mapped_column(Integer)
    days_work: Mapped[int] = mapped_column(Integer)


class Administrator(Base):
    """A person who administers a unit and everything under it (migration 0014); an administrator
    of a top unit also keeps the official calendar. Grants and revocations are audited."""

    __tablename__ = "administrators"
    __table_args__ = (UniqueConstraint("person_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    granted_by: Mapped[str] = mapped_column(String(EMAIL_LIMIT))

    person: Mapped[Person] = relationship()
    unit: Mapped[Unit] = relationship()


class SavedView(Base):
    """A filtered work list kept under a name (「本周到期的重大隐患」, migration 0020): found in
    its owner's navigation and, shared by a coordinator, in that of the campaign's leading group."""

    __tablename__ = "saved_views"
    __table_args__ = (UniqueConstraint("owner_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(VIEW_NAME_LIMIT))
    # which list: inbox | done | register (workflow/worklists/filters.py LISTS)
    list_name: Mapped[str] = mapped_column(String(16))
    # the register's campaign; the campaign whose leading group a shared view is for
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    # the filter as the list's address writes it (``unit=town&due=overdue``): one set of names
    query: Mapped[str] = mapped_column(String(VIEW_QUERY_LIMIT))
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StandIn(Base):
    """A stand-in (代理) named for a person away over a range of local dates, both ends included
    (migration 0021): new items, reminders and escalations addressed to the person reach the
    stand-in as well, who may act on the person's items. ``cancelled_at`` ends it early; past
    ``ends_on`` it ends by itself. Naming and ending are audited."""

    __tablename__ = "stand_ins"
    __table_args__ = (Index("ix_stand_ins_person", "person_id", "starts_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    stand_in_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_by: Mapped[str] = mapped_column(String(EMAIL_LIMIT))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    person: Mapped[Person] = relationship(foreign_keys=[person_id])
    stand_in: Mapped[Person] = relationship(foreign_keys=[stand_in_id])
