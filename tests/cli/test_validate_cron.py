"""`pingan validate --verbose` shows an author when each cron duty will fire, as crontab reads it."""

from __future__ import annotations

DEFINITION = """\
id: cron-preview
version: 1
title: 平安测试
timezone: America/New_York
roles:
  - {id: office_director, title: 办公室主任}
phases:
  - id: implementation
    title: 全面实施阶段
    recurring:
      - {id: meeting, title: 周例会, assignee: office_director, every: "0 9 * * 1", due: 1d}
      - {id: mid-or-friday, title: 月中或周五, assignee: office_director, every: "30 8 15 * 5", due: 1d}
      - {id: quarterly, title: 季度排查, assignee: office_director, every: quarter, due: 10d}
"""


def test_verbose_prints_the_next_three_fires_of_each_cron_duty(pingan, tmp_path):
    path = tmp_path / "def.yaml"
    path.write_text(DEFINITION, encoding="utf-8")
    # Wednesday 2 December, 08:00 in Shanghai: still Tuesday evening in New York
    result = pingan("validate", "--verbose", str(path), now="2026-12-02T08:00")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"{path}: ok (cron-preview v1, 1 phases)",
        "  implementation.meeting every '0 9 * * 1' (America/New_York): "
        "next Mon 2026-12-07 09:00, Mon 2026-12-14 09:00, Mon 2026-12-21 09:00",
        # crontab's rule: the 15th (a Tuesday) or a Friday
        "  implementation.mid-or-friday every '30 8 15 * 5' (America/New_York): "
        "next Fri 2026-12-04 08:30, Fri 2026-12-11 08:30, Tue 2026-12-15 08:30",
    ]


def test_without_verbose_only_the_verdict_is_printed(pingan, tmp_path):
    path = tmp_path / "def.yaml"
    path.write_text(DEFINITION, encoding="utf-8")
    result = pingan("validate", str(path), now="2026-12-02T08:00")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [f"{path}: ok (cron-preview v1, 1 phases)"]
