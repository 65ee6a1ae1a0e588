"""audit events are append-only: the database itself refuses UPDATE and DELETE on audit_events

The application only ever inserts audit events (workflow/audit.py); no route,
command or sweep changes or removes one. These triggers make that a property of
the database, so a bug, an SQL injection or a hand-typed statement in a SQL
console cannot rewrite who did what. They are not a defence against the
database's owner, who can drop them.

- SQLite: a BEFORE UPDATE and a BEFORE DELETE trigger that RAISE(ABORT).
- PostgreSQL: one plpgsql function raising an exception, called by a BEFORE
  UPDATE and a BEFORE DELETE row trigger. TRUNCATE is a different statement and
  is not refused: the test fixtures empty every table with it between tests.

A campaign cannot be deleted any more while it has audit events (its
ON DELETE CASCADE would delete them): nothing in pingan deletes campaigns.
A later SQLite "batch" migration that rebuilds audit_events drops these
triggers with the old table and must create them again.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 12:00:00

"""
from typing import Sequence, Union

from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0007'
down_revision: Union[str, Sequence[str], None] = '0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

TRIGGERS = (('audit_events_no_update', 'UPDATE'), ('audit_events_no_delete', 'DELETE'))
FUNCTION = 'pingan_audit_events_append_only'
MESSAGE = 'audit_events is append-only'


def upgrade() -> None:
    """Upgrade schema."""
    dialect = op.get_bind().dialect.name
    if dialect == 'postgresql':
        op.execute(f"""
            CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{MESSAGE}: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
            END;
            $$""")
        for name, operation in TRIGGERS:
            op.execute(f"CREATE TRIGGER {name} BEFORE {operation} ON audit_events "
                       f"FOR EACH ROW EXECUTE FUNCTION {FUNCTION}()")
    elif dialect == 'sqlite':
        for name, operation in TRIGGERS:
            op.execute(f"CREATE TRIGGER {name} BEFORE {operation} ON audit_events "
                       f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}: {operation} refused'); END")
    else:  # pingan runs on these two; another database would silently lose the guarantee
        raise NotImplementedError(f"audit_events triggers for {dialect} are not written")


def downgrade() -> None:
    """Downgrade schema."""
    dialect = op.get_bind().dialect.name
    for name, _operation in TRIGGERS:
        if dialect == 'postgresql':
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON audit_events")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    if dialect == 'postgresql':
        op.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}()")
