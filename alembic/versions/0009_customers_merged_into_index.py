"""index customers.merged_into_id: a customer's orders include those of customers merged into it

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ccr.holding_ids looks customers up by merged_into_id on every order list and rules fact gathering.
    op.create_index("ix_customers_merged_into_id", "customers", ["merged_into_id"])


def downgrade() -> None:
    op.drop_index("ix_customers_merged_into_id", table_name="customers")
