"""campaigns at every level: a campaign started by its parent's cascade, and the definition its
sub-units' campaigns will run on

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-04 20:00:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0023'
down_revision: Union[str, Sequence[str], None] = '0022'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('parent_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('child_definition_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_campaigns_parent_id_campaigns'), 'campaigns', ['parent_id'], ['id']
        )
        batch_op.create_foreign_key(
            batch_op.f('fk_campaigns_child_definition_id_definitions'),
            'definitions',
            ['child_definition_id'],
            ['id'],
        )
        # one campaign per sub-unit and parent: a cascade run twice starts nothing twice
        batch_op.create_unique_constraint(
            batch_op.f('uq_campaigns_parent_id_unit_id'), ['parent_id', 'unit_id']
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_campaigns_parent_id_unit_id'), type_='unique')
        batch_op.drop_constraint(
            batch_op.f('fk_campaigns_child_definition_id_definitions'), type_='foreignkey'
        )
        batch_op.drop_constraint(batch_op.f('fk_campaigns_parent_id_campaigns'), type_='foreignkey')
        batch_op.drop_column('child_definition_id')
        batch_op.drop_column('parent_id')
