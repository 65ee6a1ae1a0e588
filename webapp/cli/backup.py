"""`pingan backup FILE` and `pingan restore FILE`: the whole database to one file and back
(workflow/backup.py)."""

from __future__ import annotations

from pathlib import Path

import click

from webapp.cli.common import one_line_errors, settings, wiring


@click.command()
@click.argument("file", metavar="FILE", type=click.Path(path_type=Path))
@one_line_errors
def backup(file: Path) -> None:
    """Write a consistent copy of the whole database to FILE; safe while the app and the scheduler
    run.

    SQLite: FILE is a SQLite database. PostgreSQL: FILE is a pg_dump archive (custom format).
    """
    from workflow.backup import backup_database
    from workflow.db import current_revision

    env = wiring()  # a database without schema has nothing worth keeping: one line says so
    revision = current_revision(env.engine)
    result = backup_database(
        env.engine.url.render_as_string(hide_password=False),
        file,
        environ=settings().child_environment,
    )
    click.echo(
        f"backup of {env.safe_url} (schema revision {revision}) written to {result.path} "
        f"({result.size} bytes, {result.kind})"
    )


@click.command()
@click.argument("file", metavar="FILE", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that already holds data.")
@one_line_errors
def restore(file: Path, force: bool) -> None:
    """Replace the database by the backup in FILE (made by `pingan backup`); refuses a database
    holding data unless --force. Stop the web app and the scheduler first."""
    from alembic.script import ScriptDirectory

    from workflow.backup import restore_database
    from workflow.db import alembic_config, current_revision

    env = wiring(require_schema=False)  # restoring into a fresh, empty database is the common case
    restore_database(env.engine, file, force=force, environ=settings().child_environment)
    revision = current_revision(env.engine)
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    later = "" if revision == head else f"; run `pingan init` to bring it to {head}"
    click.echo(f"restored {file} into {env.safe_url} (schema revision {revision}{later})")
