"""actor names in the reader's language (name_de, name_ko)

Revision ID: 0002_honest
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_honest"
down_revision = "0002_stories"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # batch mode: SQLite cannot ALTER a table in place beyond ADD COLUMN; PostgreSQL adds in place
    with op.batch_alter_table("actor") as batch:
        batch.add_column(sa.Column("name_de", sa.String(length=300), nullable=True))
        batch.add_column(sa.Column("name_ko", sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("actor") as batch:
        batch.drop_column("name_ko")
        batch.drop_column("name_de")
