"""a campaign's register by due date whatever the state: the walk of a common word's matches

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03 17:00:00

"""
from typing import Sequence, Union

from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0022'
down_revision: Union[str, Sequence[str], None] = '0021'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('rectifications', schema=None) as batch_op:
        batch_op.create_index(
            'ix_rectifications_campaign_due', ['campaign_id', 'deadline_at', 'id'], unique=False
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('rectifications', schema=None) as batch_op:
        batch_op.drop_index('ix_rectifications_campaign_due')
