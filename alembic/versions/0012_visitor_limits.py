"""anonymous visitors: customers.contact_email (an unverified detail, not an identity); chat_attachments.sent

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02

Attachments already stored count as sent (kept): only uploads made after this revision are ever swept.
Email identities already stored stay identities: which of them a visitor typed is not recorded.
Safe to run again after an interruption: each step checks what is already there.
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def _columns(table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(op.get_bind()).get_columns(table)}


def upgrade() -> None:
    if "contact_email" not in _columns("customers"):
        op.add_column("customers", sa.Column("contact_email", sa.String(length=320), nullable=True))
    if "sent" not in _columns("chat_attachments"):
        # The server default fills the rows already there (the model sets the value of new ones itself); it
        # stays, since dropping it would rebuild the table on SQLite, blobs and all.
        op.add_column("chat_attachments", sa.Column("sent", sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN, never a rebuild (decision in 0010).
    op.drop_column("chat_attachments", "sent")
    op.drop_column("customers", "contact_email")
