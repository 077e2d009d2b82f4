"""email_raw: every accepted inbound mail's bytes, stored before the SMTP 250

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa

import contactcenter.db.base
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "email_raw",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("mail_from", sa.String(320), nullable=False),
        sa.Column("rcpt_to", contactcenter.db.base.JSONType, nullable=False),
        sa.Column("peer", sa.String(100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("received_at", contactcenter.db.base.UTCDateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_email_raw_sha256", "email_raw", ["sha256"])


def downgrade() -> None:
    op.drop_index("ix_email_raw_sha256", table_name="email_raw")
    op.drop_table("email_raw")
