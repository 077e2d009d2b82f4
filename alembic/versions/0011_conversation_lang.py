"""conversations.lang: the customer's language, as the widget chose it

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02

A plain ADD COLUMN (never a table rebuild: see 0010). Safe to run again: the column is added only if missing.
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def _has_lang() -> bool:
    return "lang" in {c["name"] for c in sa.inspect(op.get_bind()).get_columns("conversations")}


def upgrade() -> None:
    if not _has_lang():
        op.add_column("conversations", sa.Column("lang", sa.String(length=35), nullable=True))


def downgrade() -> None:
    if _has_lang():
        op.execute("ALTER TABLE conversations DROP COLUMN lang")
