"""escalation queue: the next due step of each item in its own narrow table, clustered by time

A sweep used to store each item's next step in ``next_escalation_at`` on the
item row itself: ten thousand overdue rectifications meant ten thousand
scattered wide rows rewritten (and checkpointed) per sweep. The queue keeps the
same facts in a table ordered by due time. Open items keep their pending step.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 10:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0006'
down_revision: Union[str, Sequence[str], None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# (table, item kind, the SQL of the item's deadline round, index on next_escalation_at)
ITEMS = (
    ('rectifications', 'rectification', 'deadline_round', 'ix_rectifications_next_escalation'),
    ('tasks', 'task', '0', 'ix_tasks_next_escalation'),
    ('petitions', 'petition', '0', 'ix_petitions_next_escalation'),
)


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('escalation_queue',
    sa.Column('due_at', sa.DateTime(), nullable=False),
    sa.Column('item_kind', sa.String(length=16), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('deadline_round', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('due_at', 'item_kind', 'item_id', 'deadline_round', name=op.f('pk_escalation_queue')),
    sqlite_with_rowid=False,
    )
    for table, kind, round_sql, index in ITEMS:
        op.execute(f"INSERT INTO escalation_queue (due_at, item_kind, item_id, deadline_round) "
                   f"SELECT next_escalation_at, '{kind}', id, {round_sql} FROM {table} "
                   f"WHERE next_escalation_at IS NOT NULL AND state = 'open'")
        op.drop_index(index, table_name=table)
        # SQLite 3.35+ drops a column in place (it is no longer indexed); no table rebuild
        op.execute(f"ALTER TABLE {table} DROP COLUMN next_escalation_at")


def downgrade() -> None:
    """Downgrade schema."""
    for table, kind, round_sql, index in ITEMS:
        current_round = f"{table}.{round_sql}" if round_sql != '0' else '0'
        op.add_column(table, sa.Column('next_escalation_at', sa.DateTime(), nullable=True))
        op.execute(f"UPDATE {table} SET next_escalation_at = (SELECT min(q.due_at) FROM escalation_queue q "
                   f"WHERE q.item_kind = '{kind}' AND q.item_id = {table}.id "
                   f"AND q.deadline_round = {current_round}) WHERE state = 'open'")
        op.create_index(index, table, ['next_escalation_at'], unique=False)
    op.drop_table('escalation_queue')
