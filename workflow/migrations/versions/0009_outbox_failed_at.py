"""outbox: a mail that can never be sent is marked failed, and no longer waits in the queue

A mail whose header could not be written, or that the server refused for good
(a 5xx answer to its recipient or its content), was retried every few hours
for ever, and its failure ended each delivery pass early. ``failed_at`` marks
it failed once, with ``last_error`` saying why; coordinators see it listed.
The pending index gains the column, so what is left to send is still found
without reading the whole outbox.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 04:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0009'
down_revision: Union[str, Sequence[str], None] = '0008'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failed_at', sa.DateTime(), nullable=True))
        batch_op.drop_index('ix_outbox_pending')
        batch_op.create_index('ix_outbox_pending', ['sent_at', 'failed_at', 'next_attempt_at'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_pending')
        batch_op.create_index('ix_outbox_pending', ['sent_at', 'next_attempt_at'], unique=False)
        batch_op.drop_column('failed_at')
