"""engage_invitations, engage_caps, engage_rule_sets: proactive invitations, their frequency caps and the
planner's invitation rules (decision 54)

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

import contactcenter.db.base
from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None

UTC = contactcenter.db.base.UTCDateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "engage_invitations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("rule_id", sa.String(64), nullable=False),
        sa.Column("path", sa.String(500), nullable=False),
        sa.Column("topic", sa.String(120), nullable=False),
        sa.Column("offer", sa.String(16), nullable=False),
        sa.Column("held_out", sa.Boolean(), nullable=False),
        sa.Column("answer", sa.String(16), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("answered_at", UTC, nullable=True),
    )
    op.create_index("ix_engage_invitations_customer", "engage_invitations", ["customer_id", "created_at"])
    op.create_index("ix_engage_invitations_created", "engage_invitations", ["created_at"])
    op.create_table(
        "engage_caps",
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customers.id"), primary_key=True),
        sa.Column("last_at", UTC, nullable=True),
        sa.Column("day_start", UTC, nullable=True),
        sa.Column("day_count", sa.Integer(), nullable=False),
    )
    op.create_table(
        "engage_rule_sets",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("rules", JSON, nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("comment", sa.String(500), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("engage_rule_sets")
    op.drop_table("engage_caps")
    op.drop_index("ix_engage_invitations_created", table_name="engage_invitations")
    op.drop_index("ix_engage_invitations_customer", table_name="engage_invitations")
    op.drop_table("engage_invitations")
