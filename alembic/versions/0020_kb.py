"""kb: knowledge-base articles, translations, votes, and a full-text index per backend

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa

import contactcenter.db.base
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

UTC = contactcenter.db.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "kb_articles",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("slug", sa.String(80), nullable=False, unique=True),
        sa.Column("category", sa.String(60), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("views", sa.Integer(), nullable=False),
        sa.Column("helped", sa.Integer(), nullable=False),
        sa.Column("not_helped", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
    )
    op.create_index("ix_kb_articles_category", "kb_articles", ["category"])
    op.create_table(
        "kb_translations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("article_id", sa.Integer(), sa.ForeignKey("kb_articles.id", ondelete="CASCADE"), nullable=False),
        sa.Column("lang", sa.String(12), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("body_md", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.UniqueConstraint("article_id", "lang", name="uq_kb_translations_article_lang"),
    )
    op.create_index("ix_kb_translations_article_id", "kb_translations", ["article_id"])
    op.create_table(
        "kb_votes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("article_id", sa.Integer(), sa.ForeignKey("kb_articles.id", ondelete="CASCADE"), nullable=False),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("helped", sa.Boolean(), nullable=False),
        sa.Column("at", UTC, nullable=False),
        sa.UniqueConstraint("article_id", "customer_id", name="uq_kb_votes_article_customer"),
    )
    op.create_index("ix_kb_votes_customer", "kb_votes", ["customer_id"])
    # The full-text index (decision 40): the models do not describe it (kb/models.py SEARCH_*).
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE kb_translations ADD COLUMN search tsvector"
            " GENERATED ALWAYS AS (to_tsvector('simple', search_text)) STORED"
        )
        op.execute("CREATE INDEX ix_kb_translations_search ON kb_translations USING GIN (search)")
    else:
        op.execute("CREATE VIRTUAL TABLE kb_fts USING fts5(title, body, tokenize = 'unicode61 remove_diacritics 2')")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.execute("DROP TABLE kb_fts")
    op.drop_table("kb_votes")
    op.drop_table("kb_translations")
    op.drop_table("kb_articles")
