"""backoffice_cache: the last good answer of the back office (orders per customer, stock per product)

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa

import contactcenter.db.base
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

UTC = contactcenter.db.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "backoffice_cache",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("body", contactcenter.db.base.JSONType, nullable=False),
        sa.Column("fetched_at", UTC, nullable=False),
        sa.UniqueConstraint("kind", "key", name="uq_backoffice_cache_kind_key"),
    )


def downgrade() -> None:
    op.drop_table("backoffice_cache")
