"""analytics: product associations, customer values (tier, attrition, PTC), tier history, runs

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa

import contactcenter.db.base
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

UTC = contactcenter.db.base.UTCDateTime(timezone=True)
JSON = contactcenter.db.base.JSONType


def upgrade() -> None:
    op.create_table(
        "product_associations",
        sa.Column("antecedent_id", sa.Integer(), nullable=False),
        sa.Column("consequent_id", sa.Integer(), nullable=False),
        sa.Column("support", sa.Double(), nullable=False),
        sa.Column("confidence", sa.Double(), nullable=False),
        sa.Column("lift", sa.Double(), nullable=False),
        sa.Column("baskets", sa.Integer(), nullable=False),
        sa.Column("antecedent_baskets", sa.Integer(), nullable=False),
        sa.Column("computed_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("antecedent_id", "consequent_id", name="pk_product_associations"),
    )
    op.create_table(
        "customer_values",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.Numeric(14, 2), nullable=False),
        sa.Column("tier", sa.String(16), nullable=False),
        sa.Column("previous_tier", sa.String(16), nullable=False),
        sa.Column("attrition_risk", sa.Double(), nullable=False),
        sa.Column("attrition_reason", sa.String(200), nullable=True),
        sa.Column("last_order_at", UTC, nullable=True),
        sa.Column("ptc", JSON, nullable=False),
        sa.Column("computed_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("customer_id", name="pk_customer_values"),
    )
    op.create_table(
        "tier_history",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("tier", sa.String(16), nullable=False),
        sa.Column("value", sa.Numeric(14, 2), nullable=False),
        sa.Column("computed_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("customer_id", "period", name="pk_tier_history"),
    )
    op.create_index("ix_tier_history_period", "tier_history", ["period"])
    op.create_table(
        "analytics_runs",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("started_at", UTC, nullable=False),
        sa.Column("finished_at", UTC, nullable=False),
        sa.Column("customers", sa.Integer(), nullable=False),
        sa.Column("order_lines", sa.Integer(), nullable=False),
        sa.Column("associations", sa.Integer(), nullable=False),
        sa.Column("thresholds", JSON, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("analytics_runs")
    op.drop_index("ix_tier_history_period", table_name="tier_history")
    op.drop_table("tier_history")
    op.drop_table("customer_values")
    op.drop_table("product_associations")
