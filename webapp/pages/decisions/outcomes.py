"""A batch's outcomes, kept for the result page (``/decisions/result``) after the post that decided
them redirected there (PITFALLS.md: a page answered at a POST address is re-sent by a reload).

A hundred outcomes with their titles do not fit a session cookie (4 KB), so they are written as a
JSON file in the instance folder under a random name; the session holds only the name. The file
names its person: another person's session cookie with the name shows nothing. Files older than a
day are removed whenever a new one is written.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from flask import current_app, session

from workflow.campaigns.bulk import Outcome

# the session's key for the name of the last batch's file
KEY = "decisions_result"
KEPT_SECONDS = 24 * 3600


def keep(person_id: int, decision: str, outcomes: list[Outcome]) -> None:
    """Write the outcomes for the result page and note their file in the session."""
    folder = _folder()
    folder.mkdir(parents=True, exist_ok=True)
    _forget_old(folder)
    name = secrets.token_urlsafe(16)
    record = {
        "person_id": person_id,
        "decision": decision,
        "outcomes": [asdict(outcome) for outcome in outcomes],
    }
    (folder / f"{name}.json").write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    session[KEY] = name


def kept(person_id: int) -> dict[str, Any] | None:
    """The last batch of this session, if it is still there and is this person's."""
    name = session.get(KEY)
    if not isinstance(name, str) or not name.replace("-", "").replace("_", "").isalnum():
        return None
    path = _folder() / f"{name}.json"
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if record.get("person_id") != person_id:
        return None
    record["outcomes"] = [Outcome(**outcome) for outcome in record["outcomes"]]
    return record


# --- helpers ------------------------------------------------------------------------------------


def _folder() -> Path:
    return Path(current_app.config["INSTANCE_PATH"]) / "decisions"


def _forget_old(folder: Path) -> None:
    oldest = time.time() - KEPT_SECONDS
    for path in folder.glob("*.json"):
        try:
            if path.stat().st_mtime < oldest:
                path.unlink()
        except OSError:  # another worker removed it first
            continue
