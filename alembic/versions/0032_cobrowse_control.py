"""cobrowse_sessions: remote control, the second consent (state, for whom, since when, how long in total)

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa

import contactcenter.db.base
from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cobrowse_sessions") as t:
        t.add_column(sa.Column("control", sa.String(8), nullable=False, server_default="off"))
        t.add_column(sa.Column("control_agent_id", sa.Integer(), nullable=True))
        t.add_column(sa.Column("control_since", contactcenter.db.base.UTCDateTime(timezone=True), nullable=True))
        t.add_column(sa.Column("control_s", sa.Float(), nullable=False, server_default="0"))
        t.add_column(sa.Column("control_grants", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("cobrowse_sessions") as t:
        for name in ("control_grants", "control_s", "control_since", "control_agent_id", "control"):
            t.drop_column(name)
