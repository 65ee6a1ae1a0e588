"""One pass of the clock: reminders and escalation levels due by ``now``, then mail delivery.
Idempotent."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from workflow.assessment.outside_reports import escalate_unreported
from workflow.calendar import load_calendar
from workflow.campaigns.phase_windows import report_late_phases
from workflow.campaigns.recurring import create_due_occurrences
from workflow.clock import DEFAULT_TIMEZONE, Clock
from workflow.escalation.digest import send_digests
from workflow.escalation.levels import BATCH_SIZE, EscalationSummary, escalate_due
from workflow.mail.outbox import DeliveryReport, Mailer, deliver


@dataclass
class SweepSummary:
    occurrences: int = 0
    late_phases: int = 0
    unreported: int = 0  # incidents escalated for not being reported to outside bodies in time
    digests: int = 0
    escalation: EscalationSummary = field(default_factory=EscalationSummary)
    delivery: DeliveryReport = field(default_factory=DeliveryReport)

    def __str__(self) -> str:
        levels = (
            ", ".join(
                f"L{level} {count}" for level, count in sorted(self.escalation.levels.items())
            )
            or "none"
        )
        late = f"late phases {self.late_phases}; " if self.late_phases else ""
        late += f"digests {self.digests}; " if self.digests else ""
        late += f"unreported incidents {self.unreported}; " if self.unreported else ""
        return (
            f"occurrences {self.occurrences}; {late}reminders {self.escalation.reminders}; "
            f"escalations {levels}; "
            f"escalation mails queued {self.escalation.mails}; mails sent {self.delivery.sent}, "
            f"failed {self.delivery.failed}, waiting {self.delivery.waiting}"
        )


def run_sweep(
    sessions: sessionmaker[Session],
    *,
    clock: Clock,
    mailer: Mailer | None,
    base_url: str,
    digest_hour: int | None = None,
    timezone: str = DEFAULT_TIMEZONE,
) -> SweepSummary:
    """Create due occurrences, report late phases and unreported incidents, escalate what came due
    (one transaction per batch), deliver mail."""
    summary = SweepSummary()
    now = clock.now()
    with sessions.begin() as session:
        summary.occurrences = create_due_occurrences(session, now, load_calendar(session))
    with sessions.begin() as session:
        summary.late_phases = report_late_phases(session, now, base_url)
        summary.unreported = escalate_unreported(session, now, base_url)
    contexts: dict[int, object] = {}  # campaigns loaded once per sweep, shared by its batches
    with sessions() as session:
        # one calendar per sweep: its memo of days and spans is reused
        calendar = load_calendar(session)
    while True:
        with sessions.begin() as session, _collector_paused():
            batch = escalate_due(session, now, calendar, base_url=base_url, contexts=contexts)
        summary.escalation.add(batch)
        if batch.items < BATCH_SIZE:  # a batch not full took all that was due
            break
    if digest_hour is not None:
        with sessions.begin() as session:
            summary.digests = send_digests(
                session,
                now,
                load_calendar(session),
                tz=timezone,
                hour=digest_hour,
                base_url=base_url,
            )
    if mailer is not None:
        summary.delivery = deliver(sessions, mailer, clock)
    return summary


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Hold Python's cyclic garbage collector during one escalation batch.

    A batch allocates tens of thousands of short-lived, acyclic objects (rows,
    items, mail lines); each of them counts toward the collector's thresholds,
    which then walks the whole long-lived heap several times a batch: a fifth
    of the sweep's time on a large database (benchmarks/sweep.py). Reference
    counting frees these objects anyway; whatever cycles a batch leaves are
    collected once it ends. A batch is bounded (BATCH_SIZE), so is its memory.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
