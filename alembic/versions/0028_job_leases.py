"""job_leases: one holder at a time for long jobs (the full analytics run), across processes

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa

import contactcenter.db.base
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

UTC = contactcenter.db.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "job_leases",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("holder", sa.String(80), nullable=False),
        sa.Column("until", UTC, nullable=False),
        sa.Column("started_at", UTC, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("job_leases")
