"""campaigns: a priority per campaign, when a restart added a target, and the campaign's history

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa

import contactcenter.db.base
from alembic import op

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None

UTC = contactcenter.db.base.UTCDateTime(timezone=True)
JSON = contactcenter.db.base.JSONType


def upgrade() -> None:
    with op.batch_alter_table("campaigns") as t:
        t.add_column(sa.Column("priority", sa.Integer(), nullable=False, server_default="50"))
    with op.batch_alter_table("campaign_targets") as t:
        t.add_column(sa.Column("added_at", UTC, nullable=True))
    op.create_table(
        "campaign_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.String(48), nullable=False),
        sa.Column("at", UTC, nullable=False),
        sa.Column("by", sa.String(120), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("detail", JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name="fk_campaign_events_campaign_id_campaigns", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_campaign_events"),
    )
    op.create_index("ix_campaign_events_campaign", "campaign_events", ["campaign_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_campaign_events_campaign", table_name="campaign_events")
    op.drop_table("campaign_events")
    with op.batch_alter_table("campaign_targets") as t:
        t.drop_column("added_at")
    with op.batch_alter_table("campaigns") as t:
        t.drop_column("priority")
