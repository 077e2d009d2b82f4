"""csat_ratings: one row per closed conversation whose customer was asked, with the rating once given

Revision ID: 0030
Revises: 0029 (0029 is taken by another branch: the merge rechains this one after it)
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa

import contactcenter.db.base
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None

UTC = contactcenter.db.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "csat_ratings",
        sa.Column("conversation_id", sa.String(36), primary_key=True),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("queue", sa.String(40), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("comment", sa.String(1000), nullable=True),
        sa.Column("asked_at", UTC, nullable=False),
        sa.Column("rated_at", UTC, nullable=True),
        sa.CheckConstraint("score IS NULL OR (score >= 1 AND score <= 5)", name="ck_csat_ratings_score"),
    )
    op.create_index("ix_csat_ratings_customer", "csat_ratings", ["customer_id", "rated_at"])
    op.create_index("ix_csat_ratings_rated", "csat_ratings", ["rated_at"])


def downgrade() -> None:
    op.drop_index("ix_csat_ratings_rated", table_name="csat_ratings")
    op.drop_index("ix_csat_ratings_customer", table_name="csat_ratings")
    op.drop_table("csat_ratings")
