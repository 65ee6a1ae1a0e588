"""The `pingan` command as an operator uses it: one-line errors, non-zero exits, nothing half-done."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from tests.support.texts import RAILWAY, SCREENING, TOWN, TOWN_WITH_KEEPER
from workflow.models import Base


@pytest.fixture
def files(tmp_path):
    (tmp_path / "town.yaml").write_text(TOWN, encoding="utf-8")
    (tmp_path / "railway.yaml").write_text(RAILWAY, encoding="utf-8")
    return tmp_path


@pytest.fixture
def started(pingan, files):
    assert pingan("import-org", str(files / "town.yaml")).exit_code == 0
    result = pingan("start", str(files / "railway.yaml"), "--org", "town", "--starts", "2026-05-01")
    assert result.exit_code == 0, result.output
    return int(result.stdout.strip())


def counts(db_url):
    engine = create_engine(db_url)
    with engine.connect() as connection:
        result = {
            t.name: connection.scalar(select(func.count()).select_from(t))
            for t in Base.metadata.sorted_tables
        }
    engine.dispose()
    return result


def test_init_can_run_again_on_an_initialised_database(pingan):
    first = pingan("init")
    second = pingan("init")
    assert first.exit_code == second.exit_code == 0
    from alembic.script import ScriptDirectory

    from workflow.db import alembic_config

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert second.stdout.endswith(f"is at schema revision {head}\n")


def test_a_command_on_a_database_without_schema_says_to_run_init(pingan, monkeypatch, tmp_path):
    monkeypatch.setenv("PINGAN_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.sqlite'}")
    result = pingan("status", "1")
    assert result.exit_code == 1
    assert result.stderr.strip().endswith("has no schema: run `pingan init`")
    assert len(result.stderr.strip().splitlines()) == 1


def test_validate_prints_each_problem_with_file_line_and_key(pingan, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        RAILWAY.replace("assignee: office_director, due: 7d", "assignee: office_chief, due: 7d"),
        encoding="utf-8",
    )
    good = tmp_path / "good.yaml"
    good.write_text(RAILWAY, encoding="utf-8")
    result = pingan("validate", str(good), str(bad))
    assert result.exit_code == 1
    line = next(
        n for n, text in enumerate(RAILWAY.splitlines(), 1) if "office_director, due: 7d" in text
    )
    assert (
        f"{bad}:{line}: phases[0].tasks[1].assignee: unknown role 'office_chief'" in result.stderr
    )
    assert f"{good}: ok (safe-railway-test v1, 3 phases)" in result.stdout


def test_import_org_twice_reports_nothing_new(pingan, files):
    first = pingan("import-org", str(files / "town.yaml"))
    second = pingan("import-org", str(files / "town.yaml"))
    assert first.stdout.startswith("units: 4 created, 0 updated; people: 6 created")
    assert second.stdout.startswith("units: 0 created, 0 updated; people: 0 created, 0 updated")


def test_a_campaign_is_started_advanced_and_reported(pingan, started):
    status = json.loads(pingan("status", str(started), "--json").stdout)
    assert status["state"] == "mobilization"
    assert status["blocking"] == 4

    refused = pingan("advance", str(started))
    assert refused.exit_code == 1
    lines = refused.stderr.strip().splitlines()
    assert lines[0] == "error: cannot leave phase 'mobilization': 4 required item(s) still open"
    assert any("制定创建活动计划 [东村] → 李村长 (open)" in line for line in lines[1:])

    for task in range(1, 8):
        pingan("task", "complete", str(task), "--note", "已完成")
    moved = pingan("advance", str(started), now="2026-06-01T09:00")
    assert moved.exit_code == 0, moved.output
    assert (
        moved.stdout.strip()
        == f"campaign {started}: mobilization → implementation, 3 task(s) created"
    )
    text = pingan("status", str(started)).stdout
    assert "phase: implementation (全面实施阶段)" in text


def test_an_assignee_acting_on_someone_elses_task_is_refused_in_one_line(pingan, started):
    # tasks are created in definition order, villages in name order: task 1 is 东村's plan
    other = pingan("task", "complete", "1", "--as", "west@example.org")
    assert (other.exit_code, other.stderr) == (1, "error: no task 1\n")
    own = pingan("task", "complete", "1", "--as", "east@example.org", "--note", "计划已制定")
    assert (own.exit_code, own.stdout) == (0, "task 1: done\n")


def test_a_missing_role_refuses_start_with_one_line_and_writes_nothing(pingan, files, db_url):
    (files / "town.yaml").write_text(
        TOWN.replace("roles: [office_director]", "roles: []"), encoding="utf-8"
    )
    pingan("import-org", str(files / "town.yaml"))
    before = counts(db_url)
    result = pingan("start", str(files / "railway.yaml"), "--org", "town", "--starts", "2026-05-01")
    assert result.exit_code == 1
    assert (
        result.stderr.strip()
        == "error: cannot start: role 'office_director' has nobody in unit 'town' (铁路镇)"
    )
    assert counts(db_url) == before


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ("start", "railway.yaml", "--org", "town", "--starts", "May 1st"),
            "not a date: 'May 1st'",
        ),
        (
            ("start", "no-such-definition", "--org", "town", "--starts", "2026-05-01"),
            "no-such-definition",
        ),
        (("status", "999"), "no campaign 999"),
        (("advance", "999"), "no campaign 999"),
        (("import-org", "missing.yaml"), "missing.yaml"),
    ],
)
def test_bad_input_is_one_line_on_stderr_and_a_non_zero_exit(
    pingan, files, monkeypatch, args, message
):
    monkeypatch.chdir(files)
    pingan("import-org", "town.yaml")
    result = pingan(*args)
    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_a_bad_pinned_clock_is_one_line(pingan, started, monkeypatch):
    monkeypatch.setenv("PINGAN_NOW", "yesterday")
    result = pingan("status", str(started))
    assert result.exit_code == 1
    assert (
        result.stderr.strip() == "error: not an ISO date-time: 'yesterday' (e.g. 2026-10-09T09:00)"
    )


@pytest.mark.parametrize("command", [["sweep"], ["scheduler", "--interval", "1"]])
def test_a_mail_port_that_is_no_number_is_one_line(pingan, started, monkeypatch, command):
    monkeypatch.setenv("MAIL_PORT", "twenty-five")
    result = pingan(*command)
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "error: mail settings (MAIL_*): invalid literal for int() with base 10: 'twenty-five'"
    ]


def test_the_installed_command_runs_as_a_process(cli_env, files):
    """The console script itself (not click's test runner) starts, reads the environment and exits cleanly."""
    pingan = [sys.executable, "-c", "from webapp.cli.main import main; main()"]
    init = subprocess.run([*pingan, "init"], capture_output=True, text=True, timeout=60)
    assert init.returncode == 0, init.stderr
    bad = subprocess.run([*pingan, "advance", "12345"], capture_output=True, text=True, timeout=60)
    assert (bad.returncode, bad.stderr) == (1, "error: no campaign 12345\n")


@pytest.mark.slow
def test_the_demo_builds_its_database_again_without_error(pingan, tmp_path, monkeypatch):
    from workflow.models import Campaign, Escalation, Rectification, Task
    from workflow.organisation.directory import person_by_email

    monkeypatch.setenv("PINGAN_INSTANCE_PATH", str(tmp_path / "demo-instance"))
    monkeypatch.delenv("MAIL_SERVER", raising=False)
    first = pingan("demo", "--no-serve", now="2026-11-30T09:00")
    second = pingan("demo", "--no-serve", now="2026-11-30T09:00")
    assert first.exit_code == second.exit_code == 0, second.output
    assert "assignee     dongguan@hexi.example.org" in second.stdout
    url = next(
        line.split(": ", 1)[1]
        for line in second.stdout.splitlines()
        if line.startswith("demo database")
    )
    engine = create_engine(url)
    with Session(engine) as session:
        assignee = person_by_email(session, "dongguan@hexi.example.org").id
        open_tasks = session.scalar(
            select(func.count())
            .select_from(Task)
            .where(Task.assignee_id == assignee, Task.state == "open")
        )
        levels = set(session.scalars(select(Escalation.level)))
        campaigns = set(session.scalars(select(Task.phase_key).distinct()))
        hazards = session.scalar(select(func.count()).select_from(Rectification))
        below_county = session.scalars(
            select(Campaign.title).where(Campaign.parent_id.is_not(None)).order_by(Campaign.id)
        ).all()
    engine.dispose()
    # the railway campaign at three levels: the county's started its two towns' and their villages'
    assert len(below_county) == 7 and below_county[0].startswith("石桥镇铁路护路联防")
    assert open_tasks > 0, "the demo assignee's inbox is not empty"
    assert {1, 2} <= levels, "hazards escalated to levels 1 and 2"
    assert {"mobilization", "implementation"} <= campaigns, "campaigns in different phases"
    assert hazards == 8
    assert (tmp_path / "demo-instance" / "demo-mail.txt").read_text(encoding="utf-8").count(
        "Message-ID:"
    ) > 0


def test_hazards_are_registered_moved_and_escalated_from_the_command_line(pingan, files, smtp):
    (files / "org.yaml").write_text(TOWN_WITH_KEEPER, encoding="utf-8")
    (files / "def.yaml").write_text(SCREENING, encoding="utf-8")
    pingan("import-org", str(files / "org.yaml"))
    campaign = pingan(
        "start", str(files / "def.yaml"), "--org", "town", "--starts", "2026-09-10"
    ).stdout.strip()
    registered = pingan(
        "hazard",
        "register",
        campaign,
        "--description",
        "道口护栏损坏",
        "--site",
        "crossing-3",
        "--deadline",
        "2026-09-29",
        "--measures",
        "设置警示牌",
        now="2026-09-21T10:00",
    )
    assert registered.stdout == "rectification 1: open, deadline 2026-09-29\n", registered.output

    bad = pingan("hazard", "register", campaign, "--description", "x", "--deadline", "next week")
    assert (bad.exit_code, bad.stderr) == (1, "error: not a date: 'next week' (write YYYY-MM-DD)\n")
    refused = pingan("rectification", "verify", "1", now="2026-09-22T10:00")
    assert (refused.exit_code, refused.stderr) == (
        1,
        "error: cannot verify rectification 1: it is open\n",
    )

    first = pingan("sweep", "--now", "2026-10-09T09:00")
    second = pingan("sweep", "--now", "2026-10-09T09:00")
    assert first.stdout.startswith(
        "occurrences 0; reminders 0; escalations L1 1, L2 1; escalation mails queued 3; mails sent 4"
    )
    assert (
        second.stdout
        == "occurrences 0; reminders 0; escalations none; escalation mails queued 0; mails sent 0, failed 0, waiting 0\n"
    )
    assert sorted(r for m in smtp.messages for r in m["to"]) == [
        "deputy@example.org",
        "keeper@example.org",
        "keeper@example.org",
        "office@example.org",
    ]

    fixed = pingan("rectification", "submit", "1", "--note", "已修复", "--as", "keeper@example.org")
    closed = pingan("rectification", "verify", "1", "--as", "office@example.org")
    assert (fixed.stdout, closed.stdout) == (
        "rectification 1: submitted, deadline 2026-09-29\n",
        "rectification 1: closed, deadline 2026-09-29\n",
    )


def test_status_names_what_blocks_the_phase_the_open_hazards_and_what_falls_due_next(
    pingan, started
):
    registered = [
        pingan(
            "hazard",
            "register",
            str(started),
            "--description",
            description,
            "--unit",
            "east-village",
            "--severity",
            severity,
            "--deadline",
            deadline,
            now="2026-05-01T10:00",
        )
        for description, severity, deadline in (
            ("道口护栏损坏", "major", "2026-05-06"),
            ("警示牌缺失", "minor", "2026-05-20"),
        )
    ]
    assert all(result.exit_code == 0 for result in registered), registered[0].output
    text = pingan("status", str(started), now="2026-05-10T09:00").stdout
    lines = text.splitlines()
    assert "moves: advance — blocked by 5 item(s)" in lines
    # each blocker named as `advance` names it, soonest due first: the major hazard among them
    at = lines.index("moves: advance — blocked by 5 item(s)")
    assert lines[at + 1 : at + 3] == [
        "  rectification #1 道口护栏损坏 [东村] → 李村长, due 2026-05-06 (open)",
        "  task #4 召开动员大会 → 赵主任, due 2026-05-08 (open)",
    ]
    assert "  task #2 制定创建活动计划 [北村] → 吴村长, due 2026-05-15 (open)" in lines
    assert "rectifications: 2 open, 1 overdue" in lines
    at = lines.index("rectifications: 2 open, 1 overdue")
    assert lines[at + 1] == "  rectification #1 道口护栏损坏 [东村] → 李村长, due 2026-05-06"
    at = lines.index("next due:")
    assert lines[at + 1 :] == [
        "  task #1 制定创建活动计划 [东村] → 李村长, due 2026-05-15",
        "  task #2 制定创建活动计划 [北村] → 吴村长, due 2026-05-15",
        "  task #3 制定创建活动计划 [西村] → 周村长, due 2026-05-15",
        "  rectification #2 警示牌缺失 [东村] → 李村长, due 2026-05-20",
    ], "the meeting, two days overdue, is listed as overdue, not as coming"

    status = json.loads(pingan("status", str(started), "--json", now="2026-05-10T09:00").stdout)
    assert status["blocking"] == len(status["blocking_items"]) == 5
    assert {(item["kind"], item["id"]) for item in status["blocking_items"]} == {
        ("rectification", 1),
        ("task", 1),
        ("task", 2),
        ("task", 3),
        ("task", 4),
    }
    assert (status["rectifications"]["open"], status["rectifications"]["overdue"]) == (2, 1)
    assert [item["due_on"] for item in status["next_due"]] == [
        "2026-05-15",
        "2026-05-15",
        "2026-05-15",
        "2026-05-20",
    ]


def test_status_lists_a_terminal_s_screen_of_blockers_and_json_lists_them_all(
    pingan, started, monkeypatch
):
    from webapp.cli import main

    monkeypatch.setattr(main, "BLOCKERS_PRINTED", 2)
    lines = pingan("status", str(started)).stdout.splitlines()
    at = lines.index("moves: advance — blocked by 4 item(s)")
    assert lines[at + 3] == f"  … and 2 more (`pingan status {started} --json` lists them all)"
    status = json.loads(pingan("status", str(started), "--json").stdout)
    assert len(status["blocking_items"]) == 4
