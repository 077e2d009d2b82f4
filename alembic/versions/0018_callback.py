"""callback_requests: web callback requests, stored before the customer is told

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa

import contactcenter.db.base
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    when = contactcenter.db.base.UTCDateTime(timezone=True)
    op.create_table(
        "callback_requests",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("reference", sa.String(16), nullable=False),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("idempotency_key", sa.String(64), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("phone", sa.String(20), nullable=True),
        sa.Column("mode", sa.String(8), nullable=False),
        sa.Column("topic", sa.String(200), nullable=True),
        sa.Column("queue", sa.String(40), nullable=False),
        sa.Column("lang", sa.String(35), nullable=True),
        sa.Column("page_url", sa.String(500), nullable=True),
        sa.Column("slot_start", when, nullable=True),
        sa.Column("slot_end", when, nullable=True),
        sa.Column("slot_seat", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("due_at", when, nullable=False),
        sa.Column("window_end", when, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(36), nullable=True),
        sa.Column("last_outcome", sa.String(16), nullable=True),
        sa.Column("note", sa.String(500), nullable=True),
        sa.Column("created_at", when, nullable=False),
        sa.Column("started_at", when, nullable=True),
        sa.Column("closed_at", when, nullable=True),
        sa.UniqueConstraint("reference", name="uq_callback_requests_reference"),
        sa.UniqueConstraint("customer_id", "idempotency_key", name="uq_callback_requests_customer_key"),
        sa.UniqueConstraint("queue", "slot_start", "slot_seat", name="uq_callback_requests_seat"),
    )
    op.create_index("ix_callback_requests_customer_id", "callback_requests", ["customer_id"])
    op.create_index("ix_callback_requests_conversation_id", "callback_requests", ["conversation_id"])
    op.create_index("ix_callback_requests_status_due", "callback_requests", ["status", "due_at"])


def downgrade() -> None:
    op.drop_index("ix_callback_requests_status_due", table_name="callback_requests")
    op.drop_index("ix_callback_requests_conversation_id", table_name="callback_requests")
    op.drop_index("ix_callback_requests_customer_id", table_name="callback_requests")
    op.drop_table("callback_requests")
