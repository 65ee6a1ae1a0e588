"""The JSON API as a client with a token calls it: ``Caller``, the hazard the API tests register, the error shape."""

from __future__ import annotations

from typing import Any

HAZARD = {
    "site": "crossing-3",
    "description": "道口护栏损坏",
    "severity": "minor",
    "responsible": "east@example.org",
    "deadline_working_days": 3,
    "temporary_measures": "设置警示牌",
}


class Caller:
    """One person's API client: every request under /api/v1 with their bearer token."""

    def __init__(self, client, token: str) -> None:  # type: ignore[no-untyped-def]
        self.client, self.headers = client, {"Authorization": f"Bearer {token}"}

    def get(self, path: str):  # type: ignore[no-untyped-def]
        return self.client.get(f"/api/v1{path}", headers=self.headers)

    def post(self, path: str, body: Any = None, *, raw: str | bytes | None = None):  # type: ignore[no-untyped-def]
        if raw is not None:
            return self.client.post(
                f"/api/v1{path}", data=raw, headers=self.headers, content_type="application/json"
            )
        return self.client.post(f"/api/v1{path}", json=body, headers=self.headers)


def register(as_person, campaign: int, **changes: Any) -> dict:  # type: ignore[no-untyped-def]
    """``HAZARD`` (with ``changes``) registered by the office director through the API; the answer's JSON."""
    answer = as_person("office@example.org").post(
        f"/campaigns/{campaign}/hazards", {**HAZARD, **changes}
    )
    assert answer.status_code == 201, answer.json
    return answer.json


def assert_error(answer: Any, status: int, code: str) -> None:
    """``answer`` is ``status`` in the API's JSON error shape, with ``code`` and a message."""
    assert answer.status_code == status, answer.get_data(as_text=True)
    assert answer.is_json and answer.json["error"] == code
    assert isinstance(answer.json["message"], str) and answer.json["message"]
