"""Back-office data mirrored for agents: the product catalogue and customers' orders."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from contactcenter.db import Base, utcnow
from contactcenter.db.base import JSONType


class Product(Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    category: Mapped[str] = mapped_column(String(40), index=True)
    price: Mapped[Decimal] = mapped_column(Numeric(12, 2))


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    quantity: Mapped[int] = mapped_column(default=1)
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    status: Mapped[str] = mapped_column(String(16), default="placed")
    external_ref: Mapped[str | None] = mapped_column(String(64), unique=True)
    placed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class BackOfficeCache(Base):
    """The last good answer of the back office for a customer's orders or a product's stock, shown with its
    time when the back office cannot be reached (so the console never says "no orders" for "no answer")."""

    __tablename__ = "backoffice_cache"
    __table_args__ = (UniqueConstraint("kind", "key", name="uq_backoffice_cache_kind_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # "orders" (key: customer id) or "stock" (key: sku)
    key: Mapped[str] = mapped_column(String(64))
    body: Mapped[Any] = mapped_column(JSONType)
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)
