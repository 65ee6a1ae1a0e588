"""``/admin/roster``: a unit's people from a spreadsheet (花名册) or an organisation file,
previewed, then applied; and the unit's organisation exported as XLSX and YAML.

An administrator chooses a unit they administer (its subtree is the roster's scope) and uploads a
file. The upload is kept under the instance folder by its SHA-256 digest and its uploader for
``ROSTER_UPLOAD_HOURS`` (the digest travels in the page, never the file), read again and checked
again at every step, and the preview (``GET .../preview/<file>``) shows what would change or every
problem at its row and column. Applying (``workflow/people/rosters.py``) is refused when the
directory changed since the preview (a fresh preview is shown) and writes once per form
(``form_keys``). Every post is answered with a redirect (PITFALLS.md, Forms). Problems are worded
here from the engine's codes, so they read in the page's language.
"""

from __future__ import annotations

import hashlib
import re
import time
from pathlib import Path
from typing import Any

from flask import Response, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response as BaseResponse
from wtforms import HiddenField, SelectField
from wtforms.validators import DataRequired

from webapp.auth.identity import web_actor
from webapp.pages.admin.roster_words import FIELDS, PROBLEMS, worded
from webapp.pages.common import (
    base_url,
    clock,
    page_blueprint,
    refusal,
    submitted_before,
    transaction,
)
from webapp.pages.forms import OneTimeForm
from webapp.security import accepts_uploads
from workflow.access import administered_unit_ids, require_administrator
from workflow.errors import Conflict, InvalidInput
from workflow.form_keys import AlreadySubmitted
from workflow.limits import MAX_ROSTER_FILE_BYTES, MAX_ROSTER_ROWS, ROSTER_UPLOAD_HOURS
from workflow.models import Unit
from workflow.organisation.org_changes import plan_roster
from workflow.organisation.org_export import export_xlsx, export_yaml
from workflow.organisation.roster import RosterError, RosterProblem
from workflow.organisation.roster_files import read_roster
from workflow.people.rosters import StaleRoster, apply_roster

blueprint = page_blueprint("roster")

# the first problems of a refused roster are listed; the rest are counted
PROBLEMS_SHOWN = 50
STORED_NAME = re.compile(r"^[0-9a-f]{64}\.(xlsx|yaml|yml)$")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class RosterForm(FlaskForm):
    """The unit whose roster it is, and the file."""

    unit = SelectField(_l("Unit (the roster covers it and every unit under it)"), coerce=int)
    file = FileField(
        _l("Roster (XLSX) or organisation file (YAML)"),
        validators=[FileRequired(_l("Choose a file."))],
    )


class ApplyForm(OneTimeForm):
    file = HiddenField(validators=[DataRequired()])
    fingerprint = HiddenField(validators=[DataRequired()])


@blueprint.get("/admin/roster")
def start() -> str:
    by = web_actor()
    with transaction(readonly=True) as session:
        require_administrator(session, by)
        units = _units(session, by)
    form = RosterForm()
    form.unit.choices = [(unit.id, label) for unit, label in units]
    return render_template(
        "admin/roster.html",
        form=form,
        units=units,
        limit_mb=MAX_ROSTER_FILE_BYTES // (1024 * 1024),
        rows=MAX_ROSTER_ROWS,
    )


@blueprint.post("/admin/roster")
@accepts_uploads
def upload() -> BaseResponse:
    by = web_actor()
    form = RosterForm()
    with transaction(readonly=True) as session:
        require_administrator(session, by)
        form.unit.choices = [(unit.id, label) for unit, label in _units(session, by)]
        unit_id = _unit_id(form.unit.raw_data)
        # a unit not theirs is refused before the file is looked at
        require_administrator(session, by, unit_id)
        if session.get(Unit, unit_id) is None:
            raise NotFound()
    here = url_for("roster.start")
    if not form.validate_on_submit():
        for messages in form.errors.values():
            for message in messages:
                flash(str(message), "error")
        return redirect(here)
    upload = form.file.data
    raw = upload.stream.read(MAX_ROSTER_FILE_BYTES + 1)
    name = Path(upload.filename or "").name.lower()
    ending = name.rsplit(".", 1)[-1] if "." in name else ""
    if ending not in ("xlsx", "yaml", "yml"):
        flash(str(PROBLEMS["not_roster"]), "error")
        return redirect(here)
    stored = _store(by.person_id, raw, ending)
    return redirect(url_for("roster.preview", unit_id=unit_id, file=stored))


@blueprint.get("/admin/roster/<int:unit_id>/preview/<file>")
def preview(unit_id: int, file: str) -> str | BaseResponse:
    by = web_actor()
    with transaction(readonly=True) as session:
        unit = _administered(session, by, unit_id)
        raw = _stored(by.person_id, file)
        if raw is None:
            flash(_("This upload has expired: upload the file again."), "error")
            return redirect(url_for("roster.start"))
        problems: list[RosterProblem] = []
        plan = None
        try:
            roster = read_roster(raw, file)
            plan = plan_roster(session, unit_id, roster, by=by)
            problems = plan.problems
        except RosterError as error:
            problems = error.problems
        scope = (unit.code, unit.name)
    apply_form = ApplyForm()
    if plan is not None:
        apply_form.file.data, apply_form.fingerprint.data = file, plan.fingerprint
    return render_template(
        "admin/roster_preview.html",
        scope=scope,
        unit_id=unit_id,
        kind=_kind(file),
        plan=None if problems else plan,
        problems=[worded(problem) for problem in problems[:PROBLEMS_SHOWN]],
        more=max(len(problems) - PROBLEMS_SHOWN, 0),
        form=apply_form,
        fields=FIELDS,
    )


@blueprint.post("/admin/roster/<int:unit_id>/apply")
def apply(unit_id: int) -> BaseResponse:
    by = web_actor()
    with transaction(readonly=True) as session:
        _administered(session, by, unit_id)
    form = ApplyForm()
    file = form.file.data or ""
    raw = _stored(by.person_id, file) if form.validate_on_submit() else None
    if raw is None:
        flash(_("This upload has expired: upload the file again."), "error")
        return redirect(url_for("roster.start"))
    again = url_for("roster.preview", unit_id=unit_id, file=file)
    try:
        roster = read_roster(raw, file)
        with transaction() as session:
            require_administrator(session, by, unit_id)
            applied = apply_roster(
                session,
                unit_id,
                roster,
                fingerprint=form.fingerprint.data,
                by=by,
                clock=clock(),
                base_url=base_url(),
                form_key=form.form_key.data,
            )
    except AlreadySubmitted:
        return submitted_before(url_for("roster.start"))
    except StaleRoster:
        flash(
            _(
                "The directory changed since this preview: nothing was written. Here is the "
                "new preview."
            ),
            "error",
        )
        return redirect(again)
    except RosterError:
        return redirect(again)  # the preview lists the problems
    except (Conflict, InvalidInput) as error:
        flash(refusal(error), "error")
        return redirect(again)
    if not (applied.added or applied.changed or applied.deactivated or applied.other):
        flash(_("The roster matches the directory: nothing to change."), "success")
    else:
        flash(
            _(
                "Roster applied: %(added)d added, %(changed)d changed, %(deactivated)d "
                "deactivated, %(kept)d kept.",
                added=applied.added,
                changed=applied.changed,
                deactivated=applied.deactivated,
                kept=applied.kept,
            ),
            "success",
        )
    for line in applied.vacant:
        flash(_("Now held by nobody: %(what)s", what=line), "error")
    return redirect(url_for("roster.start"))


@blueprint.get("/admin/roster/<int:unit_id>/export.xlsx")
def export_roster_xlsx(unit_id: int) -> Response:
    by = web_actor()
    with transaction(readonly=True) as session:
        unit = _administered(session, by, unit_id)
        content, code = export_xlsx(session, unit_id), unit.code
    return _download(content, f"roster-{code}.xlsx", XLSX_TYPE)


@blueprint.get("/admin/roster/<int:unit_id>/export.yaml")
def export_roster_yaml(unit_id: int) -> Response:
    by = web_actor()
    with transaction(readonly=True) as session:
        unit = _administered(session, by, unit_id)
        content, code = export_yaml(session, unit_id), unit.code
    return _download(content.encode(), f"org-{code}.yaml", "application/yaml; charset=utf-8")


# --- helpers ------------------------------------------------------------------------------------


def _units(session: Any, by: Any) -> list[tuple[Unit, str]]:
    """The units the person administers, each after its parent, labelled with its depth."""
    allowed = administered_unit_ids(session, by)
    units = [
        unit
        for unit in session.scalars(select(Unit).order_by(Unit.name))
        if allowed is None or unit.id in allowed
    ]
    shown = {unit.id for unit in units}
    children: dict[int | None, list[Unit]] = {}
    for unit in units:
        children.setdefault(unit.parent_id if unit.parent_id in shown else None, []).append(unit)
    found: list[tuple[Unit, str]] = []
    waiting = [(unit, 0) for unit in reversed(children.get(None, []))]
    while waiting:
        unit, depth = waiting.pop()
        found.append((unit, "\u3000" * depth + f"{unit.name} ({unit.code})"))
        waiting += [(child, depth + 1) for child in reversed(children.get(unit.id, []))]
    return found


def _unit_id(raw: list[str] | None) -> int:
    text = (raw or [""])[0].strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 10):
        raise NotFound()
    return int(text)


def _administered(session: Any, by: Any, unit_id: int) -> Unit:
    require_administrator(session, by, unit_id)
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise NotFound()
    return unit


def _folder() -> Path:
    return Path(current_app.config["INSTANCE_PATH"]) / "rosters"


def _store(person_id: int | None, raw: bytes, ending: str) -> str:
    """Keep an upload for its preview and apply, by its digest and uploader; drop expired ones."""
    folder = _folder()
    folder.mkdir(parents=True, exist_ok=True)
    oldest = time.time() - ROSTER_UPLOAD_HOURS * 3600
    for old in folder.iterdir():
        try:
            if old.stat().st_mtime < oldest:
                old.unlink()
        except OSError:
            pass  # another worker removed it first
    name = f"{hashlib.sha256(raw).hexdigest()}.{ending}"
    path = folder / f"{person_id}-{name}"
    path.write_bytes(raw)  # the same file again: the same name, the life starts again
    return name


def _stored(person_id: int | None, name: str) -> bytes | None:
    """The upload ``name`` of this person, if it is still kept and still what its digest says."""
    if not STORED_NAME.match(name):
        return None
    path = _folder() / f"{person_id}-{name}"
    try:
        if path.stat().st_mtime < time.time() - ROSTER_UPLOAD_HOURS * 3600:
            return None
        raw = path.read_bytes()
    except OSError:
        return None
    return raw if hashlib.sha256(raw).hexdigest() == name.split(".")[0] else None


def _kind(name: str) -> str:
    return "xlsx" if name.endswith(".xlsx") else "yaml"


def _download(content: bytes, filename: str, mimetype: str) -> Response:
    response = Response(content, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
