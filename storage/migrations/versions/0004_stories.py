"""story representations, candidate index, feature store and story history (issue 13)

Revision ID: 0002_stories
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0002_stories"
down_revision = "0002_stream"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("story", schema=None) as batch_op:
        batch_op.add_column(sa.Column("members", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("profile", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("merged_into", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("follow_up_of", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_story_merged_into"), ["merged_into"], unique=False)
        batch_op.create_index(batch_op.f("ix_story_follow_up_of"), ["follow_up_of"], unique=False)
    op.create_table(
        "story_features",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["article.id"]),
        sa.PrimaryKeyConstraint("article_id"),
    )
    op.create_table(
        "story_key",
        sa.Column("key", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", "story_id"),
    )
    with op.batch_alter_table("story_key", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_story_key_story_id"), ["story_id"], unique=False)
    op.create_table(
        "term_stat",
        sa.Column("term", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("df", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("term"),
    )
    op.create_table(
        "story_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("other_story_id", sa.Integer(), nullable=False),
        sa.Column("article_ids", sa.JSON(), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("story_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_story_event_story_id"), ["story_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_story_event_other_story_id"), ["other_story_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("story_event")
    op.drop_table("term_stat")
    op.drop_table("story_key")
    op.drop_table("story_features")
    with op.batch_alter_table("story", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_story_follow_up_of"))
        batch_op.drop_index(batch_op.f("ix_story_merged_into"))
        batch_op.drop_column("follow_up_of")
        batch_op.drop_column("merged_into")
        batch_op.drop_column("profile")
        batch_op.drop_column("members")
