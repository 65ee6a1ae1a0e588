"""Hostile roster uploads are refused in bounded time and memory: a zip bomb, a million rows, a row
of a million cells, an XML entity bomb, a YAML billion laughs. Each is refused the way the page
refuses it (``read_roster``); the floor, measured in the same run, is reading the largest roster
accepted (``MAX_ROSTER_ROWS`` valid rows). Prints each file's size, seconds to its refusal and the
process's peak memory; the last line is the slowest refusal over the floor (target ≤ 2.0: refusing
a hostile file costs no more than twice reading the largest honest one).

    .venv/bin/python benchmarks/hostile_uploads.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scenario import peak_rss_mb  # noqa: E402
from tests.support.rosters import (  # noqa: E402
    billion_laughs,
    million_rows,
    wide_row,
    xlsx,
    xml_entity_bomb,
    zip_bomb,
)
from workflow.limits import MAX_ROSTER_ROWS  # noqa: E402
from workflow.organisation.roster_files import RosterError, read_roster  # noqa: E402

HOSTILE = [
    ("zip bomb", zip_bomb, "bomb.xlsx"),
    ("1,000,000 rows", million_rows, "million.xlsx"),
    ("a row of 1,000,000 cells", wide_row, "wide.xlsx"),
    ("XML entity bomb", xml_entity_bomb, "entities.xlsx"),
    ("YAML billion laughs", billion_laughs, "laughs.yaml"),
]


def best_of(runs: int, action) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return min(times)


def refused(raw: bytes, name: str) -> None:
    try:
        read_roster(raw, name)
    except RosterError:
        return
    raise SystemExit(f"{name} was not refused")


def main() -> None:
    honest = xlsx(
        *(
            (f"人员{i}", "", "east-village", "", f"p{i}@example.org", "village_head")
            for i in range(MAX_ROSTER_ROWS)
        )
    )
    floor = best_of(3, lambda: read_roster(honest, "roster.xlsx"))
    print(f"floor: {MAX_ROSTER_ROWS} honest rows, {len(honest) / 1024:.0f} KB: {floor:.3f} s")
    worst = 0.0
    for what, make, name in HOSTILE:
        raw = make()
        seconds = best_of(3, lambda raw=raw, name=name: refused(raw, name))
        worst = max(worst, seconds)
        print(f"{what}: {len(raw) / 1024:.0f} KB, refused in {seconds:.3f} s")
    print(f"peak memory: {peak_rss_mb():.0f} MB")
    print(f"ratio={worst / floor:.2f}")


if __name__ == "__main__":
    main()
