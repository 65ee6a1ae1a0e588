"""calendar_imports: a year of the official calendar entered from a file, and by whom

The State Council publishes next year's holidays and adjusted workdays (调休)
in October–December, before any release of chinesecalendar carries them.
``pingan calendar import`` enters a year's schedule from a file into
``calendar_days``; this table says who entered it, when and from which file,
so that ``pingan calendar status`` can tell an entered year from the
package's data and from a year with none.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 08:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0012'
down_revision: Union[str, Sequence[str], None] = '0011'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('calendar_imports',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('imported_at', sa.DateTime(), nullable=False),
    sa.Column('imported_by', sa.String(length=254), nullable=False),
    sa.Column('source_name', sa.String(length=300), nullable=False),
    sa.Column('days_off', sa.Integer(), nullable=False),
    sa.Column('days_work', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_calendar_imports'))
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('calendar_imports')
