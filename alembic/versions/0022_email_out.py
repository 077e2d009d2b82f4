"""email_out (replies, acknowledgements and notes: the outbox of outbound mail) and email_clocks (first
response)

Revision ID: 0022
Revises: 0020
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa

import contactcenter.db.base
from alembic import op

revision = "0022"
down_revision = "0020"
branch_labels = None
depends_on = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = contactcenter.db.base.UTCDateTime(timezone=True)
JSON = contactcenter.db.base.JSONType


def upgrade() -> None:
    op.create_table(
        "email_out",
        sa.Column("id", BIG, autoincrement=True),
        sa.Column(
            "conversation_id",
            sa.String(36),
            sa.ForeignKey("conversations.id", name="fk_email_out_conversation_id_conversations"),
            nullable=False,
        ),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("agent_name", sa.String(120), nullable=False),
        sa.Column("message_id", sa.String(500), nullable=True),
        sa.Column("in_reply_to", sa.String(500), nullable=True),
        sa.Column("ref_ids", JSON, nullable=False),
        sa.Column("to_addr", sa.String(320), nullable=False),
        sa.Column("subject", sa.String(500), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("attachments", JSON, nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=True),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_at", UTC, nullable=False),
        sa.Column("last_error", sa.String(300), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("sent_at", UTC, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_email_out"),
        sa.UniqueConstraint("message_id", name="uq_email_out_message_id"),
    )
    op.create_index("ix_email_out_conversation_id", "email_out", ["conversation_id"])
    op.create_index("ix_email_out_due", "email_out", ["status", "next_at"])
    op.create_index("ix_email_out_ack", "email_out", ["to_addr", "kind"])
    op.create_table(
        "email_clocks",
        sa.Column("id", BIG, autoincrement=True),
        sa.Column(
            "conversation_id",
            sa.String(36),
            sa.ForeignKey("conversations.id", name="fk_email_clocks_conversation_id_conversations"),
            nullable=False,
        ),
        sa.Column(
            "email_message_id",
            BIG,
            sa.ForeignKey("email_messages.id", name="fk_email_clocks_email_message_id_email_messages"),
            nullable=False,
        ),
        sa.Column("started_at", UTC, nullable=False),
        sa.Column("due_at", UTC, nullable=False),
        sa.Column("stopped_at", UTC, nullable=True),
        sa.Column("stopped_by", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_email_clocks"),
    )
    op.create_index("ix_email_clocks_conversation_id", "email_clocks", ["conversation_id"])
    op.create_index("ix_email_clocks_running", "email_clocks", ["stopped_at", "due_at"])


def downgrade() -> None:
    op.drop_table("email_clocks")
    op.drop_table("email_out")
