"""Backups of the whole database and restoring one: SQLite's online backup API, PostgreSQL's
pg_dump/pg_restore.

SQLite: ``sqlite3.Connection.backup`` copies every page in one step, inside one
read transaction, so the copy is a consistent snapshot even while the web app
and the scheduler keep writing (WAL: readers never wait for writers). The file
written is itself a SQLite database (journal mode DELETE: one self-contained
file). A restore copies it back the same way, into the configured database.

PostgreSQL: ``pg_dump --format=custom`` (one consistent snapshot of a running
database) and ``pg_restore --clean --if-exists --single-transaction``: all of it
or nothing. The connection comes from the same URL as the app's, turned into
libpq's form; the password travels in ``PGPASSWORD``, never on a command line
that ``ps`` shows. The programs run in the environment the caller hands over
(``pingan backup``: its own, for PATH and libpq's PG* settings); nothing here
reads the environment.

A backup is written under a temporary name and renamed when complete, so a
failed one never leaves a half file under the name asked for. A restore
replaces everything: it refuses a database that holds data unless forced.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, inspect, make_url, select, table
from sqlalchemy.engine import URL

from workflow.errors import PingAnError
from workflow.worklists.search import SEARCH_INDEX_TABLES

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"
# tables that say nothing about the campaigns: a database holding only these is empty
BOOKKEEPING_TABLES = frozenset({"alembic_version"})
SQLITE_BUSY_SECONDS = 10.0


class BackupError(PingAnError):
    """A backup or restore that could not be done; nothing was replaced."""

    code = "backup_failed"
    status = 500


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size: int
    kind: str  # "sqlite" or "pg_dump"


def backup_database(
    url: str, target: Path, *, environ: Mapping[str, str] | None = None
) -> BackupResult:
    """Write a consistent copy of the whole database at ``url`` to the file ``target`` (replaced if
    present).

    ``environ``: the environment pg_dump runs in (default: none but the password).
    """
    parsed = make_url(url)
    target = Path(target)
    if target.exists() and target.is_dir():
        raise BackupError(f"{target} is a folder: name the backup file to write")
    if not target.parent.is_dir():
        raise BackupError(f"cannot write {target}: the folder {target.parent} does not exist")
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    try:
        if parsed.get_backend_name() == "sqlite":
            kind = "sqlite"
            if _same_file(target, _sqlite_path(parsed)):
                raise BackupError(
                    f"{target} is the database itself: name another file for the backup"
                )
            _sqlite_backup(_sqlite_path(parsed), partial)
        elif parsed.get_backend_name() == "postgresql":
            kind = "pg_dump"
            _run(
                "pg_dump",
                ["--format=custom", f"--file={partial}", f"--dbname={_conninfo(parsed)}"],
                parsed,
                environ,
            )
        else:
            raise BackupError(f"cannot back up a {parsed.get_backend_name()} database")
        os.replace(partial, target)
    except OSError as error:
        raise BackupError(f"cannot write {target}: {error.strerror or error}") from None
    finally:
        partial.unlink(missing_ok=True)
    return BackupResult(target, target.stat().st_size, kind)


def restore_database(
    engine: Engine, source: Path, *, force: bool = False, environ: Mapping[str, str] | None = None
) -> str:
    """Replace the database of ``engine`` by the backup in ``source``; return the kind of backup
    restored.

    A database holding data is refused unless ``force``. ``environ``: the environment pg_restore
    runs in.
    """
    parsed = engine.url
    source = Path(source)
    kind = backup_kind(source)
    backend = parsed.get_backend_name()
    if kind is None:
        raise BackupError(
            f"{source} is not a pingan backup (neither a SQLite database nor a pg_dump archive)"
        )
    if (kind, backend) not in (("sqlite", "sqlite"), ("pg_dump", "postgresql")):
        made_by = "SQLite" if kind == "sqlite" else "PostgreSQL (pg_dump)"
        raise BackupError(
            f"{source} is a {made_by} backup; the database is {backend}: restore it into the "
            f"kind of database it came from"
        )
    if not force:
        holding = tables_holding_data(engine)
        if holding:
            raise BackupError(
                f"the database already holds data ({', '.join(holding[:3])}"
                f"{' …' if len(holding) > 3 else ''}): restoring replaces all of it; "
                f"add --force to do so"
            )
    if kind == "sqlite":
        if _same_file(source, _sqlite_path(parsed)):
            raise BackupError(f"{source} is the database itself, not a backup of it")
        # our own pooled connections must not hold the database while it is replaced
        engine.dispose()
        _sqlite_restore(source, _sqlite_path(parsed))
    else:
        _pg_restore(engine, source, environ)
    return kind


def backup_kind(path: Path) -> str | None:
    """``sqlite``, ``pg_dump`` or None, from the file's first bytes; BackupError if it cannot be
    read."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(len(SQLITE_MAGIC))
    except FileNotFoundError:
        raise BackupError(f"no backup file at {path}") from None
    except OSError as error:
        raise BackupError(f"cannot read {path}: {error.strerror or error}") from None
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_DUMP_MAGIC):
        return "pg_dump"
    return None


def tables_holding_data(engine: Engine) -> list[str]:
    """The tables of the database that hold at least one row (schema bookkeeping aside)."""
    with engine.connect() as connection:
        names = [
            name
            for name in inspect(connection).get_table_names()
            # the search index is derived from the rows: a database holding only it is empty
            if name not in BOOKKEEPING_TABLES and not name.startswith(SEARCH_INDEX_TABLES)
        ]
        return [
            name
            for name in sorted(names)
            if connection.execute(select(1).select_from(table(name)).limit(1)).first() is not None
        ]


# --- SQLite -------------------------------------------------------------------------------------


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return Path(url.database)


def _same_file(one: Path, other: Path) -> bool:
    return one.exists() and other.exists() and os.path.samefile(one, other)


def _sqlite_backup(database: Path, target: Path) -> None:
    if not database.exists():
        raise BackupError(f"no database file at {database}")
    source = sqlite3.connect(database, timeout=SQLITE_BUSY_SECONDS)
    copy = sqlite3.connect(target)
    try:
        # pages=-1 (the default): every page in one step, under one read transaction, hence a
        # consistent snapshot; a copy made in several steps would restart whenever the app wrote
        # meanwhile
        source.backup(copy)
        copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file, no -wal beside it
        _check_sqlite(copy, target)
    except sqlite3.Error as error:
        raise BackupError(f"SQLite backup of {database} failed: {error}") from None
    finally:
        copy.close()
        source.close()


def _sqlite_restore(backup: Path, database: Path) -> None:
    try:
        source = sqlite3.connect(f"{backup.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as error:
        raise BackupError(f"cannot open {backup}: {error}") from None
    try:
        _check_sqlite(source, backup)
        if (
            source.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
            ).fetchone()
            is None
        ):
            raise BackupError(
                f"{backup} is a SQLite database but not a pingan backup (it has no schema revision)"
            )
        if not database.parent.is_dir():
            raise BackupError(
                f"cannot restore into {database}: the folder {database.parent} does not exist"
            )
        target = sqlite3.connect(database, timeout=SQLITE_BUSY_SECONDS)
        try:
            # the backup API writes every page of the live database in one write transaction:
            # processes that have it open see the restored content at their next transaction, never
            # a half-copied file
            source.backup(target)
            target.execute("PRAGMA journal_mode = WAL")  # the app's mode (workflow/db.py)
        finally:
            target.close()
    except sqlite3.Error as error:
        raise BackupError(f"SQLite restore into {database} failed: {error}") from None
    finally:
        source.close()


def _check_sqlite(connection: sqlite3.Connection, path: Path) -> None:
    verdict = connection.execute("PRAGMA quick_check").fetchone()[0]
    if verdict != "ok":
        raise BackupError(f"{path} is damaged: {verdict}")


# --- PostgreSQL ---------------------------------------------------------------------------------


def _pg_restore(engine: Engine, source: Path, environ: Mapping[str, str] | None) -> None:
    url = engine.url
    # also proves the archive readable before any change
    listing = _run("pg_restore", ["--list", str(source)], url, environ)
    tables = set(re.findall(r"^\d+; \d+ \d+ TABLE \S+ (\S+) ", listing, re.MULTILINE))
    if "alembic_version" not in tables:
        raise BackupError(
            f"{source} is a pg_dump archive but not a pingan backup (it has no schema revision)"
        )
    # --clean drops only what the archive holds: a table of a newer schema (`pingan init` run on the
    # target first) would stay behind and make the next `pingan init` fail. Reaching here, such
    # tables are empty or the operator forced the restore: either way they go.
    # Likewise a foreign key the newer schema added to a table the archive holds (scores.site_id →
    # sites): --clean does not know it, and dropping the key it points at would fail.
    keys = set(re.findall(r"^\d+; \d+ \d+ FK CONSTRAINT \S+ \S+ (\S+) ", listing, re.MULTILINE))
    with engine.begin() as connection:
        inspector = inspect(connection)
        for name in inspector.get_table_names():
            if name not in tables:
                connection.exec_driver_sql(f'DROP TABLE IF EXISTS "{name}" CASCADE')
                continue
            for key in inspector.get_foreign_keys(name):
                if key["name"] and key["name"] not in keys:
                    connection.exec_driver_sql(
                        f'ALTER TABLE "{name}" DROP CONSTRAINT IF EXISTS "{key["name"]}"'
                    )
    engine.dispose()  # our own pooled connections must not hold the database while it is replaced
    _run(
        "pg_restore",
        [
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={_conninfo(url)}",
            str(source),
        ],
        url,
        environ,
    )


def _conninfo(url: URL) -> str:
    """The URL in libpq's keyword form (without the password, which goes through PGPASSWORD)."""
    from psycopg.conninfo import make_conninfo

    params: dict[str, Any] = {
        "host": url.host,
        "port": url.port,
        "dbname": url.database,
        "user": url.username,
    }
    # sslmode, options, application_name …: libpq's own keywords
    for (
        key,
        value,
    ) in url.query.items():
        params[key] = value[-1] if isinstance(value, tuple) else value
    return make_conninfo("", **{key: value for key, value in params.items() if value is not None})


def _run(program: str, arguments: list[str], url: URL, environ: Mapping[str, str] | None) -> str:
    """Run a PostgreSQL client program against ``url`` in ``environ``; its standard output, or
    BackupError with one line."""
    executable = _postgres_program(program)
    child = dict(environ or {})
    if url.password is not None:
        child["PGPASSWORD"] = str(url.password)
    try:
        result = subprocess.run([executable, *arguments], env=child, capture_output=True, text=True)
    except OSError as error:
        raise BackupError(f"cannot run {program}: {error.strerror or error}") from None
    if result.returncode != 0:
        lines = [line.strip() for line in result.stderr.splitlines() if line.strip()]
        reason = next(
            (line for line in lines if "error" in line.lower()), lines[0] if lines else ""
        )
        raise BackupError(f"{program} failed (exit {result.returncode}): {reason or 'no message'}")
    return result.stdout


def _postgres_program(program: str) -> str:
    """``pg_dump``/``pg_restore`` on PATH, else the newest in Debian's /usr/lib/postgresql/N/bin."""
    found = shutil.which(program)
    if found:
        return found
    candidates = sorted(
        Path("/usr/lib/postgresql").glob(f"*/bin/{program}"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if not candidates:
        raise BackupError(
            f"{program} is not installed (PostgreSQL client tools, e.g. Debian's postgresql-client)"
        )
    return str(candidates[-1])
