"""``/admin/definitions``: the campaign definitions, shipped and stored; a definition's preview and
its file; uploading a new one.

An upload is read and checked by the engine's reader (``workflow/definitions/reader.py``, as
``pingan validate`` reads a file): its problems are shown as that command prints them, each with
the line it points at. A valid one opens its preview (phases as a diagram, tasks, the next dates of
each recurring duty from a chosen day, the escalation ladder, targets and assessment) with what
changed against the last version of its id; saving it stores it
(``workflow/definitions/catalogue.py``: ``store_definition``). The previewed text travels in the
save form as Base64, so the text stored is byte for byte the text checked (a browser sends a form's
line breaks as CRLF), and the save form's one-time key stores it once.

Any administrator reads and uploads definitions: a definition is no unit's own, the campaigns
started from it are (``starting.py``).
"""

from __future__ import annotations

import base64
import binascii
from datetime import date
from pathlib import Path

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.wrappers import Response as BaseResponse
from wtforms import DateField, HiddenField
from wtforms.validators import Optional

from webapp.auth.identity import web_actor
from webapp.pages.common import calendar, clock, page_blueprint, submitted_before, transaction
from webapp.pages.forms import OneTimeForm
from workflow.access import administered_unit_ids, require_administrator
from workflow.clock import local_date
from workflow.definitions.catalogue import (
    VersionTaken,
    catalogue,
    catalogued_definition,
    previous_version,
    store_definition,
    version_conflict,
)
from workflow.definitions.changes import definition_changes, text_diff
from workflow.definitions.reader import (
    Definition,
    DefinitionError,
    definition_folders,
    parse_definition,
)
from workflow.form_keys import AlreadySubmitted
from workflow.limits import MAX_DEFINITION_BYTES
from workflow.sourcefile import Problem
from workflow.views.definition_preview import NEXT_DATES, preview_definition

blueprint = page_blueprint("admin_definitions")

# a wrong file may have hundreds of problems: the page names the first ones
PROBLEMS_SHOWN = 50
# the years a preview may count from: chinesecalendar knows 2004 on; past 2100 is a typing slip
FIRST_YEAR, LAST_YEAR = 2000, 2100


class UploadForm(FlaskForm):
    """A definition file, or (the preview's own form) its text again, and the day the preview
    counts from."""

    file = FileField(_l("Definition file (YAML)"))
    text = HiddenField()
    starts = DateField(_l("Count the dates from"), validators=[Optional()])


class SaveForm(OneTimeForm):
    text = HiddenField()
    name = HiddenField()  # the uploaded file's name, for the audit trail


@blueprint.get("/admin/definitions")
def index() -> str:
    by = web_actor()
    with transaction(readonly=True) as session:
        require_administrator(session, by)
        entries = catalogue(session, _folders(), administered_unit_ids(session, by))
    return render_template(
        "admin/definitions.html",
        entries=entries,
        form=UploadForm(starts=_today()),
        limit_kb=MAX_DEFINITION_BYTES // 1024,
    )


@blueprint.get("/admin/definitions/<slug>/<int:version>")
def show(slug: str, version: int) -> tuple[str, int] | str:
    by = web_actor()
    starts = _starts(request.args.get("starts"))
    try:
        with transaction(readonly=True) as session:
            require_administrator(session, by)
            definition = catalogued_definition(session, slug, version, _folders())
            preview = preview_definition(definition, starts, calendar(session))
    except DefinitionError as error:  # a file of a definitions folder broken since it was listed
        return _problems_page(error.problems, None, slug, ""), 422
    return render_template(
        "admin/definition.html",
        preview=preview,
        uploaded=False,
        form=UploadForm(starts=starts),
        next_dates=NEXT_DATES,
    )


@blueprint.get("/admin/definitions/<slug>/<int:version>/download")
def download(slug: str, version: int) -> Response:
    by = web_actor()
    with transaction(readonly=True) as session:
        require_administrator(session, by)
        definition = catalogued_definition(session, slug, version, _folders())
    return Response(
        definition.text,
        mimetype="application/yaml",
        headers={"Content-Disposition": f'attachment; filename="{slug}-v{version}.yaml"'},
    )


@blueprint.post("/admin/definitions/upload")
def upload() -> tuple[str, int] | str:
    """Check an uploaded file: its problems, or its preview. Writes nothing (a reload checks it
    again)."""
    by = web_actor()
    with transaction(readonly=True) as session:
        require_administrator(session, by)
    form = UploadForm()
    if not form.validate_on_submit():
        return _problems_page([], _("The form was not accepted: send it again."), "", ""), 422
    starts = _starts(form.starts.data)
    name = Path(form.file.data.filename or "").name if form.file.data else ""
    raw = b""
    try:
        name, raw = _uploaded(form, name or "upload.yaml")
        definition = parse_definition(raw, name)
    except DefinitionError as error:
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else ""
        return _problems_page(error.problems, None, name, text), 422
    except _Unreadable as error:
        return _problems_page([], str(error), name, ""), 422
    with transaction(readonly=True) as session:
        preview = preview_definition(definition, starts, calendar(session))
        before = previous_version(session, definition, _folders())
        conflict = version_conflict(session, definition, _folders())
        taken = version_taken_message(conflict) if conflict else None
    return render_template(
        "admin/definition.html",
        preview=preview,
        uploaded=True,
        file_name=name,
        taken=taken,
        before=before,
        changes=definition_changes(before, definition) if before else None,
        diff=text_diff(before, definition) if before else None,
        form=UploadForm(text=_packed(definition), starts=starts),
        save=SaveForm(text=_packed(definition), name=name),
        next_dates=NEXT_DATES,
    )


@blueprint.post("/admin/definitions")
def save() -> BaseResponse:
    by = web_actor()
    with transaction(readonly=True) as session:
        require_administrator(session, by)
    here = url_for("admin_definitions.index")
    form = SaveForm()
    if not form.validate_on_submit():
        flash(_("The form was not accepted: upload the file again."), "error")
        return redirect(here)
    try:
        name = Path(form.name.data or "").name[:100] or "upload.yaml"
        definition = parse_definition(_unpacked(form.text.data), name)
    except (DefinitionError, _Unreadable):
        flash(_("The definition was not stored: upload the file again."), "error")
        return redirect(here)
    try:
        with transaction() as session:
            require_administrator(session, by)
            _row, new = store_definition(
                session,
                definition,
                by=by,
                now=clock().now(),
                folders=_folders(),
                form_key=form.form_key.data,
            )
    except AlreadySubmitted:
        return submitted_before(_page_of(definition))
    except VersionTaken as taken:
        flash(version_taken_message(taken), "error")
        return redirect(here)
    if new:
        message = _("Definition %(id)s version %(version)d stored.")
    else:
        message = _("Definition %(id)s version %(version)d was stored before with this very text.")
    flash(message % {"id": definition.id, "version": definition.version}, "success")
    return redirect(_page_of(definition))


def version_taken_message(taken: VersionTaken) -> str:
    """The refusal of a version stored or shipped with other text, in the page's language."""
    return _(
        "Definition %(id)s version %(version)d is already stored with different text. Raise "
        "the version (version: %(next)d) and upload it again.",
        id=taken.slug,
        version=taken.version,
        next=taken.next_version,
    )


# --- helpers ------------------------------------------------------------------------------------


class _Unreadable(Exception):
    pass


def _folders() -> list[Path]:
    return definition_folders(current_app.config.get("DEFINITIONS_PATH", ()))


def _today() -> date:
    return local_date(clock().now(), current_app.config["BABEL_DEFAULT_TIMEZONE"])


def _starts(value: date | str | None) -> date:
    """The day a preview counts from: the one asked for, if it is a date of these campaigns'
    years (the calendar's data and the dates' arithmetic end somewhere), else today."""
    try:
        day = date.fromisoformat(value) if isinstance(value, str) else value
    except ValueError:
        day = None
    return day if day is not None and FIRST_YEAR <= day.year <= LAST_YEAR else _today()


def _uploaded(form: UploadForm, name: str) -> tuple[str, bytes]:
    """The name and bytes of the upload (a file, or the preview form's text again); at most
    MAX_DEFINITION_BYTES + 1 bytes are read: the reader refuses more with the size it found."""
    if form.text.data:
        return name, _unpacked(form.text.data).encode("utf-8")
    if not form.file.data:
        raise _Unreadable(_("Choose a file."))
    raw = form.file.data.stream.read(MAX_DEFINITION_BYTES + 1)
    if len(raw) > MAX_DEFINITION_BYTES:
        raise _Unreadable(
            _(
                "The file is larger than %(size)d KB: a definition may have at most %(size)d KB.",
                size=MAX_DEFINITION_BYTES // 1024,
            )
        )
    return name, raw


def _packed(definition: Definition) -> str:
    return base64.b64encode(definition.text.encode("utf-8")).decode("ascii")


def _unpacked(value: str | None) -> str:
    try:
        return base64.b64decode((value or "").encode("ascii"), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        raise _Unreadable(_("The form was not accepted: upload the file again.")) from None


def _page_of(definition: Definition) -> str:
    return url_for("admin_definitions.show", slug=definition.id, version=definition.version)


def _problems_page(problems: list[Problem], message: str | None, name: str, text: str) -> str:
    lines = text.splitlines()
    shown = [
        (problem, lines[problem.line - 1] if 0 < problem.line <= len(lines) else None)
        for problem in problems[:PROBLEMS_SHOWN]
    ]
    return render_template(
        "admin/definitions_problems.html",
        problems=shown,
        more=max(0, len(problems) - PROBLEMS_SHOWN),
        message=message,
        file_name=name,
        form=UploadForm(starts=_today()),
        limit_kb=MAX_DEFINITION_BYTES // 1024,
    )
