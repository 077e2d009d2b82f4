"""suggestions: rules, versions, suggestion records

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

import contactcenter.db.base
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rules",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("holdout_pct", sa.Double(), nullable=False),
        sa.Column("updated_at", contactcenter.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rules")),
    )
    op.create_table(
        "suggestion_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("row_id", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("offer", sa.String(length=120), nullable=False),
        sa.Column("script_id", sa.String(length=120), nullable=False),
        sa.Column("priority", sa.Double(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("held_out", sa.Boolean(), nullable=False),
        sa.Column("shown_at", contactcenter.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", contactcenter.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("dismissed_at", contactcenter.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("dismiss_reason", sa.String(length=500), nullable=True),
        sa.Column("acted_by", sa.Integer(), nullable=True),
        sa.Column("converted_at", contactcenter.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("conversion_product", sa.String(length=120), nullable=True),
        sa.Column("conversion_amount", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("conversion_source", sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suggestion_records")),
        sa.UniqueConstraint("conversation_id", "rule_id", "row_id", name="uq_suggestion_records_conv_rule_row"),
    )
    with op.batch_alter_table("suggestion_records", schema=None) as batch_op:
        batch_op.create_index("ix_suggestion_records_customer_time", ["customer_id", "shown_at"], unique=False)
        batch_op.create_index("ix_suggestion_records_rule_version", ["rule_id", "version"], unique=False)

    op.create_table(
        "rule_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "content", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("author", sa.String(length=120), nullable=False),
        sa.Column("comment", sa.String(length=500), nullable=False),
        sa.Column("published_at", contactcenter.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["rule_id"], ["rules.id"], name=op.f("fk_rule_versions_rule_id_rules"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rule_versions")),
        sa.UniqueConstraint("rule_id", "version", name="uq_rule_versions_rule_version"),
    )


def downgrade() -> None:
    op.drop_table("rule_versions")
    with op.batch_alter_table("suggestion_records", schema=None) as batch_op:
        batch_op.drop_index("ix_suggestion_records_rule_version")
        batch_op.drop_index("ix_suggestion_records_customer_time")

    op.drop_table("suggestion_records")
    op.drop_table("rules")
