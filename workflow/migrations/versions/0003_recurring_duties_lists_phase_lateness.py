"""recurring duties lists phase lateness

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 05:27:45.374472

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0003'
down_revision: Union[str, Sequence[str], None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    
    op.create_table('list_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('list_key', sa.String(length=64), nullable=False),
    sa.Column('code', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('responsible_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['responsible_id'], ['people.id'], name=op.f('fk_list_entries_responsible_id_people')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_list_entries_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_list_entries')),
    sa.UniqueConstraint('list_key', 'code', name=op.f('uq_list_entries_list_key_code'))
    )
    with op.batch_alter_table('list_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_list_entries_unit_id'), ['unit_id'], unique=False)

    op.create_table('recurring_cursors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('phase_key', sa.String(length=64), nullable=False),
    sa.Column('duty_key', sa.String(length=64), nullable=False),
    sa.Column('generated_until', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_recurring_cursors_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recurring_cursors')),
    sa.UniqueConstraint('campaign_id', 'duty_key', name=op.f('uq_recurring_cursors_campaign_id_duty_key'))
    )
    with op.batch_alter_table('campaign_phases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('late_notified_at', sa.DateTime(), nullable=True))

    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('site_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('entry_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('period', sa.String(length=32), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_tasks_entry_id_list_entries'), 'list_entries', ['entry_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_tasks_site_id_sites'), 'sites', ['site_id'], ['id'])

    


def downgrade() -> None:
    """Downgrade schema."""
    
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_tasks_site_id_sites'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_tasks_entry_id_list_entries'), type_='foreignkey')
        batch_op.drop_column('period')
        batch_op.drop_column('entry_id')
        batch_op.drop_column('site_id')

    with op.batch_alter_table('campaign_phases', schema=None) as batch_op:
        batch_op.drop_column('late_notified_at')

    op.drop_table('recurring_cursors')
    with op.batch_alter_table('list_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_list_entries_unit_id'))

    op.drop_table('list_entries')
    
