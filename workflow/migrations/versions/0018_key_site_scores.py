"""key sites scored: a score row may be a key site's (``scores.site_id``), beside its unit's own;
an incident may be recorded at a key site (``incidents.site_id``), for targets held per site

The unique key (campaign, unit, item) becomes two partial unique indexes: a
unit's own sheet (site_id NULL) and each site's sheet (site_id set), one row
per item each; a plain unique key over site_id would let NULLs repeat.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 21:40:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0018'
down_revision: Union[str, Sequence[str], None] = '0017'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

UNIT_ROWS = sa.text('site_id IS NULL')
SITE_ROWS = sa.text('site_id IS NOT NULL')


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('scores', schema=None) as batch_op:
        batch_op.drop_constraint('uq_scores_campaign_id_unit_id_item_key', type_='unique')
        batch_op.add_column(sa.Column('site_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_scores_site_id_sites'), 'sites', ['site_id'], ['id']
        )
    op.create_index(
        'uq_scores_unit_item', 'scores', ['campaign_id', 'unit_id', 'item_key'], unique=True,
        sqlite_where=UNIT_ROWS, postgresql_where=UNIT_ROWS,
    )
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('site_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_incidents_site_id_sites'), 'sites', ['site_id'], ['id']
        )
    op.create_index(
        'uq_scores_site_item', 'scores', ['campaign_id', 'site_id', 'item_key'], unique=True,
        sqlite_where=SITE_ROWS, postgresql_where=SITE_ROWS,
    )


def downgrade() -> None:
    """Downgrade schema: the sites' rows go (the old key cannot hold them)."""
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_incidents_site_id_sites'), type_='foreignkey')
        batch_op.drop_column('site_id')
    op.execute('DELETE FROM scores WHERE site_id IS NOT NULL')
    op.drop_index('uq_scores_site_item', table_name='scores')
    op.drop_index('uq_scores_unit_item', table_name='scores')
    with op.batch_alter_table('scores', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_scores_site_id_sites'), type_='foreignkey')
        batch_op.drop_column('site_id')
        batch_op.create_unique_constraint(
            batch_op.f('uq_scores_campaign_id_unit_id_item_key'),
            ['campaign_id', 'unit_id', 'item_key'],
        )
