"""A province's campaign cascaded to every village (1,315 campaigns, 200,000 tasks); compare with a
Core insert.

Issue 20 at the size of a province: 1 province, 14 cities, 100 counties, 1,200 towns and 20,000
villages, a leader and an office director in each of the 1,315 units above the villages and a
village head in each village (22,630 people), written as an organisation file (the format of
``definitions/org/*.yaml``) and imported through the engine's own import. Then one
``start_campaign`` of ``bench-province``: entering mobilization it cascades to ``bench-city`` in
each city, each city to ``bench-county`` in its counties, each county to ``bench-town`` in its
towns; a town's campaign has 10 required tasks per village (``village_head``, ``per: unit``), so
the villages run no campaign of their own: 1,315 campaigns, 200,000 village tasks and 2 tasks of
each leading group, each required task with its first reminder queued (every level has an
``escalation:`` block).

Figures, per back end: the seconds of the import (parse, import, commit), of the cascade start
(one transaction, to its commit) and of its floor: the very rows the start wrote (definitions,
campaigns, phases, sub-units, role bindings, tasks, escalation queue, audit events), read back
and inserted with one SQLAlchemy Core ``insert()`` per table (executemany), in dependency order,
in one transaction, into a copy of the database taken before the import (the organisation's
rows copied into it), in the same run; the province's roll-up (``views.levels.sub_campaigns``:
each city with everything under it) and its report (``views.report.build_report``: the province's
own campaign), each the median of three, as the operator; the peak memory of each back end's
process (each runs in a process of its own). Targets: start / floor ≤ 2.0 on both databases,
roll-up < 3 s on PostgreSQL, peak < 1 GB. The last line is the SQLite start ratio.

    .venv/bin/python benchmarks/levels.py [--scale 1.0] [--villages 20000] [--towns 1200]
        [--counties 100] [--cities 14] [--tasks 10] [--skip-postgres]
        [--count-statements] [--profile]

``--scale 0.05`` (1 city, 5 counties, 60 towns, 1,000 villages) takes under half a minute, most
of it the migrations of the scratch databases. ``--count-statements`` and ``--profile`` print the
statements sent and the top functions of the import, the start and one roll-up (they slow them
down: those seconds are no figures).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import multiprocessing
import pstats
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Table, event, func, insert, select

from scenario import Copies, peak_rss_mb, postgres_database, sqlite_database
from workflow.audit import Actor
from workflow.calendar import WorkingCalendar
from workflow.campaigns.lifecycle import start_campaign
from workflow.clock import SystemClock, local_date
from workflow.db import create_db_engine, session_factory
from workflow.definitions.reader import parse_definition
from workflow.limits import MAX_ROSTER_FILE_BYTES
from workflow.models import Base, Campaign, Task
from workflow.organisation.directory import import_organisation
from workflow.organisation.org_file import parse_organisation
from workflow.views.levels import sub_campaigns
from workflow.views.report import build_report

TZ = "Asia/Shanghai"
RUNS = 3
OPERATOR = Actor.operator("bench")
GROUP_TASKS = 2  # each leading group's own tasks in mobilization
TARGET_RATIO = 2.0
TARGET_ROLL_UP_SECONDS = 3.0
TARGET_PEAK_MB = 1024


@dataclass(frozen=True)
class Sizes:
    cities: int
    counties: int
    towns: int
    villages: int
    tasks: int  # per village

    @property
    def campaigns(self) -> int:
        return 1 + self.cities + self.counties + self.towns

    @property
    def village_tasks(self) -> int:
        return self.villages * self.tasks

    @property
    def all_tasks(self) -> int:
        return self.village_tasks + GROUP_TASKS * self.campaigns

    def __str__(self) -> str:
        return (
            f"1 province, {self.cities:,} cities, {self.counties:,} counties, "
            f"{self.towns:,} towns, {self.villages:,} villages; {self.campaigns:,} campaigns, "
            f"{self.all_tasks:,} tasks ({self.village_tasks:,} of the villages)"
        )


# --- the organisation file -----------------------------------------------------------------------


def spread(children: int, parents: int) -> list[int]:
    """How many of ``children`` each of ``parents`` gets, as evenly as they go (14 cities for 100
    counties: 8 × 8 and 6 × 7)."""
    share, extra = divmod(children, parents)
    return [share + (1 if i < extra else 0) for i in range(parents)]


def org_text(sizes: Sizes) -> str:
    """The organisation file of the province: the unit tree, then its people."""
    units: list[str] = ["units:"]
    people: list[str] = ["people:"]

    def group(code: str, name: str) -> None:
        people.append(
            f"  - {{email: {code}-leader@bench.example.org, name: {name}组长, unit: {code}, "
            "roles: [leader]}"
        )
        people.append(
            f"  - {{email: {code}-office@bench.example.org, name: {name}办公室主任, unit: {code}, "
            "roles: [office_director]}"
        )

    counties = iter(spread(sizes.towns, sizes.counties))
    towns = iter(spread(sizes.villages, sizes.towns))
    county_of_city = spread(sizes.counties, sizes.cities)
    units += ["  - id: p", "    name: 平安省", "    children:"]
    group("p", "平安省")
    town_number = village_number = county_number = 0
    for c in range(sizes.cities):
        city = f"c{c:02d}"
        units += [f"      - id: {city}", f"        name: 第{c + 1}市", "        children:"]
        group(city, f"第{c + 1}市")
        for _ in range(county_of_city[c]):
            county = f"k{county_number:03d}"
            county_number += 1
            units += [
                f"          - id: {county}",
                f"            name: 第{county_number}县",
                "            children:",
            ]
            group(county, f"第{county_number}县")
            for _ in range(next(counties)):
                town = f"t{town_number:04d}"
                town_number += 1
                units += [
                    f"              - id: {town}",
                    f"                name: 第{town_number}镇",
                    "                children:",
                ]
                group(town, f"第{town_number}镇")
                for _ in range(next(towns)):
                    village = f"v{village_number:05d}"
                    village_number += 1
                    units.append(f"{' ' * 18}- {{id: {village}, name: 第{village_number}村}}")
                    people.append(
                        f"  - {{email: {village}-head@bench.example.org, "
                        f"name: 第{village_number}村主任, unit: {village}, roles: [village_head]}}"
                    )
    return "\n".join([*units, *people, ""])


# --- the definitions -----------------------------------------------------------------------------

LEVEL = """id: bench-{level}
version: 1
title: {title}平安创建活动
timezone: Asia/Shanghai
roles:
  - {{id: leader, title: 组长}}
  - {{id: office_director, title: 办公室主任}}
{extra_roles}coordinators: [leader, office_director]
{cascade}phases:
  - id: mobilization
    title: 宣传发动阶段
    duration: 30d
    tasks:
      - {{id: {level}-plan, title: 制定{title}实施方案, assignee: office_director, due: 5d}}
      - {{id: {level}-meeting, title: 召开{title}动员会, assignee: leader, due: 6d}}
{tasks}  - id: implementation
    title: 全面实施阶段
    duration: 120d
  - id: summary
    title: 总结阶段
    duration: 20d
escalation:
  remind_before: 2wd
  levels:
    - {{after: 0d, notify: [responsible, office_director], colour: yellow}}
    - {{after: 3wd, notify: [leader], colour: red}}
{parent_level}"""


def level_text(level: str, title: str, child: str | None, tasks: int = 0) -> str:
    return LEVEL.format(
        level=level,
        title=title,
        extra_roles="  - {id: village_head, title: 村负责人, scope: unit}\n" if tasks else "",
        cascade=(
            f"cascade: {{when: mobilization, definition: bench-{child}, version: 1}}\n"
            if child
            else ""
        ),
        tasks="".join(
            f"      - {{id: village-{i}, title: 村级任务{i + 1}, assignee: village_head, "
            f"per: unit, due: {7 + i}d}}\n"
            for i in range(tasks)
        ),
        parent_level=(
            ""
            if level == "province"
            else "    - {after: 5wd, notify: [parent.office_director], colour: red}\n"
        ),
    )


def write_definitions(folder: Path, tasks: int) -> Any:
    """The city's, county's and town's definitions as files in ``folder`` (what the cascade looks
    up); the province's, parsed."""
    for level, title, child in (("city", "市", "county"), ("county", "县", "town")):
        (folder / f"bench-{level}.yaml").write_text(
            level_text(level, title, child), encoding="utf-8"
        )
    (folder / "bench-town.yaml").write_text(level_text("town", "镇", None, tasks), encoding="utf-8")
    return parse_definition(level_text("province", "省", "city"), "bench-province.yaml")


# --- the figures ---------------------------------------------------------------------------------


def tables() -> list[Table]:
    """The schema's tables in dependency order (the search index tables follow their triggers)."""
    return list(Base.metadata.sorted_tables)


def counted(engine: Engine) -> dict[str, tuple[int, int | None]]:
    """Each table's rows and highest id."""
    found = {}
    with engine.connect() as connection:
        for table in tables():
            ids = table.c.id if "id" in table.c else None
            n, top = connection.execute(
                select(func.count(), func.max(ids) if ids is not None else None).select_from(table)
            ).one()
            found[table.name] = (n, top)
    return found


def new_rows(
    engine: Engine, before: dict[str, tuple[int, int | None]]
) -> list[tuple[Table, list[dict[str, Any]]]]:
    """The rows written since ``before``, every column, per table in dependency order."""
    written = []
    after = counted(engine)
    with engine.connect() as connection:
        for table in tables():
            n, top = before[table.name]
            if after[table.name] == (n, top):
                continue
            query = select(table)
            if n:
                if "id" not in table.c:
                    raise RuntimeError(f"{table.name} had rows and has no id to tell the new ones")
                query = query.where(table.c.id > top)
            if "id" in table.c:
                query = query.order_by(table.c.id)
            rows = [dict(row._mapping) for row in connection.execute(query)]
            if rows:
                written.append((table, rows))
    return written


def copy_organisation(source: Engine, target: Engine) -> None:
    """The rows the import wrote (units, people, their roles …), copied as they are (not timed)."""
    with source.connect() as reading, target.begin() as writing:
        for table in tables():
            if writing.execute(select(func.count()).select_from(table)).scalar():
                continue  # seeded by the migrations alike
            rows = [dict(row._mapping) for row in reading.execute(select(table))]
            if rows:
                writing.execute(insert(table), rows)


@dataclass(frozen=True)
class Watching:
    """``--count-statements``, ``--profile``: what a step sends and where its time goes (not
    figures: both slow it down)."""

    count: bool
    profile: bool
    lines: int = 25

    @contextmanager
    def step(self, engine: Engine, label: str, step: str, per: int) -> Iterator[None]:
        sent: Counter[str] = Counter()

        def _count(_conn, _cursor, statement, _parameters, _context, _many) -> None:  # type: ignore[no-untyped-def]
            sent[statement] += 1

        profiler = cProfile.Profile() if self.profile else None
        if self.count:
            event.listen(engine, "before_cursor_execute", _count)
        if profiler is not None:
            profiler.enable()
        try:
            yield
        finally:
            if profiler is not None:
                profiler.disable()
            if self.count:
                event.remove(engine, "before_cursor_execute", _count)
        if self.count:
            total = sum(sent.values())
            print(
                f"{label}: {step}: {total:,} statements ({len(sent)} distinct), "
                f"{total / per:.1f} per campaign; the most sent:"
            )
            for statement, n in sent.most_common(self.lines):
                print(f"  {n:7,}  {' '.join(statement.split())[:160]}")
        if profiler is not None:
            for order in ("cumulative", "tottime"):
                out = io.StringIO()
                pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(self.lines)
                print(f"{label}: {step}: profile by {order}\n{out.getvalue()}")
        sys.stdout.flush()


def timed(function: Any) -> float:
    """The median seconds of ``RUNS`` calls."""
    seconds = []
    for _ in range(RUNS):
        began = time.perf_counter()
        function()
        seconds.append(time.perf_counter() - began)
    return statistics.median(seconds)


def measure(
    label: str, url: str, floor_url: str, sizes: Sizes, watching: Watching
) -> dict[str, float]:
    engine = create_db_engine(url)
    sessions = session_factory(engine)
    text = org_text(sizes)
    print(
        f"{label}: organisation file {len(text.encode()) / 1e6:.1f} MB, {text.count('- {email'):,} "
        f"people (the roster page takes {MAX_ROSTER_FILE_BYTES / 1e6:.1f} MB at most; "
        "`pingan import-org` has no limit)",
        flush=True,
    )

    with watching.step(engine, label, "import", sizes.campaigns):
        began = time.perf_counter()
        organisation = parse_organisation(text, "org.yaml")
        parsed = time.perf_counter() - began
        with sessions.begin() as session:
            import_organisation(session, organisation)
        import_seconds = time.perf_counter() - began
    del organisation, text
    print(
        f"{label}: import {import_seconds:.2f} s (parse and check {parsed:.2f} s, import and "
        f"commit {import_seconds - parsed:.2f} s)",
        flush=True,
    )

    # the floor's database: the same schema, the same organisation (copied, not timed)
    floor = create_db_engine(floor_url)
    copy_organisation(engine, floor)
    before = counted(engine)
    with (
        tempfile.TemporaryDirectory() as folder,
        watching.step(engine, label, "start", sizes.campaigns),
    ):
        province = write_definitions(Path(folder), sizes.tasks)
        clock = SystemClock()
        began = time.perf_counter()
        with sessions.begin() as session:
            campaign_id = start_campaign(
                session,
                province,
                "p",
                local_date(clock.now(), TZ),
                by=OPERATOR,
                clock=clock,
                calendar=WorkingCalendar(),
                folders=[Path(folder)],
            ).id
        start_seconds = time.perf_counter() - began
    with sessions() as session:
        campaigns = session.scalar(select(func.count()).select_from(Campaign))
        tasks = session.scalar(select(func.count()).select_from(Task))
    assert (campaigns, tasks) == (sizes.campaigns, sizes.all_tasks), (campaigns, tasks)
    print(
        f"{label}: start_campaign cascaded to {campaigns:,} campaigns, {tasks:,} tasks: "
        f"{start_seconds:.2f} s",
        flush=True,
    )

    def roll_up() -> None:
        with sessions() as session:
            rows = sub_campaigns(
                session, campaign_id, by=OPERATOR, clock=clock, calendar=WorkingCalendar()
            )
            assert rows.total.campaigns == sizes.campaigns - 1, rows.total.campaigns
            assert rows.total.counts.tasks == sizes.all_tasks - GROUP_TASKS

    def report() -> None:
        with sessions() as session:
            build_report(session, campaign_id, by=OPERATOR, clock=clock)

    if watching.count or watching.profile:  # a run of its own: the timed ones are not watched
        with watching.step(engine, label, "roll-up", sizes.campaigns):
            roll_up()
    roll_up_seconds = timed(roll_up)
    report_seconds = timed(report)
    print(
        f"{label}: province roll-up (sub_campaigns) {roll_up_seconds:.3f} s; province report "
        f"(build_report) {report_seconds:.3f} s",
        flush=True,
    )
    peak = peak_rss_mb()
    print(
        f"{label}: peak memory of the import, start, roll-up and report {peak:.0f} MB", flush=True
    )

    # the floor: the same rows, one Core insert per table, one commit, into the same schema and
    # organisation
    written = new_rows(engine, before)
    began = time.perf_counter()
    with floor.begin() as connection:
        for table, rows in written:
            connection.execute(insert(table), rows)
    floor_seconds = time.perf_counter() - began
    print(
        f"{label}: core insert of the same rows "
        f"({', '.join(f'{len(rows):,} {table.name}' for table, rows in written)}) "
        f"{floor_seconds:.2f} s",
    )
    ratio = start_seconds / floor_seconds
    print(
        f"{label}: start {start_seconds:.2f} s vs floor {floor_seconds:.2f} s, ratio {ratio:.2f} "
        f"(target ≤ {TARGET_RATIO:.1f}: {'ok' if ratio <= TARGET_RATIO else 'OVER TARGET'})",
        flush=True,
    )
    print(f"{label}: peak memory with the floor's rows read back {peak_rss_mb():.0f} MB")
    del written
    floor.dispose()
    engine.dispose()
    return {
        "import": import_seconds,
        "start": start_seconds,
        "floor": floor_seconds,
        "ratio": ratio,
        "roll_up": roll_up_seconds,
        "report": report_seconds,
        "peak": peak,
    }


def measured(
    label: str, url: str, floor_url: str, sizes: Sizes, watching: Watching
) -> dict[str, float]:
    """:func:`measure` in a process of its own, so that its peak memory is its back end's alone."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(measure, label, url, floor_url, sizes, watching).result()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scale", type=float, default=1.0, help="every size below times this (default 1.0)"
    )
    parser.add_argument("--cities", type=int)
    parser.add_argument("--counties", type=int)
    parser.add_argument("--towns", type=int)
    parser.add_argument("--villages", type=int)
    parser.add_argument("--tasks", type=int, default=10, help="tasks per village (default 10)")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument(
        "--count-statements",
        action="store_true",
        help="count the statements of the import, the start and a roll-up (slows them down)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="cProfile the import, the start and a roll-up: top functions (slows them down)",
    )
    args = parser.parse_args()
    watching = Watching(args.count_statements, args.profile)
    if args.count_statements or args.profile:
        print("watched: the import and start seconds below are not figures")

    def sized(given: int | None, full: int) -> int:
        return given if given is not None else max(1, round(full * args.scale))

    sizes = Sizes(
        sized(args.cities, 14),
        sized(args.counties, 100),
        sized(args.towns, 1200),
        sized(args.villages, 20000),
        args.tasks,
    )
    if not sizes.cities <= sizes.counties <= sizes.towns <= sizes.villages:
        parser.error("each level needs at least as many units as the one above it")
    print(sizes, flush=True)

    # the floor's database is a copy of the engine's, made before either is written to
    figures = {}
    with sqlite_database() as url, Copies(url) as copies:
        figures["sqlite"] = measured("sqlite", url, copies.fresh(), sizes, watching)
    if not args.skip_postgres:
        with postgres_database() as url:
            if url is None:
                print("postgresql: not reachable, skipped")
            else:
                with Copies(url) as copies:
                    figures["postgresql"] = measured(
                        "postgresql", url, copies.fresh(), sizes, watching
                    )
    print(
        f"{'':10}  {'import s':>8}  {'start s':>8}  {'floor s':>8}  {'ratio':>5}  "
        f"{'roll-up s':>9}  {'report s':>8}  {'peak MB':>7}"
    )
    for label, got in figures.items():
        print(
            f"{label:10}  {got['import']:8.1f}  {got['start']:8.2f}  {got['floor']:8.2f}  "
            f"{got['ratio']:5.2f}  {got['roll_up']:9.3f}  {got['report']:8.3f}  {got['peak']:7.0f}"
        )
    met = {
        f"start ratio ≤ {TARGET_RATIO:.1f}": all(
            got["ratio"] <= TARGET_RATIO for got in figures.values()
        ),
        f"peak < {TARGET_PEAK_MB} MB": all(
            got["peak"] < TARGET_PEAK_MB for got in figures.values()
        ),
    }
    if "postgresql" in figures:
        met[f"PostgreSQL roll-up < {TARGET_ROLL_UP_SECONDS:.0f} s"] = (
            figures["postgresql"]["roll_up"] < TARGET_ROLL_UP_SECONDS
        )
    print(
        "targets: " + "; ".join(f"{what}: {'ok' if ok else 'NOT MET'}" for what, ok in met.items())
    )
    print(f"ratio={figures['sqlite']['ratio']:.2f}")


if __name__ == "__main__":
    main()
