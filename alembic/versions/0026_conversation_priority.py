"""conversations.priority: the routing priority a contact entered with, so a routing restart keeps it

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-02

A plain ADD COLUMN with a server default (existing rows: 0, as routing saw them). Safe to run again.
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def _has_priority() -> bool:
    return "priority" in {c["name"] for c in sa.inspect(op.get_bind()).get_columns("conversations")}


def upgrade() -> None:
    if not _has_priority():
        op.add_column("conversations", sa.Column("priority", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    if _has_priority():
        op.execute("ALTER TABLE conversations DROP COLUMN priority")
