"""engage_sessions: consented visitors' browsing sessions, for the abandon rate over every product-viewing
session; csat_ratings.declined_at: the customer's "No thanks" (decision 56)

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa

import contactcenter.db.base
from alembic import op

revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None

UTC = contactcenter.db.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "engage_sessions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("started_at", UTC, nullable=False),
        sa.Column("last_seen", UTC, nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("product_pages", sa.Integer(), nullable=False),
        sa.Column("is_open", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_engage_sessions_started", "engage_sessions", ["started_at"])
    op.create_index(
        "ux_engage_sessions_open",
        "engage_sessions",
        ["customer_id"],
        unique=True,
        sqlite_where=sa.text("is_open"),
        postgresql_where=sa.text("is_open"),
    )
    op.add_column("csat_ratings", sa.Column("declined_at", UTC, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("csat_ratings") as batch:  # SQLite: dropping a column rebuilds the table
        batch.drop_column("declined_at")
    op.drop_index("ux_engage_sessions_open", table_name="engage_sessions")
    op.drop_index("ix_engage_sessions_started", table_name="engage_sessions")
    op.drop_table("engage_sessions")
