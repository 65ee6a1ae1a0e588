"""placeholder: replaced by the incident reports migration on main

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 09:00:00

"""
from typing import Sequence, Union


# revision identifiers, used by Alembic.
revision: str = '0016'
down_revision: Union[str, Sequence[str], None] = '0015'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    pass


def downgrade() -> None:
    """Downgrade schema."""
    pass
