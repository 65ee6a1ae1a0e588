"""inspection findings: what an inspection task found, recorded before it is checked off

An inspection (a task or duty the definition marks ``inspection: true``) is
done only once its findings are recorded: ``none`` (no problems found) or
``hazards`` (the hazards registered from it, which link back to it through
``rectifications.task_id``). NULL: not an inspection, or not done yet.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 17:15:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0015'
down_revision: Union[str, Sequence[str], None] = '0014'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('findings', sa.String(length=16), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_column('findings')
