"""Customers, their identities, every touch, and merge audit records."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from contactcenter.db import Base, utcnow

# SQLite only aliases rowid (fast, auto-increment) for INTEGER PRIMARY KEY, not BIGINT.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    display_name: Mapped[str] = mapped_column(String(120), index=True)
    segment: Mapped[str | None] = mapped_column(String(40))
    profile: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Indexed: ccr.holding_ids finds the customers merged into one (their orders are its orders).
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    # The email a visitor typed (pre-chat form): a contact detail, not an identity. Nobody proved it is
    # theirs, so it never finds, merges or blocks a customer; transcripts may go to it (docs/security.md).
    contact_email: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CustomerIdentity(Base):
    __tablename__ = "customer_identities"
    __table_args__ = (UniqueConstraint("kind", "value", name="uq_identity_kind_value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    # Normalised: lower-case email, E.164 phone, '<system>:<id>' for external ids.
    value: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Touch(Base):
    __tablename__ = "touches"
    __table_args__ = (
        # The only index: every touch query is one customer's (timeline, filters, facts, merge). Each index
        # more is written on every insert; kind/time and conversation indexes no query used cost a third of
        # ingest speed (docs/decisions.md, "Touch indexes", "Touch write volume").
        Index("ix_touches_customer_time", "customer_id", "occurred_at", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    channel: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(32))
    direction: Mapped[str] = mapped_column(String(8))
    occurred_at: Mapped[datetime]
    # Plain ids, not foreign keys: staff and conversations belong to other capabilities.
    agent_id: Mapped[int | None]
    conversation_id: Mapped[str | None] = mapped_column(String(64))
    summary: Mapped[str] = mapped_column(String(500))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)


class CustomerMerge(Base):
    __tablename__ = "customer_merges"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    actor_id: Mapped[int]
    reason: Mapped[str] = mapped_column(String(500))
    moved_identities: Mapped[int]
    moved_touches: Mapped[int]
    merged_at: Mapped[datetime] = mapped_column(default=utcnow)
