"""people: a password set by an operator must be changed at the next sign-in

``pingan person password EMAIL`` gives a person a one-time password; until they
choose their own, nothing but the change-password page opens for them and the
API refuses their browser session. Existing people keep their passwords.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 06:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0010'
down_revision: Union[str, Sequence[str], None] = '0009'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('must_change_password', sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.drop_column('must_change_password')
