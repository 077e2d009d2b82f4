"""drop ix_touches_customer_channel_time (see docs/decisions.md, "Touch indexes")

Revision ID: 0006
Revises: 0004
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_touches_customer_channel_time", table_name="touches")


def downgrade() -> None:
    op.create_index("ix_touches_customer_channel_time", "touches", ["customer_id", "channel", "occurred_at"])
