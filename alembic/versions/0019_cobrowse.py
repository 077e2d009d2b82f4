"""cobrowse_sessions: co-browse consent and outcome per session (no page content)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa

import contactcenter.db.base
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cobrowse_sessions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "conversation_id", sa.String(36), sa.ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("degraded", sa.Boolean(), nullable=False),
        sa.Column("requested_at", contactcenter.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", contactcenter.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", contactcenter.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_by", sa.String(16), nullable=True),
        sa.Column("pages", contactcenter.db.base.JSONType, nullable=False),
        sa.Column("redactions", sa.Integer(), nullable=False),
    )
    op.create_index("ix_cobrowse_sessions_conversation_state", "cobrowse_sessions", ["conversation_id", "state"])


def downgrade() -> None:
    op.drop_index("ix_cobrowse_sessions_conversation_state", table_name="cobrowse_sessions")
    op.drop_table("cobrowse_sessions")
