"""`pingan letter list|issue|sign` (issue 17, item 1): the leader issues 3号道口's letter and its keeper signs it as
themselves (--as); a refused move is one line on stderr, exit 1, and changes nothing. SQLite: the engine's rules are
tested on both databases in tests/engine/test_letters.py."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from tests.support.databases import row_counts
from tests.support.texts import LETTERS, TOWN_WITH_KEEPER
from workflow.models import Letter


@pytest.fixture
def db_url(sqlite_url):
    return sqlite_url


@pytest.fixture
def campaign(pingan, tmp_path):
    (tmp_path / "org.yaml").write_text(TOWN_WITH_KEEPER, encoding="utf-8")
    (tmp_path / "def.yaml").write_text(LETTERS, encoding="utf-8")
    assert pingan("import-org", str(tmp_path / "org.yaml")).exit_code == 0
    started = pingan("start", str(tmp_path / "def.yaml"), "--org", "town", "--starts", "2026-05-01")
    return started.stdout.strip()


def test_the_leader_issues_and_the_keeper_signs_from_the_command_line(pingan, campaign, sessions):
    listed = pingan("letter", "list", campaign, "--as", "office@example.org")
    assert listed.stdout == (
        "letter 1: drafted 签订铁路安全包片责任区段责任书 [东村 · 3号道口] 张组长 → 陈道口看守 due 2026-05-11\n"
    )
    issued = pingan("letter", "issue", "1", "--as", "leader@example.org")
    assert issued.stdout == "letter 1: issued (to be signed by keeper@example.org)\n"
    signed = pingan("letter", "sign", "1", "--as", "keeper@example.org")
    assert (signed.exit_code, signed.stdout) == (0, "letter 1: signed\n")
    rows = json.loads(pingan("letter", "list", campaign, "--json").stdout)
    assert [(r["state"], r["signer_email"], r["signed_on"]) for r in rows] == [
        ("signed", "keeper@example.org", "2026-05-01")
    ]


@pytest.mark.parametrize(
    "args, message",
    [
        (("sign", "1", "--as", "keeper@example.org"), "error: letter 1 is not issued yet"),
        (("issue", "1", "--as", "office@example.org"), "error: only the letter's issuer"),
        (("issue", "9", "--as", "leader@example.org"), "error: no letter 9"),
        (("issue", "1", "--as", "nobody@example.org"), "error: "),
    ],
)
def test_a_refused_move_is_one_line_exit_1_and_changes_nothing(
    pingan, campaign, sessions, args, message
):
    before = row_counts(sessions)
    refused = pingan("letter", *args)
    assert refused.exit_code == 1
    assert refused.stderr.startswith(message) and refused.stderr.count("\n") == 1
    assert row_counts(sessions) == before
    with sessions() as session:
        assert session.scalar(select(Letter.state)) == "drafted"
