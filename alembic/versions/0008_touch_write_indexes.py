"""drop ix_touches_kind_time and ix_touches_conversation_id (see docs/decisions.md, "Touch write volume")

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_touches_kind_time", table_name="touches")
    op.drop_index("ix_touches_conversation_id", table_name="touches")


def downgrade() -> None:
    op.create_index("ix_touches_conversation_id", "touches", ["conversation_id"])
    op.create_index("ix_touches_kind_time", "touches", ["kind", "occurred_at"])
