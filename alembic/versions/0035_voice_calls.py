"""voice_calls: the process bridging each call, so other processes forward its frames (decision 57)

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa

import contactcenter.db.base
from alembic import op

revision = "0035"
down_revision = "0034"
branch_labels = None
depends_on = None

UTC = contactcenter.db.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "voice_calls",
        sa.Column("conversation_id", sa.String(36), sa.ForeignKey("conversations.id"), primary_key=True),
        sa.Column("host_id", sa.String(64), nullable=False),
        sa.Column("placed_at", UTC, nullable=False),
        sa.Column("ended_at", UTC, nullable=True),
        sa.Column("reason", sa.String(32), nullable=True),
    )
    op.create_index("ix_voice_calls_open", "voice_calls", ["ended_at", "host_id"])


def downgrade() -> None:
    op.drop_index("ix_voice_calls_open", table_name="voice_calls")
    op.drop_table("voice_calls")
