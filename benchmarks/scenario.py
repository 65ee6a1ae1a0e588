"""Shared set-up for the benchmarks: a town with N villages and a definition with per-unit tasks."""

from __future__ import annotations

import os
import resource
import shutil
import sqlite3
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import Engine, create_engine, insert, make_url, text
from sqlalchemy.pool import NullPool

from workflow.db import create_db_engine, upgrade_schema
from workflow.models import Person, PersonRole, Unit

POSTGRES_URL = os.environ.get(
    "PINGAN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def definition_text(tasks_per_unit: int, slug: str = "bench") -> str:
    tasks = "\n".join(
        f"      - {{id: t{i}, title: 任务{i}, assignee: village_head, per: unit, due: {7 + i}d}}"
        for i in range(tasks_per_unit)
    )
    return f"""id: {slug}
version: 1
title: 基准测试创建活动
roles:
  - {{id: leader, title: 组长}}
  - {{id: office_director, title: 办公室主任}}
  - {{id: village_head, title: 村负责人, scope: unit}}
phases:
  - id: mobilization
    title: 宣传发动阶段
    duration: 30d
    tasks:
{tasks}
  - id: implementation
    title: 全面实施阶段
"""


def populate_town(engine: Engine, villages: int, code: str = "town") -> None:
    """A town, its leader and office director, and ``villages`` villages each with a head (bulk,
    fast)."""
    with engine.begin() as connection:
        town_id = connection.execute(
            insert(Unit).returning(Unit.id), {"code": code, "name": "基准镇"}
        ).scalar_one()
        connection.execute(
            insert(Unit),
            [
                {"code": f"{code}-v{i:05d}", "name": f"村{i:05d}", "parent_id": town_id}
                for i in range(villages)
            ],
        )
        unit_ids = dict(connection.execute(text("select code, id from units")).all())
        people = [
            {
                "email": f"leader@{code}.example.org",
                "name": "组长",
                "unit_id": town_id,
                "active": True,
            },
            {
                "email": f"office@{code}.example.org",
                "name": "主任",
                "unit_id": town_id,
                "active": True,
            },
        ]
        people += [
            {
                "email": f"head{i:05d}@{code}.example.org",
                "name": f"村长{i:05d}",
                "unit_id": unit_ids[f"{code}-v{i:05d}"],
                "active": True,
            }
            for i in range(villages)
        ]
        connection.execute(insert(Person), people)
        ids = dict(connection.execute(text("select email, id from people")).all())
        roles = [
            {"person_id": ids[f"leader@{code}.example.org"], "role": "leader"},
            {"person_id": ids[f"office@{code}.example.org"], "role": "office_director"},
        ]
        roles += [
            {"person_id": ids[f"head{i:05d}@{code}.example.org"], "role": "village_head"}
            for i in range(villages)
        ]
        connection.execute(insert(PersonRole), roles)


@contextmanager
def sqlite_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.sqlite"
        engine = create_db_engine(url)
        upgrade_schema(engine)
        engine.dispose()
        yield url


@contextmanager
def postgres_database() -> Iterator[str | None]:
    """A scratch database on the local PostgreSQL server, or None when there is none."""
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text("select 1"))
    except Exception:  # noqa: BLE001
        yield None
        return
    name = f"pingan_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    engine = create_db_engine(url)
    upgrade_schema(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Copies:
    """Fresh copies of the set-up database, one per trial: a file copy on SQLite, a template
    database on PostgreSQL."""

    def __init__(self, url: str) -> None:
        self.url = make_url(url)
        self.made: list[str] = []

    def __enter__(self) -> Copies:
        return self

    def fresh(self) -> str:
        number = len(self.made) + 1
        if self.url.get_backend_name() == "sqlite":
            source = Path(self.url.database or "")
            # fold the WAL into the file before copying it
            with sqlite3.connect(source) as connection:
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            target = source.with_name(f"{source.stem}-{number}{source.suffix}")
            shutil.copyfile(source, target)
            self.made.append(str(target))
            return self.url.set(database=str(target)).render_as_string(hide_password=False)
        name = f"{self.url.database}_{number}"
        admin = create_engine(self.url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{self.url.database}"'))
        admin.dispose()
        self.made.append(name)
        return self.url.set(database=name).render_as_string(hide_password=False)

    def __exit__(self, *_exc: object) -> None:
        if self.url.get_backend_name() == "sqlite":
            for made in self.made:
                for path in (made, f"{made}-wal", f"{made}-shm"):
                    Path(path).unlink(missing_ok=True)
            return
        admin = create_engine(self.url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        with admin.connect() as connection:
            for made in self.made:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{made}" WITH (FORCE)'))
        admin.dispose()
