"""letters: responsibility letters (责任书) between two parties, drafted → issued → signed

Lingtai's key sites sign a letter with the director, the railway's sections with the town, the
district bureau's departments with its head. A letter is created with its phase like a task (one per
site or sub-unit), issued by a holder of a leading-group role and signed by the site's or unit's
responsible person; a required one not signed keeps the campaign in its phase.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 20:41:40

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0017'
down_revision: Union[str, Sequence[str], None] = '0016'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('letters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('phase_key', sa.String(length=64), nullable=False),
    sa.Column('spec_key', sa.String(length=64), nullable=False),
    sa.Column('occurrence_key', sa.String(length=200), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('site_id', sa.Integer(), nullable=True),
    sa.Column('entry_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('required', sa.Boolean(), nullable=False),
    sa.Column('issuer_role', sa.String(length=64), nullable=False),
    sa.Column('issuer_id', sa.Integer(), nullable=False),
    sa.Column('signer_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('due_at', sa.DateTime(), nullable=True),
    sa.Column('due_estimated', sa.Boolean(), nullable=False),
    sa.Column('due_basis', sa.Date(), nullable=True),
    sa.Column('due_rule', sa.String(length=16), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('issued_at', sa.DateTime(), nullable=True),
    sa.Column('issued_by_id', sa.Integer(), nullable=True),
    sa.Column('signed_at', sa.DateTime(), nullable=True),
    sa.Column('signed_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_letters_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['entry_id'], ['list_entries.id'], name=op.f('fk_letters_entry_id_list_entries')),
    sa.ForeignKeyConstraint(['issued_by_id'], ['people.id'], name=op.f('fk_letters_issued_by_id_people')),
    sa.ForeignKeyConstraint(['issuer_id'], ['people.id'], name=op.f('fk_letters_issuer_id_people')),
    sa.ForeignKeyConstraint(['signed_by_id'], ['people.id'], name=op.f('fk_letters_signed_by_id_people')),
    sa.ForeignKeyConstraint(['signer_id'], ['people.id'], name=op.f('fk_letters_signer_id_people')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_letters_site_id_sites')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_letters_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_letters')),
    sa.UniqueConstraint('campaign_id', 'occurrence_key', name=op.f('uq_letters_campaign_id_occurrence_key'))
    )
    with op.batch_alter_table('letters', schema=None) as batch_op:
        batch_op.create_index('ix_letters_phase', ['campaign_id', 'phase_key', 'state'], unique=False)
        batch_op.create_index('ix_letters_signer', ['signer_id', 'state'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('letters', schema=None) as batch_op:
        batch_op.drop_index('ix_letters_signer')
        batch_op.drop_index('ix_letters_phase')

    op.drop_table('letters')
