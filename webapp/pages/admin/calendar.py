"""The official working-day calendar's page (``/admin/calendar``): where each year's holidays and
adjusted workdays (调休) come from, and entering a year's schedule from a file.

Only an operator or an administrator of a top unit keeps the calendar (``workflow/access.py``:
``keeps_calendar``): every campaign shares it. Everyone else gets the forbidden page. A file with
any problem is refused as a whole, each problem shown with its place (file, line or JSON path); a
file that passes replaces its year's entered days and counts the open estimated dates again
(``workflow/escalation/estimates.py``: ``enter_year_schedule``).
Every post is answered with a redirect back to the page (PITFALLS.md, Forms).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response as BaseResponse

from webapp.auth.identity import web_actor
from webapp.pages.common import base_url, calendar, clock, page_blueprint, transaction
from workflow.access import require_calendar_keeper
from workflow.calendar import calendar_status, missing_schedule
from workflow.calendar_files import parse_calendar_file
from workflow.clock import local_date
from workflow.escalation.estimates import enter_year_schedule
from workflow.limits import MAX_CALENDAR_FILE_BYTES
from workflow.sourcefile import Problem, SourceError, decode_utf8

blueprint = page_blueprint("calendar_admin")

# the forms calendar_files reads, by the file name's ending
FILE_FORMS = {".json": "json", ".yaml": "yaml", ".yml": "yaml", ".csv": "csv"}
# a wrong file may have hundreds of problems: the page names the first ones
PROBLEMS_SHOWN = 10


class CalendarFileForm(FlaskForm):
    """One year's official schedule as a file (holiday-cn JSON, YAML or CSV)."""

    file = FileField(
        _l("Calendar file (holiday-cn JSON, YAML or CSV)"),
        validators=[FileRequired(_l("Choose a file."))],
    )


@blueprint.get("/admin/calendar")
def status() -> str:
    by = web_actor()
    today = _today()
    with transaction(readonly=True) as session:
        require_calendar_keeper(session, by)
        years = calendar_status(session, today)
        missing = missing_schedule(calendar(session), today)
    return render_template(
        "admin/calendar.html",
        years=years,
        missing=missing,
        form=CalendarFileForm(),
        limit_kb=MAX_CALENDAR_FILE_BYTES // 1024,
    )


@blueprint.post("/admin/calendar")
def enter() -> BaseResponse:
    by = web_actor()
    with transaction(readonly=True) as session:
        # refused before the form is read: nothing of it reaches anyone else
        require_calendar_keeper(session, by)
    here = url_for("calendar_admin.status")
    form = CalendarFileForm()
    if not form.validate_on_submit():
        for messages in form.errors.values():
            for message in messages:
                flash(str(message), "error")
        return redirect(here)
    upload = form.file.data
    name = Path(upload.filename or "").name or "upload"
    try:
        calendar_file = parse_calendar_file(*_read(upload, name))
    except SourceError as error:
        flash(_("The file was not entered; nothing was changed."), "error")
        for problem in error.problems[:PROBLEMS_SHOWN]:
            flash(str(problem), "error")
        if len(error.problems) > PROBLEMS_SHOWN:
            flash(_("… and %(count)d more.", count=len(error.problems) - PROBLEMS_SHOWN), "error")
        return redirect(here)
    with transaction() as session:
        require_calendar_keeper(session, by)
        record, recount = enter_year_schedule(
            session, calendar_file, by=by, now=clock().now(), base_url=base_url()
        )
        year, days_off, days_work = record.year, record.days_off, record.days_work
    flash(
        _(
            "%(year)d entered from %(file)s: %(off)d holiday day(s) and %(work)d adjusted "
            "workday(s).",
            year=year,
            file=name,
            off=days_off,
            work=days_work,
        ),
        "success",
    )
    if recount.looked_at:
        flash(
            _(
                "%(count)d open estimated date(s) were counted again: %(earlier)d earlier (their "
                "people are told by mail), %(later)d later.",
                count=recount.looked_at,
                earlier=recount.earlier,
                later=recount.later,
            ),
            "success",
        )
    return redirect(here)


# --- helpers ------------------------------------------------------------------------------------


def _today() -> date:
    return local_date(clock().now(), current_app.config["BABEL_DEFAULT_TIMEZONE"])


def _read(upload: FileStorage, name: str) -> tuple[str, str, str]:
    """The file's text, its name and its form; a SourceError for a file we cannot read."""
    form = FILE_FORMS.get(Path(name).suffix.lower())
    if form is None:
        raise SourceError(
            [Problem(name, 0, "", "not a JSON, YAML or CSV file (name it .json, .yaml or .csv)")]
        )
    raw = upload.stream.read(MAX_CALENDAR_FILE_BYTES + 1)
    if len(raw) > MAX_CALENDAR_FILE_BYTES:
        raise SourceError(
            [
                Problem(
                    name, 0, "", f"larger than {MAX_CALENDAR_FILE_BYTES // 1024} KB: not a calendar"
                )
            ]
        )
    return decode_utf8(raw, name), name, form
