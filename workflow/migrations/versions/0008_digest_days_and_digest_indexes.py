"""digest days, the indexes of the daily digest, and petitions by responsible person

The daily digest used to ask the outbox whether today's digests were written
(``key LIKE 'digest-DAY-%'``), which no index answers: every sweep after the
digest hour read the whole outbox. A day is now claimed in ``digest_days``.
Its queries (open tasks and rectifications due within three working days, in
every campaign) get an index each; so does the inbox's list of a person's open
letters and visits.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 13:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0008'
down_revision: Union[str, Sequence[str], None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('digest_days',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('written_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_digest_days'))
    )
    # the days already written, read off the digests' outbox keys (digest-YYYY-MM-DD-p<id>)
    day = "substr(key, 8, 10)" if op.get_bind().dialect.name == "sqlite" else "CAST(substr(key, 8, 10) AS DATE)"
    op.execute(f"INSERT INTO digest_days (day, written_at) SELECT {day}, min(created_at) FROM outbox "
               f"WHERE key LIKE 'digest-%' GROUP BY substr(key, 8, 10)")
    op.create_index('ix_tasks_open_due', 'tasks', ['state', 'due_on'], unique=False)
    op.create_index('ix_rectifications_open_deadline', 'rectifications', ['state', 'deadline'], unique=False)
    op.create_index('ix_petitions_responsible', 'petitions', ['responsible_id', 'state'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index('ix_petitions_responsible', table_name='petitions')
    op.drop_index('ix_rectifications_open_deadline', table_name='rectifications')
    op.drop_index('ix_tasks_open_due', table_name='tasks')
    op.drop_table('digest_days')
