"""A definition too big to check in reasonable time is refused at once, in one line naming the limit, by
`pingan validate` (and everything else that reads a definition file). 100,000 tasks used to take 41 s and
963 MB."""

from __future__ import annotations

import subprocess
import time
from datetime import datetime, timezone

import pytest
from click.testing import CliRunner

from tests.support.processes import PINGAN
from webapp.cli.main import cli
from workflow.definitions.catalogue import stored_definition
from workflow.limits import MAX_DEFINITION_BYTES, MAX_PHASES, MAX_TASKS, MAX_TASKS_PER_PHASE
from workflow.models import DefinitionRow

HEAD = """\
id: big
version: 1
title: 大型活动
roles:
  - {id: office, title: 办公室}
phases:
"""


def definition(phases: int, tasks: int, recurring: int = 0) -> str:
    """A valid definition of ``phases`` phases, each with ``tasks`` tasks and ``recurring`` recurring duties."""
    text = HEAD
    for p in range(phases):
        text += f"  - id: phase-{p}\n    tasks:\n" if tasks else f"  - id: phase-{p}\n"
        text += "".join(
            f"      - {{id: t{p}-{t}, title: 任务{t}, assignee: office, due: 5d}}\n"
            for t in range(tasks)
        )
        if recurring:
            text += "    recurring:\n" + "".join(
                f"      - {{id: r{p}-{r}, title: 例行{r}, assignee: office, every: month, due: 5d}}\n"
                for r in range(recurring)
            )
    return text


def validate(tmp_path, text: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "big.yaml"
    path.write_text(text, encoding="utf-8")
    return path, CliRunner().invoke(cli, ["validate", str(path)])


def test_a_hundred_thousand_tasks_are_refused_in_a_moment_in_one_line(tmp_path):
    path = tmp_path / "huge.yaml"
    path.write_text(definition(1, 100_000), encoding="utf-8")
    size = path.stat().st_size
    started = time.monotonic()
    result = subprocess.run(
        [*PINGAN, "validate", str(path)], capture_output=True, text=True, timeout=60
    )
    elapsed = time.monotonic() - started
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{path}: the file has {size:,} bytes; a definition may have at most "
        f"{MAX_DEFINITION_BYTES:,} (256 KiB)"
    ]
    assert elapsed < 10, f"refused after {elapsed:.1f} s"


@pytest.mark.parametrize(
    "text, where, said",
    [
        (
            definition(1, MAX_TASKS_PER_PHASE + 1),
            ":8: phases[0].tasks:",
            f"{MAX_TASKS_PER_PHASE + 1} tasks: a phase may have at most {MAX_TASKS_PER_PHASE}",
        ),
        (
            definition(1, 1, recurring=MAX_TASKS_PER_PHASE + 1),
            ":10: phases[0].recurring:",
            f"{MAX_TASKS_PER_PHASE + 1} recurring duties: a phase may have at most "
            f"{MAX_TASKS_PER_PHASE}",
        ),
        (
            definition(MAX_PHASES + 1, 1),
            ":6: phases:",
            f"{MAX_PHASES + 1} phases: a definition may have at most {MAX_PHASES}",
        ),
        (
            definition(MAX_TASKS // MAX_TASKS_PER_PHASE + 1, MAX_TASKS_PER_PHASE),
            ":6: phases:",
            f"{MAX_TASKS + MAX_TASKS_PER_PHASE} tasks and recurring duties in all: a definition "
            f"may have at most {MAX_TASKS}",
        ),
    ],
    ids=["tasks of a phase", "recurring duties of a phase", "phases", "tasks in all"],
)
def test_too_many_phases_or_tasks_are_refused_in_one_line_naming_the_limit(
    tmp_path, text, where, said
):
    assert len(text.encode()) <= MAX_DEFINITION_BYTES, "the counts are what is refused here"
    path, result = validate(tmp_path, text)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [f"{path}{where} {said}"]


def test_a_definition_at_every_limit_is_valid(tmp_path):
    text = definition(MAX_TASKS // MAX_TASKS_PER_PHASE, MAX_TASKS_PER_PHASE)
    path, result = validate(tmp_path, text)
    assert result.exit_code == 0, result.stderr
    assert f"{path}: ok (big v1, {MAX_TASKS // MAX_TASKS_PER_PHASE} phases)" in result.stdout


def test_a_campaign_stored_before_a_limit_was_lowered_keeps_its_definition():
    text = definition(MAX_PHASES + 1, 1)
    row = DefinitionRow(
        slug="big",
        version=1,
        title="大型活动",
        text=text,
        content_hash="stored-before-the-limit",
        created_at=datetime(2026, 1, 1, tzinfo=timezone.utc),
    )
    assert len(stored_definition(row).phases) == MAX_PHASES + 1
