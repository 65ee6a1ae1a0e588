"""The JSON shapes the API answers with (DESIGN.md, HTTP API): one function per kind of thing, ISO dates and times."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from webapp import wiring_of
from workflow.hazards import rectifications as hazards
from workflow.views.inbox import InboxItem
from workflow.mail.texts import item_link
from workflow.models import DeadlineExtension, Escalation, Rectification, Task


def rectification_json(rectification: Rectification) -> dict[str, Any]:
    site, unit, responsible = rectification.site, rectification.unit, rectification.responsible
    return {
        "id": rectification.id,
        "campaign_id": rectification.campaign_id,
        "state": rectification.state,
        "severity": rectification.severity,
        "description": rectification.description,
        "site": {"code": site.code, "name": site.name} if site else None,
        "unit": {"code": unit.code, "name": unit.name} if unit else None,
        "location": rectification.location,
        "responsible": {"email": responsible.email, "name": responsible.name},
        "temporary_measures": rectification.temporary_measures,
        "evidence": rectification.evidence,
        "deadline": _iso(rectification.deadline),
        "original_deadline": _iso(rectification.original_deadline),
        "extensions": rectification.extensions,
        "overdue": hazards.overdue(rectification, _clock().now()),
        "registered_at": _iso(rectification.registered_at),
        "submitted_at": _iso(rectification.submitted_at),
        "closed_at": _iso(rectification.closed_at),
        "link": f"{_base_url()}/rectifications/{rectification.id}",
    }


def extension_json(session: Session, extension: DeadlineExtension) -> dict[str, Any]:
    moved = session.get(Rectification, extension.rectification_id)  # already loaded by the use case
    return {
        "id": extension.id,
        "rectification_id": extension.rectification_id,
        "state": extension.state,
        "reason": extension.reason,
        "requested_deadline": _iso(extension.requested_deadline),
        "requested_at": _iso(extension.requested_at),
        "decided_at": _iso(extension.decided_at),
        "decision_note": extension.decision_note,
        "rectification": rectification_json(moved) if moved is not None else None,
    }


def task_json(task: Task) -> dict[str, Any]:
    return {
        "id": task.id,
        "campaign_id": task.campaign_id,
        "phase": task.phase_key,
        "title": task.title,
        "state": task.state,
        "required": task.required,
        "unit": task.unit.code if task.unit else None,
        "assignee": {"email": task.assignee.email, "name": task.assignee.name},
        "due_on": _iso(task.due_on),
        "completed_at": _iso(task.completed_at),
        "note": task.note,
    }


def inbox_item_json(item: InboxItem) -> dict[str, Any]:
    return {
        "kind": item.kind,
        "id": item.id,
        "title": item.title,
        "title_en": item.title_en,
        "group": item.group,
        "campaign": {"id": item.campaign_id, "title": item.campaign_title},
        "phase": {"id": item.phase, "title": item.phase_title, "title_en": item.phase_title_en,
                  "from_previous_phase": item.from_previous_phase},
        "unit": item.unit,
        "site": item.site,
        "severity": item.severity,
        "due_on": _iso(item.due_on),
        "days_late": item.days_late,
        "working_days_late": item.working_days_late,
        "link": item_link(_base_url(), item.kind, item.id),
    }


def escalation_json(escalation: Escalation) -> dict[str, Any]:
    return {
        "item_kind": escalation.item_kind,
        "item_id": escalation.item_id,
        "deadline_round": escalation.deadline_round,
        "level": escalation.level,
        "colour": escalation.colour,
        "deadline": _iso(escalation.deadline),
        "due_at": _iso(escalation.due_at),
        "reached_at": _iso(escalation.reached_at),
        "recipients": [address for address in escalation.recipients.split(",") if address],
    }


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _base_url() -> str:
    return current_app.config["BASE_URL"]


def _clock():  # type: ignore[no-untyped-def]
    return wiring_of(current_app).clock
