"""documents and document_pushes: the document library and what was pushed to whom, with its receipts

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa

import contactcenter.db.base
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("search", sa.String(1200), nullable=False),
        sa.Column("tags", contactcenter.db.base.JSONType, nullable=False),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("content_type", sa.String(80), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_by", sa.Integer(), nullable=False),
        sa.Column("created_at", contactcenter.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("removed", sa.Boolean(), nullable=False),
    )
    op.create_table(
        "document_pushes",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("document_id", sa.String(36), sa.ForeignKey("documents.id", ondelete="CASCADE"), nullable=False),
        sa.Column(
            "conversation_id", sa.String(36), sa.ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("pushed_at", contactcenter.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", contactcenter.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("opened_at", contactcenter.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", contactcenter.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("page_count", sa.Integer(), nullable=True),
        sa.Column("page_seconds", contactcenter.db.base.JSONType, nullable=False),
    )
    op.create_index("ix_document_pushes_conversation", "document_pushes", ["conversation_id"])


def downgrade() -> None:
    op.drop_index("ix_document_pushes_conversation", table_name="document_pushes")
    op.drop_table("document_pushes")
    op.drop_table("documents")
