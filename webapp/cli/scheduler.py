"""`pingan scheduler`: the long-running clock — a sweep every interval, by whichever process leads.

Run one or more (a standby takes over within an interval when the leader dies);
never inside web workers (../shared/PITFALLS.md, APScheduler). SIGTERM or Ctrl-C
lets the pass in progress finish, releases the leader lock and exits 0; a second
signal stops at once (the pass's open transaction rolls back).
"""

from __future__ import annotations

import logging
import math
import os
import signal
import sys
import threading
from types import FrameType

import click

from webapp.cli.common import base_url, digest_settings, one_line_errors, settings, wiring
from webapp.config import DEFAULT_SCHEDULER_INTERVAL_SECONDS
from workflow.errors import InvalidInput

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s[%(process)d]: %(message)s"

log = logging.getLogger("pingan.scheduler")


@click.command()
@click.option(
    "--interval",
    "interval",
    type=float,
    default=None,
    metavar="SECONDS",
    help=f"Seconds between passes (default: $PINGAN_SCHEDULER_INTERVAL, else "
    f"{DEFAULT_SCHEDULER_INTERVAL_SECONDS:g}).",
)
@one_line_errors
def scheduler(interval: float | None) -> None:
    """The long-running clock: a sweep every interval; with several processes, one leads and the
    others stand by."""
    from webapp.mail import mailer_for
    from workflow.escalation.scheduler import leader_lock_for, run_scheduler
    from workflow.escalation.sweep import run_sweep

    configured = settings()
    seconds = interval if interval is not None else configured.scheduler_interval
    if not 0 < seconds < math.inf:
        raise InvalidInput(f"--interval must be a positive number of seconds, not {seconds:g}")
    env = wiring()  # a database without schema ends here, with one line; a bad PINGAN_NOW too
    mailer = mailer_for(configured)  # bad MAIL_* settings: one line (InvalidInput)
    links = base_url()
    digest = digest_settings()
    lock = leader_lock_for(env.engine.url.render_as_string(hide_password=False))

    def one_pass() -> str:
        # a clock afresh for every pass: the system clock, or PINGAN_NOW's fixed instant
        return str(
            run_sweep(
                env.sessions, clock=configured.clock(), mailer=mailer, base_url=links, **digest
            )
        )

    _log_to_stderr()
    if warning := configured.unset_base_url_warning():
        log.warning(warning)
    log.info(
        "database %s%s",
        env.safe_url,
        f"; clock pinned at {configured.now} (PINGAN_NOW)" if configured.now else "",
    )
    stop = threading.Event()
    _stop_on_signals(stop)
    run_scheduler(one_pass, lock=lock, interval_seconds=seconds, stop=stop, logger=log)


def _log_to_stderr() -> None:
    logging.basicConfig(
        level=logging.INFO, format=LOG_FORMAT, datefmt="%Y-%m-%dT%H:%M:%S%z", stream=sys.stderr
    )
    # APScheduler logs every run at INFO; its warnings (a pass still running when the next is due)
    # stay visible
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def _stop_on_signals(stop: threading.Event) -> None:
    def handle(signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if stop.is_set():
            log.warning("%s again: stopping now; the pass in progress rolls back", name)
            os._exit(1)
        log.info("%s: stopping after the pass in progress", name)
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
