"""email_imap_cursors: how far the optional IMAP poller has stored and finished each mailbox; email_clocks
gains warned_at / breached_at (the due-soon and overdue alerts, each sent once)

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa

import contactcenter.db.base
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

UTC = contactcenter.db.base.UTCDateTime(timezone=True)
BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "email_imap_cursors",
        sa.Column("mailbox", sa.String(300), primary_key=True),
        sa.Column("uidvalidity", BIG, nullable=False),
        sa.Column("last_uid", BIG, nullable=False),
        sa.Column("done_uid", BIG, nullable=False),
        sa.Column("holder", sa.String(80), nullable=True),
        sa.Column("until", UTC, nullable=False),
        sa.Column("polled_at", UTC, nullable=True),
        sa.Column("stored", BIG, nullable=False),
        sa.Column("last_error", sa.String(300), nullable=True),
    )
    with op.batch_alter_table("email_clocks") as batch:
        batch.add_column(sa.Column("warned_at", UTC, nullable=True))
        batch.add_column(sa.Column("breached_at", UTC, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("email_clocks") as batch:
        batch.drop_column("breached_at")
        batch.drop_column("warned_at")
    op.drop_table("email_imap_cursors")
