"""administrators: a person who administers a unit and everything under it

The first is made with ``pingan admin grant EMAIL --unit CODE``. An
administrator of a top unit (one with no parent) also keeps the official
calendar, which every campaign shares. Who granted and revoked what is in the
audit log; a row here is a grant in force.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 12:30:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0014'
down_revision: Union[str, Sequence[str], None] = '0013'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('administrators',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('granted_at', sa.DateTime(), nullable=False),
    sa.Column('granted_by', sa.String(length=254), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_administrators_person_id_people')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_administrators_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_administrators')),
    sa.UniqueConstraint('person_id', 'unit_id', name=op.f('uq_administrators_person_id_unit_id'))
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('administrators')
