"""email_raw.state; email_messages (parsed, threaded mail in conversations) and email_refs (thread ids)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02

Rows already in email_raw are "new": the ingest worker files them at its next start.
"""

from __future__ import annotations

import sqlalchemy as sa

import contactcenter.db.base
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = contactcenter.db.base.UTCDateTime(timezone=True)
JSON = contactcenter.db.base.JSONType


def upgrade() -> None:
    op.add_column("email_raw", sa.Column("state", sa.String(16), nullable=False, server_default="new"))
    op.create_index("ix_email_raw_state", "email_raw", ["state"])
    op.create_table(
        "email_messages",
        sa.Column("id", BIG, autoincrement=True),
        sa.Column(
            "raw_id", BIG, sa.ForeignKey("email_raw.id", name="fk_email_messages_raw_id_email_raw"), nullable=False
        ),
        sa.Column(
            "conversation_id",
            sa.String(36),
            sa.ForeignKey("conversations.id", name="fk_email_messages_conversation_id_conversations"),
            nullable=False,
        ),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(500), nullable=True),
        sa.Column("in_reply_to", sa.String(500), nullable=True),
        sa.Column("ref_ids", JSON, nullable=False),
        sa.Column("subject", sa.String(500), nullable=False),
        sa.Column("subject_key", sa.String(200), nullable=False),
        sa.Column("from_addr", sa.String(320), nullable=False),
        sa.Column("from_name", sa.String(120), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("display_text", sa.Text(), nullable=False),
        sa.Column("attachments", JSON, nullable=False),
        sa.Column("automatic", sa.Boolean(), nullable=False),
        sa.Column("unreadable", sa.Boolean(), nullable=False),
        sa.Column("defects", JSON, nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("received_at", UTC, nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_email_messages"),
        sa.UniqueConstraint("raw_id", name="uq_email_messages_raw_id"),
    )
    op.create_index("ix_email_messages_conversation_id", "email_messages", ["conversation_id"])
    op.create_index("ix_email_messages_message_id", "email_messages", ["message_id"])
    op.create_index("ix_email_messages_customer_subject", "email_messages", ["customer_id", "subject_key"])
    op.create_table(
        "email_refs",
        sa.Column("id", BIG, autoincrement=True),
        sa.Column(
            "email_message_id",
            BIG,
            sa.ForeignKey(
                "email_messages.id", name="fk_email_refs_email_message_id_email_messages", ondelete="CASCADE"
            ),
            nullable=False,
        ),
        sa.Column("ref", sa.String(500), nullable=False),
        sa.Column("direct", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_email_refs"),
    )
    op.create_index("ix_email_refs_email_message_id", "email_refs", ["email_message_id"])
    op.create_index("ix_email_refs_ref", "email_refs", ["ref"])


def downgrade() -> None:
    op.drop_table("email_refs")
    op.drop_table("email_messages")
    op.drop_index("ix_email_raw_state", table_name="email_raw")
    op.drop_column("email_raw", "state")
