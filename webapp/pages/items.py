"""One task or one rectification: its page, its moves (check off, report fixed, verify, send back,
reassign, decide an extension request) and its evidence files. The links in the mails lead here."""

from __future__ import annotations

from flask import render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from webapp.auth.identity import web_actor
from webapp.pages import evidence_store
from webapp.pages.common import (
    back_with,
    base_url,
    calendar,
    clock,
    page_blueprint,
    refusal,
    submitted_before,
    transaction,
)
from webapp.pages.forms import (
    CheckOffForm,
    ExtensionDecisionForm,
    FoundHazardForm,
    NoteForm,
    ReasonForm,
    ReassignForm,
    RejectRectificationForm,
    ReportFixedForm,
    first_error,
    options,
)
from webapp.security import accepts_uploads
from workflow.access import campaign_access
from workflow.campaigns import reassign, tasks
from workflow.campaigns.inspections import hazards_found_in, is_inspection
from workflow.definitions.catalogue import stored_definition
from workflow.definitions.reader import PhotoRules
from workflow.errors import Conflict, InvalidInput
from workflow.form_keys import AlreadySubmitted
from workflow.hazards import rectifications as hazards
from workflow.hazards.evidence import (
    attach_evidence,
    attach_hazard_photos,
    evidence_for_download,
    evidence_of,
    photo_rules,
    photos_by_stage,
    visible_item,
    visible_task,
)
from workflow.hazards.ledger import register_choices
from workflow.hazards.rectifications import HazardReport
from workflow.views.awaiting import extension_awaiting_decision
from workflow.views.inbox import campaign_facts

blueprint = page_blueprint("items")


@blueprint.get("/tasks/<int:task_id>")
def task_page(task_id: int) -> str:
    by = web_actor()
    with transaction(readonly=True) as session:
        task, campaign = visible_task(session, task_id, by, clock().now())
        access = campaign_access(session, campaign, by)
        facts = campaign_facts(session, {campaign.id}, include_closed=True)[campaign.id]
        files = evidence_of(session, "task", task.id)
        inspection = is_inspection(stored_definition(campaign.definition), task)
        # a campaign-wide inspection has no place of its own: its form asks where
        placeless = inspection and task.site_id is None and task.unit_id is None
        choices = (
            register_choices(session, campaign.id, by=by)
            if access.coordinator or (placeless and access.leading_group)
            else None
        )
        people = choices.people if choices and access.coordinator else []
        found_form = FoundHazardForm()
        if placeless and choices:
            found_form.site.choices = options(
                [("", _("Choose where it was found"))]
                + [(site.code, site.name) for site in choices.sites]
            )
        page = render_template(
            "items/task.html",
            task=task,
            inspection=inspection,
            found=hazards_found_in(session, task.id) if inspection else [],
            found_form=found_form,
            placeless=placeless,
            campaign=campaign,
            facts=facts,
            access=access,
            files=files,
            check_off=CheckOffForm(),
            reject=ReasonForm(),
            verify=NoteForm(),
            reassign=_reassign_form(people, task.assignee.email),
            people=people,
            # the assignee, or their stand-in today: whoever sees the task outside the leading group
            # is one of the two (visible_task; workflow/people/stand_ins.py)
            holds=by.person_id == task.assignee_id or not access.leading_group,
        )
    return page


@blueprint.post("/tasks/<int:task_id>/complete")
@accepts_uploads
def complete(task_id: int) -> BaseResponse:
    form = CheckOffForm()
    here = url_for("items.task_page", task_id=task_id)
    if not form.validate_on_submit():
        return back_with(first_error(form), form.next.data, here)
    by = web_actor()
    try:
        files = evidence_store.accept(form.evidence.data, rules=_rules("task", task_id))
        with evidence_store.kept(files) as accepted, transaction() as session:
            task = tasks.complete_task(
                session,
                task_id,
                by=by,
                clock=clock(),
                note=form.note.data,
                no_problems=bool(form.no_problems.data),
            )
            attach_evidence(session, "task", task.id, accepted, by=by, now=clock().now())
            title = task.title
    except (Conflict, InvalidInput) as error:
        return back_with(refusal(error), form.next.data, here)
    return back_with(_("Checked off: %(title)s", title=title), form.next.data, here, "success")


@blueprint.post("/tasks/<int:task_id>/hazards")
@accepts_uploads
def register_found(task_id: int) -> BaseResponse:
    """A hazard the inspection found, registered by its inspector (or a coordinator) from its
    page."""
    form = FoundHazardForm()
    here = url_for("items.task_page", task_id=task_id)
    if not form.validate_on_submit():
        return back_with(first_error(form), form.next.data, here)
    by = web_actor()
    report = HazardReport(
        description=form.description.data or "",
        severity=form.severity.data or "minor",
        site=form.site.data or None,
        location=form.location.data or None,
        temporary_measures=form.temporary_measures.data or None,
        task_id=task_id,
    )
    try:
        files = evidence_store.accept(None, photos=form.photos.data, rules=_rules("task", task_id))
        with evidence_store.kept(files) as accepted, transaction() as session:
            task, campaign = visible_task(session, task_id, by)
            rectification = hazards.register_hazard(
                session,
                campaign.id,
                report,
                by=by,
                clock=clock(),
                calendar=calendar(session),
                base_url=base_url(),
                form_key=form.form_key.data,
            )
            attach_hazard_photos(session, rectification, accepted, by=by, now=clock().now())
            deadline, name = rectification.deadline, rectification.responsible.name
    except AlreadySubmitted:
        return submitted_before(here)
    except (Conflict, InvalidInput) as error:
        return back_with(refusal(error), form.next.data, here)
    return back_with(
        _(
            "Hazard registered: %(name)s is to rectify it by %(deadline)s.",
            name=name,
            deadline=deadline.isoformat(),
        ),
        form.next.data,
        here,
        "success",
    )


@blueprint.post("/tasks/<int:task_id>/<any(verify, reject):move>")
def task_review(task_id: int, move: str) -> BaseResponse:
    form = ReasonForm() if move == "reject" else NoteForm()
    here = url_for("items.task_page", task_id=task_id)
    if not form.validate_on_submit():
        return back_with(first_error(form), form.next.data, here)
    try:
        with transaction() as session:
            if move == "reject":  # the assignee is told why, by mail
                tasks.reject_task(
                    session,
                    task_id,
                    by=web_actor(),
                    clock=clock(),
                    note=form.note.data,
                    base_url=base_url(),
                )
            else:
                tasks.verify_task(
                    session, task_id, by=web_actor(), clock=clock(), note=form.note.data
                )
    except (Conflict, InvalidInput) as error:
        return back_with(refusal(error), form.next.data, here)
    done = _("Sent back to the assignee.") if move == "reject" else _("Verified.")
    return back_with(done, form.next.data, here, "success")


@blueprint.get("/rectifications/<int:rectification_id>")
def rectification_page(rectification_id: int) -> str:
    by = web_actor()
    with transaction(readonly=True) as session:
        rectification = hazards.get_rectification(session, rectification_id, by, clock().now())
        campaign = rectification.campaign
        access = campaign_access(session, campaign, by)
        people = register_choices(session, campaign.id, by=by).people if access.coordinator else []
        files = evidence_of(session, "rectification", rectification.id)
        return render_template(
            "items/rectification.html",
            rect=rectification,
            campaign=campaign,
            access=access,
            # the photos side by side; the list below them has the other files
            photos=photos_by_stage(session, [rectification.id]).get(rectification.id),
            files=[f for f in files if f.stage is None],
            overdue=hazards.overdue(rectification, clock().now()),
            extension=extension_awaiting_decision(session, rectification.id),
            report_fixed=ReportFixedForm(),
            verify=NoteForm(),
            reject=RejectRectificationForm(),
            decide=ExtensionDecisionForm(),
            reassign=_reassign_form(people, rectification.responsible.email),
            people=people,
            is_responsible=hazards.acts_as_responsible(session, rectification, by, clock().now()),
        )


@blueprint.post("/rectifications/<int:rectification_id>/submit")
@accepts_uploads
def report_fixed(rectification_id: int) -> BaseResponse:
    form = ReportFixedForm()
    here = url_for("items.rectification_page", rectification_id=rectification_id)
    if not form.validate_on_submit():
        return back_with(first_error(form), form.next.data, here)
    by = web_actor()
    try:
        files = evidence_store.accept(
            form.evidence.data,
            photos=form.photos.data,
            rules=_rules("rectification", rectification_id),
        )
        with evidence_store.kept(files) as accepted, transaction() as session:
            hazards.submit_rectification(
                session,
                rectification_id,
                by=by,
                clock=clock(),
                note=form.note.data,
                evidence=", ".join(f.file_name for f in accepted) or None,
                form_key=form.form_key.data,
            )
            # a photo handed in with "fixed" shows the fix, whichever field it came in
            attach_evidence(
                session,
                "rectification",
                rectification_id,
                accepted,
                by=by,
                now=clock().now(),
                stage="after",
            )
    except AlreadySubmitted:
        # the files of this post were not kept: the first post's are the rectification's
        return submitted_before(here)
    except (Conflict, InvalidInput) as error:
        return back_with(refusal(error), form.next.data, here)
    return back_with(
        _("Reported fixed: a coordinator will check it."), form.next.data, here, "success"
    )


@blueprint.post("/rectifications/<int:rectification_id>/verify")
def verify_rectification(rectification_id: int) -> BaseResponse:
    form = NoteForm()
    here = url_for("items.rectification_page", rectification_id=rectification_id)
    if not form.validate_on_submit():
        return back_with(first_error(form), form.next.data, here)
    try:
        with transaction() as session:
            hazards.verify_rectification(
                session, rectification_id, by=web_actor(), clock=clock(), note=form.note.data
            )
    except (Conflict, InvalidInput) as error:
        return back_with(refusal(error), form.next.data, here)
    return back_with(_("Verified and closed (销号)."), form.next.data, here, "success")


@blueprint.post("/rectifications/<int:rectification_id>/reject")
def reject_rectification(rectification_id: int) -> BaseResponse:
    form = RejectRectificationForm()
    here = url_for("items.rectification_page", rectification_id=rectification_id)
    if not form.validate_on_submit():
        return back_with(first_error(form), form.next.data, here)
    try:
        with transaction() as session:
            hazards.reject_rectification(
                session,
                rectification_id,
                by=web_actor(),
                clock=clock(),
                calendar=calendar(session),
                reason=form.reason.data,
                deadline_working_days=form.working_days.data,
                base_url=base_url(),
            )
    except (Conflict, InvalidInput) as error:
        return back_with(refusal(error), form.next.data, here)
    return back_with(_("Sent back with a new deadline."), form.next.data, here, "success")


@blueprint.post("/extensions/<int:extension_id>/decide")
def decide_extension(extension_id: int) -> BaseResponse:
    """A coordinator approves or refuses an extension request, from its rectification's page."""
    form = ExtensionDecisionForm()
    # the request's page is its rectification's, named by the form; without it, the inbox
    back = url_for("inbox.home")
    if not form.validate_on_submit():
        return back_with(first_error(form), form.next.data, back)
    approve = form.decision.data == "approve"
    try:
        with transaction() as session:
            extension = hazards.decide_extension(
                session,
                extension_id,
                by=web_actor(),
                clock=clock(),
                calendar=calendar(session),
                approve=approve,
                note=form.note.data,
            )
            here = url_for("items.rectification_page", rectification_id=extension.rectification_id)
    except (Conflict, InvalidInput) as error:
        return back_with(refusal(error), form.next.data, back)
    done = _("Extension approved: the deadline moved.") if approve else _("Extension refused.")
    return back_with(done, form.next.data, here, "success")


@blueprint.post("/<any(tasks, rectifications):kind>/<int:item_id>/reassign")
def reassign_item(kind: str, item_id: int) -> BaseResponse:
    form = ReassignForm()
    endpoint = "items.task_page" if kind == "tasks" else "items.rectification_page"
    here = url_for(
        endpoint, **({"task_id": item_id} if kind == "tasks" else {"rectification_id": item_id})
    )
    if not form.validate_on_submit():
        return back_with(first_error(form), form.next.data, here)
    use_case = reassign.reassign_task if kind == "tasks" else reassign.reassign_rectification
    try:
        with transaction() as session:
            use_case(
                session,
                item_id,
                form.to.data or "",
                by=web_actor(),
                clock=clock(),
                base_url=base_url(),
                note=form.note.data,
            )
    except (Conflict, InvalidInput) as error:
        return back_with(refusal(error), form.next.data, here)
    return back_with(
        _("Reassigned; the new person is told by mail."), form.next.data, here, "success"
    )


@blueprint.get("/evidence/<int:evidence_id>")
def evidence(evidence_id: int) -> BaseResponse:
    with transaction(readonly=True) as session:
        row = evidence_for_download(session, evidence_id, web_actor())
    return evidence_store.send(row)


@blueprint.get("/evidence/<int:evidence_id>/thumb")
def evidence_thumb(evidence_id: int) -> BaseResponse:
    """A photo's thumbnail, for those who may see the photo."""
    with transaction(readonly=True) as session:
        row = evidence_for_download(session, evidence_id, web_actor())
    return evidence_store.send_thumbnail(row)


def _rules(kind: str, item_id: int) -> tuple[PhotoRules, str]:
    """What the item's campaign keeps of a photo, read before the photos are decoded: the move's
    own transaction is not held open while they are (SQLite has one writer)."""
    with transaction(readonly=True) as session:
        return photo_rules(
            session, visible_item(session, kind, item_id, web_actor(), clock().now())
        )


def _reassign_form(people: list, current_email: str) -> ReassignForm:  # type: ignore[type-arg]
    form = ReassignForm()
    form.to.choices = options(
        [("", _("Choose a person"))]
        + [(p.code, f"{p.name} <{p.code}>") for p in people if p.code != current_email]
    )
    return form
