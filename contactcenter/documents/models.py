"""The document library and its pushes: a document's bytes are kept in the database (as chat attachments
are: one backup holds everything); a push is one document shown to one conversation's customer, with its
receipts (opened, the seconds spent on each page, closed)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from contactcenter.db import Base, UTCDateTime, utcnow
from contactcenter.db.base import JSONType


class Document(Base):
    __tablename__ = "documents"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    # Lower-cased title and tags, searched with LIKE on either backend (a library holds hundreds, not millions).
    search: Mapped[str] = mapped_column(String(1200))
    tags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(80))  # sniffed from the bytes, never the name
    size: Mapped[int]
    data: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True), default=utcnow)
    # A removed document stays for the pushes and touches that name it; it is no longer listed nor pushed.
    removed: Mapped[bool] = mapped_column(default=False)


class DocumentPush(Base):
    __tablename__ = "document_pushes"
    __table_args__ = (Index("ix_document_pushes_conversation", "conversation_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    customer_id: Mapped[int]
    agent_id: Mapped[int]
    pushed_at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True))
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime(timezone=True), default=None)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(timezone=True), default=None)
    page_count: Mapped[int | None] = mapped_column(default=None)  # as the viewer found it (a PDF's pages)
    # {"1": 12.5, "3": 4.0}: seconds the customer had each page in view, as the widget reports them.
    page_seconds: Mapped[dict[str, float]] = mapped_column(JSONType, default=dict)
