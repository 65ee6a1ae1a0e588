"""in the field: check-ins at key sites (巡查打卡), the task a check-in fulfilled, and photos
re-encoded by the server (before/after, thumbnail, size, capture time)

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-04 22:30:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0024'
down_revision: Union[str, Sequence[str], None] = '0023'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'site_visits',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('site_id', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('phone_at', sa.DateTime(), nullable=True),
        sa.Column('latitude', sa.Float(), nullable=True),
        sa.Column('longitude', sa.Float(), nullable=True),
        sa.Column('accuracy_m', sa.Float(), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ['person_id'], ['people.id'], name=op.f('fk_site_visits_person_id_people')
        ),
        sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_site_visits_site_id_sites')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_site_visits')),
    )
    op.create_index('ix_site_visits_site', 'site_visits', ['site_id', 'at'], unique=False)
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('visit_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_tasks_visit_id_site_visits'), 'site_visits', ['visit_id'], ['id']
        )
    with op.batch_alter_table('evidence_files', schema=None) as batch_op:
        # a check-in's photos belong to a site, not to one campaign
        batch_op.alter_column('campaign_id', existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column('stage', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('thumb_name', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('width', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('height', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('captured_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('evidence_files', schema=None) as batch_op:
        batch_op.drop_column('captured_at')
        batch_op.drop_column('height')
        batch_op.drop_column('width')
        batch_op.drop_column('thumb_name')
        batch_op.drop_column('stage')
        batch_op.alter_column('campaign_id', existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_tasks_visit_id_site_visits'), type_='foreignkey')
        batch_op.drop_column('visit_id')
    op.drop_index('ix_site_visits_site', table_name='site_visits')
    op.drop_table('site_visits')
