"""rule_versions.stopped_at / stopped_reason: a version that ran past the time limit is out of force

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa

import contactcenter.db.base
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("rule_versions") as t:
        t.add_column(sa.Column("stopped_at", contactcenter.db.base.UTCDateTime(timezone=True), nullable=True))
        t.add_column(sa.Column("stopped_reason", sa.String(300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("rule_versions") as t:
        t.drop_column("stopped_reason")
        t.drop_column("stopped_at")
