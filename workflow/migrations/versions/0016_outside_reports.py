"""reports to outside bodies: each incident's report to 铁路部门, 公安机关 … as a record; major
letters and visits

An incident of a kind with ``report_to`` records when each outside body was
told, by whom and how (``outside_reports``, one row per body); a kind with
``report_within`` gives its incidents a ``report_due_at``, which the sweep
looks at once: bodies not told by then escalate. A letter or visit recorded as
major (``petitions.major``) calls the definition's meeting (重大信访会).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 21:10:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0016'
down_revision: Union[str, Sequence[str], None] = '0015'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('outside_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.String(length=100), nullable=False),
    sa.Column('reported_at', sa.DateTime(), nullable=False),
    sa.Column('reported_by_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_outside_reports_incident_id_incidents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reported_by_id'], ['people.id'], name=op.f('fk_outside_reports_reported_by_id_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outside_reports')),
    sa.UniqueConstraint('incident_id', 'body', name=op.f('uq_outside_reports_incident_id_body'))
    )
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('report_due_at', sa.DateTime(), nullable=True))
        batch_op.create_index('ix_incidents_report_due', ['report_due_at'], unique=False)
    with op.batch_alter_table('petitions', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('major', sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('petitions', schema=None) as batch_op:
        batch_op.drop_column('major')
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_index('ix_incidents_report_due')
        batch_op.drop_column('report_due_at')
    op.drop_table('outside_reports')
