"""work lists at scale: the register's indexes (by campaign and deadline; by campaign, unit,
severity and deadline, so a filtered page and its count read one index range), Chinese search
(SQLite: FTS5 trigram tables kept by triggers; PostgreSQL: pg_trgm GIN indexes on the searched
texts) and saved views (``saved_views``)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 14:00:00

"""

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = "0020"
down_revision: Union[str, Sequence[str], None] = "0019"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# the texts searched, as workflow/worklists/search.py writes them (PostgreSQL's index is on these
# very expressions: a query uses it only when it repeats them)
TASK_TEXT = "(title || ' ' || coalesce(note, ''))"
RECTIFICATION_TEXT = (
    "(description || ' ' || coalesce(location, '') || ' ' || coalesce(submission_note, '')"
    " || ' ' || coalesce(temporary_measures, ''))"
)
# SQLite: one external-content FTS5 table per item table, its columns those searched
FTS_TABLES = {
    "task_search": ("tasks", ("title", "note")),
    "rectification_search": (
        "rectifications",
        ("description", "location", "submission_note", "temporary_measures"),
    ),
}


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("rectifications", schema=None) as batch_op:
        batch_op.drop_index("ix_rectifications_campaign")
        batch_op.create_index(
            "ix_rectifications_campaign", ["campaign_id", "state", "deadline_at"], unique=False
        )
        batch_op.create_index(
            "ix_rectifications_unit_register",
            ["campaign_id", "unit_id", "state", "severity", "deadline_at"],
            unique=False,
        )
    op.create_table(
        "saved_views",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("list_name", sa.String(length=16), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("query", sa.String(length=1000), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_saved_views_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["people.id"],
            name=op.f("fk_saved_views_owner_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_views")),
        sa.UniqueConstraint("owner_id", "name", name=op.f("uq_saved_views_owner_id")),
    )
    with op.batch_alter_table("saved_views", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_saved_views_campaign_id"), ["campaign_id"], unique=False
        )
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        # trusted since PostgreSQL 13: the database's owner may create it
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(f"CREATE INDEX ix_tasks_search ON tasks USING gin ({TASK_TEXT} gin_trgm_ops)")
        op.execute(
            "CREATE INDEX ix_rectifications_search ON rectifications "
            f"USING gin ({RECTIFICATION_TEXT} gin_trgm_ops)"
        )
    elif dialect == "sqlite":
        for fts, (table, columns) in FTS_TABLES.items():
            _create_fts(fts, table, columns)
    else:
        raise NotImplementedError(f"search indexes for {dialect} are not written")


def downgrade() -> None:
    """Downgrade schema."""
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_rectifications_search")
        op.execute("DROP INDEX IF EXISTS ix_tasks_search")
    elif dialect == "sqlite":
        for fts, (table, _columns) in FTS_TABLES.items():
            for event in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_{event}_search")
            op.execute(f"DROP TABLE IF EXISTS {fts}")
    with op.batch_alter_table("saved_views", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_saved_views_campaign_id"))
    op.drop_table("saved_views")
    with op.batch_alter_table("rectifications", schema=None) as batch_op:
        batch_op.drop_index("ix_rectifications_unit_register")
        batch_op.drop_index("ix_rectifications_campaign")
        batch_op.create_index("ix_rectifications_campaign", ["campaign_id", "state"], unique=False)


def _create_fts(fts: str, table: str, columns: tuple[str, ...]) -> None:
    names = ", ".join(columns)
    new = ", ".join(f"new.{column}" for column in columns)
    old = ", ".join(f"old.{column}" for column in columns)
    op.execute(
        f"CREATE VIRTUAL TABLE {fts} USING fts5({names}, content='{table}', content_rowid='id', "
        "tokenize='trigram')"
    )
    forget = f"INSERT INTO {fts}({fts}, rowid, {names}) VALUES ('delete', old.id, {old});"
    learn = f"INSERT INTO {fts}(rowid, {names}) VALUES (new.id, {new});"
    op.execute(f"CREATE TRIGGER {table}_insert_search AFTER INSERT ON {table} BEGIN {learn} END")
    op.execute(f"CREATE TRIGGER {table}_delete_search AFTER DELETE ON {table} BEGIN {forget} END")
    op.execute(
        f"CREATE TRIGGER {table}_update_search AFTER UPDATE OF {names} ON {table} "
        f"BEGIN {forget} {learn} END"
    )
    # the rows already there
    op.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")
