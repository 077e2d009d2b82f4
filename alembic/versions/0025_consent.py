"""consent: visitors' answers per purpose and policy version (issue 17 item 1); kb: failed self-service

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa

import contactcenter.db.base
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

UTC = contactcenter.db.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "visitor_consents",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("visitor_id", sa.String(64), nullable=False),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("version", sa.String(40), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("at", UTC, nullable=False),
        sa.Column("after_id", sa.Integer(), nullable=False),
        sa.UniqueConstraint("customer_id", "purpose", "after_id", name="uq_visitor_consents_chain"),
    )
    op.create_index("ix_visitor_consents_customer_purpose", "visitor_consents", ["customer_id", "purpose", "id"])
    op.create_table(
        "kb_failed_searches",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("query", sa.String(200), nullable=False),
        sa.Column("lang", sa.String(12), nullable=False),
        sa.Column("asked", sa.String(16), nullable=False),
        sa.Column("at", UTC, nullable=False),
    )
    op.create_index("ix_kb_failed_searches_at", "kb_failed_searches", ["at"])


def downgrade() -> None:
    op.drop_index("ix_kb_failed_searches_at", table_name="kb_failed_searches")
    op.drop_table("kb_failed_searches")
    op.drop_index("ix_visitor_consents_customer_purpose", table_name="visitor_consents")
    op.drop_table("visitor_consents")
