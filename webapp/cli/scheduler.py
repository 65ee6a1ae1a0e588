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

from webapp.cli.main import base_url_from_env, cli, digest_settings_from_env, one_line_errors
from webapp.wiring import wiring
from workflow.errors import InvalidInput

DEFAULT_INTERVAL_SECONDS = 60.0
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s[%(process)d]: %(message)s"

log = logging.getLogger("pingan.scheduler")


@cli.command()
@click.option("--interval", "interval", type=float, default=None, metavar="SECONDS",
              help=f"Seconds between passes (default: $PINGAN_SCHEDULER_INTERVAL, else {DEFAULT_INTERVAL_SECONDS:g}).")
@one_line_errors
def scheduler(interval: float | None) -> None:
    """The long-running clock: a sweep every interval; with several processes, one leads and the others stand by."""
    from webapp.mail import mailer_from_env
    from workflow.clock import clock_from_env
    from workflow.escalation.scheduler import leader_lock_for, run_scheduler
    from workflow.escalation.sweep import run_sweep

    seconds = interval if interval is not None else _interval_from_env()
    if not 0 < seconds < math.inf:
        raise InvalidInput(f"--interval must be a positive number of seconds, not {seconds:g}")
    env = wiring()  # a database without schema ends here, with one line
    clock_from_env()  # a bad PINGAN_NOW too, before anything starts
    try:
        mailer = mailer_from_env(dict(os.environ))
    except ValueError as error:
        raise InvalidInput(f"mail settings (MAIL_*): {error}") from None
    base_url = base_url_from_env()
    digest = digest_settings_from_env()
    lock = leader_lock_for(env.engine.url.render_as_string(hide_password=False))

    def one_pass() -> str:
        # the clock is read afresh for every pass: the system clock, or PINGAN_NOW's fixed instant
        return str(run_sweep(env.sessions, clock=clock_from_env(), mailer=mailer, base_url=base_url, **digest))

    _log_to_stderr()
    log.info("database %s%s", env.safe_url,
             f"; clock pinned at {os.environ['PINGAN_NOW'].strip()} (PINGAN_NOW)"
             if os.environ.get("PINGAN_NOW", "").strip() else "")
    stop = threading.Event()
    _stop_on_signals(stop)
    run_scheduler(one_pass, lock=lock, interval_seconds=seconds, stop=stop, logger=log)


def _interval_from_env() -> float:
    configured = os.environ.get("PINGAN_SCHEDULER_INTERVAL", "").strip()
    if not configured:
        return DEFAULT_INTERVAL_SECONDS
    try:
        return float(configured)
    except ValueError:
        raise InvalidInput(f"PINGAN_SCHEDULER_INTERVAL must be a number of seconds, not {configured!r}") from None


def _log_to_stderr() -> None:
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT, datefmt="%Y-%m-%dT%H:%M:%S%z", stream=sys.stderr)
    # APScheduler logs every run at INFO; its warnings (a pass still running when the next is due) stay visible
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
