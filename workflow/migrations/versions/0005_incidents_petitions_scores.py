"""incidents, petitions, assessment scores and findings

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 08:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0005'
down_revision: Union[str, Sequence[str], None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('incidents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_incidents_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['people.id'], name=op.f('fk_incidents_recorded_by_id_people')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_incidents_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incidents'))
    )
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.create_index('ix_incidents_campaign', ['campaign_id', 'kind', 'occurred_on'], unique=False)

    op.create_table('petitions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('petitioner', sa.String(length=200), nullable=True),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('responsible_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('deadline_at', sa.DateTime(), nullable=False),
    sa.Column('next_escalation_at', sa.DateTime(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('processed_at', sa.DateTime(), nullable=True),
    sa.Column('processed_by_id', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_petitions_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['processed_by_id'], ['people.id'], name=op.f('fk_petitions_processed_by_id_people')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['people.id'], name=op.f('fk_petitions_recorded_by_id_people')),
    sa.ForeignKeyConstraint(['responsible_id'], ['people.id'], name=op.f('fk_petitions_responsible_id_people')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_petitions_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_petitions'))
    )
    with op.batch_alter_table('petitions', schema=None) as batch_op:
        batch_op.create_index('ix_petitions_campaign', ['campaign_id', 'state'], unique=False)
        batch_op.create_index('ix_petitions_next_escalation', ['next_escalation_at'], unique=False)

    op.create_table('scores',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('item_key', sa.String(length=64), nullable=False),
    sa.Column('points', sa.Double(), nullable=False),
    sa.Column('entered_at', sa.DateTime(), nullable=False),
    sa.Column('entered_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_scores_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['entered_by_id'], ['people.id'], name=op.f('fk_scores_entered_by_id_people')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_scores_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scores')),
    sa.UniqueConstraint('campaign_id', 'unit_id', 'item_key', name=op.f('uq_scores_campaign_id_unit_id_item_key'))
    )
    op.create_table('assessment_findings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('rule_kind', sa.String(length=16), nullable=False),
    sa.Column('rule_key', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('entered_at', sa.DateTime(), nullable=False),
    sa.Column('entered_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_assessment_findings_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['entered_by_id'], ['people.id'], name=op.f('fk_assessment_findings_entered_by_id_people')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_assessment_findings_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_findings')),
    sa.UniqueConstraint('campaign_id', 'unit_id', 'rule_kind', 'rule_key', name=op.f('uq_assessment_findings_campaign_id_unit_id_rule_kind_rule_key'))
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('assessment_findings')
    op.drop_table('scores')
    with op.batch_alter_table('petitions', schema=None) as batch_op:
        batch_op.drop_index('ix_petitions_next_escalation')
        batch_op.drop_index('ix_petitions_campaign')
    op.drop_table('petitions')
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_index('ix_incidents_campaign')
    op.drop_table('incidents')
