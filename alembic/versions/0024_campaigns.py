"""campaigns: a planner's campaigns and their materialised target lists

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa

import contactcenter.db.base
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

UTC = contactcenter.db.base.UTCDateTime(timezone=True)
JSON = contactcenter.db.base.JSONType


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", sa.String(48), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("target", JSON, nullable=False),
        sa.Column("product_sku", sa.String(40), nullable=False),
        sa.Column("script_id", sa.String(120), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("holdout_pct", sa.Double(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("target_size", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(120), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("started_at", UTC, nullable=True),
        sa.Column("stopped_at", UTC, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_campaigns"),
    )
    op.create_table(
        "campaign_targets",
        sa.Column("campaign_id", sa.String(48), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("held_out", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name="fk_campaign_targets_campaign_id_campaigns",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("campaign_id", "customer_id", name="pk_campaign_targets"),
    )
    op.create_index("ix_campaign_targets_customer", "campaign_targets", ["customer_id"])


def downgrade() -> None:
    op.drop_index("ix_campaign_targets_customer", table_name="campaign_targets")
    op.drop_table("campaign_targets")
    op.drop_table("campaigns")
