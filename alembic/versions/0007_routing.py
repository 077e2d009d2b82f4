"""routing: queues and agent routing profiles

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

import contactcenter.db.base
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "routing_queues",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("skills", JSON, nullable=False),
        sa.Column("target_s", sa.Integer(), nullable=False),
        sa.Column("created_at", contactcenter.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_queues")),
    )
    op.create_table(
        "routing_agent_profiles",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("skills", JSON, nullable=False),
        sa.Column("capacity", sa.Float(), nullable=False),
        sa.Column("weights", JSON, nullable=False),
        sa.Column("auto_accept", sa.Boolean(), nullable=True),
        sa.Column("updated_at", contactcenter.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["staff_users.id"],
            name=op.f("fk_routing_agent_profiles_user_id_staff_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_routing_agent_profiles")),
    )


def downgrade() -> None:
    op.drop_table("routing_agent_profiles")
    op.drop_table("routing_queues")
