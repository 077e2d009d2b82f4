"""The knowledge base's tables: articles, their translations, and visitors' "did this help?" votes.

The full-text index is backend-specific and lives in the migration only (0020): an FTS5 table `kb_fts` on
SQLite, a generated tsvector column `search` with a GIN index on PostgreSQL (decision 40)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from contactcenter.db import Base, utcnow

# What the index adds that the models do not describe (the schema-drift check and autogenerate skip them).
SEARCH_TABLES = frozenset({"kb_fts", "kb_fts_data", "kb_fts_idx", "kb_fts_content", "kb_fts_docsize", "kb_fts_config"})
SEARCH_COLUMNS = frozenset({("kb_translations", "search")})
SEARCH_INDEXES = frozenset({"ix_kb_translations_search"})


class KbArticle(Base):
    __tablename__ = "kb_articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    category: Mapped[str] = mapped_column(String(60), default="general", index=True)
    # draft -> published (only published articles are shown to customers)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    views: Mapped[int] = mapped_column(default=0)
    helped: Mapped[int] = mapped_column(default=0)
    not_helped: Mapped[int] = mapped_column(default=0)
    author_id: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class KbTranslation(Base):
    __tablename__ = "kb_translations"
    __table_args__ = (UniqueConstraint("article_id", "lang", name="uq_kb_translations_article_lang"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id", ondelete="CASCADE"), index=True)
    lang: Mapped[str] = mapped_column(String(12))  # a primary language subtag: "en", "zh", "es", "vi"
    title: Mapped[str] = mapped_column(String(200))
    body_md: Mapped[str] = mapped_column(Text)  # what the author wrote
    body_html: Mapped[str] = mapped_column(Text)  # rendered and sanitised once, at write time
    # Title and plain body folded for search (lower case, no diacritics): what both indexes read.
    search_text: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class KbVote(Base):
    """One vote per visitor (customer) and article; voting again changes it."""

    __tablename__ = "kb_votes"
    __table_args__ = (
        UniqueConstraint("article_id", "customer_id", name="uq_kb_votes_article_customer"),
        Index("ix_kb_votes_customer", "customer_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    helped: Mapped[bool]
    at: Mapped[datetime] = mapped_column(default=utcnow)


class KbFailedSearch(Base):
    """ "Searched, opened nothing, then asked for help": a failed self-service, as the widget reports it when
    the visitor starts a chat or a callback (the last text searched, for the writers)."""

    __tablename__ = "kb_failed_searches"
    __table_args__ = (Index("ix_kb_failed_searches_at", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    query: Mapped[str] = mapped_column(String(200))
    lang: Mapped[str] = mapped_column(String(12))
    asked: Mapped[str] = mapped_column(String(16))  # "chat" | "callback": what the visitor asked for instead
    at: Mapped[datetime] = mapped_column(default=utcnow)
