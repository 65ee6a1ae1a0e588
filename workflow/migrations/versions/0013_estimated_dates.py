"""estimated dates: a due date or deadline counted over a year without the official calendar

A working-day count over a year whose State Council schedule is not known yet
falls back to Monday–Friday (workflow/calendar.py). Such a date is an estimate:
it is marked, shown as 「预计」, and recomputed when the year's schedule is
imported. ``*_basis`` is the day it was counted from and ``*_rule`` the
duration counted (``5wd``; ``-5wd`` counts back), kept only while estimated.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 12:30:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0013'
down_revision: Union[str, Sequence[str], None] = '0012'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

COLUMNS = {
    'tasks': 'due',
    'rectifications': 'deadline',
    'petitions': 'deadline',
}


def upgrade() -> None:
    """Upgrade schema."""
    for table, prefix in COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column(f'{prefix}_estimated', sa.Boolean(), nullable=False, server_default=sa.false())
            )
            batch_op.add_column(sa.Column(f'{prefix}_basis', sa.Date(), nullable=True))
            batch_op.add_column(sa.Column(f'{prefix}_rule', sa.String(length=16), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    for table, prefix in COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column(f'{prefix}_rule')
            batch_op.drop_column(f'{prefix}_basis')
            batch_op.drop_column(f'{prefix}_estimated')
