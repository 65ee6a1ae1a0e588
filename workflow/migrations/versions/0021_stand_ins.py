"""stand-ins (代理): a person named to stand in for another over a range of local dates

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03 13:30:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0021'
down_revision: Union[str, Sequence[str], None] = '0020'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'stand_ins',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('stand_in_id', sa.Integer(), nullable=False),
        sa.Column('starts_on', sa.Date(), nullable=False),
        sa.Column('ends_on', sa.Date(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_by', sa.String(length=254), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('cancelled_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ['created_by_id'], ['people.id'], name=op.f('fk_stand_ins_created_by_id_people')
        ),
        sa.ForeignKeyConstraint(
            ['person_id'], ['people.id'],
            name=op.f('fk_stand_ins_person_id_people'), ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['stand_in_id'], ['people.id'],
            name=op.f('fk_stand_ins_stand_in_id_people'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_stand_ins')),
    )
    op.create_index('ix_stand_ins_person', 'stand_ins', ['person_id', 'starts_on'], unique=False)
    op.create_index(
        op.f('ix_stand_ins_stand_in_id'), 'stand_ins', ['stand_in_id'], unique=False
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f('ix_stand_ins_stand_in_id'), table_name='stand_ins')
    op.drop_index('ix_stand_ins_person', table_name='stand_ins')
    op.drop_table('stand_ins')
