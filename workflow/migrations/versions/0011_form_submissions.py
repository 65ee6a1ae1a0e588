"""form_submissions: a page form's one-time key, so that the same form posted twice creates one thing

A double click or a reload of the page a POST answered recorded the incident
(and mailed 「立即报告」) twice. A form that creates something carries a key
made when it is rendered; the use case claims it here, in the transaction
that creates the thing, and a post of a claimed key creates nothing. The
primary key (person, key) is what settles two posts at once.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 07:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0011'
down_revision: Union[str, Sequence[str], None] = '0010'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('form_submissions',
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('entity', sa.String(length=32), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_form_submissions_person_id_people'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('person_id', 'key', name=op.f('pk_form_submissions'))
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('form_submissions')
