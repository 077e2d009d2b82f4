"""Bodies and replies for products and orders."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class OrderStatus(enum.StrEnum):
    placed = "placed"
    active = "active"
    shipped = "shipped"
    cancelled = "cancelled"
    closed = "closed"


class ProductOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    sku: str
    name: str
    category: str
    price: Decimal


class OrderIn(BaseModel):
    customer_id: int = Field(gt=0)
    sku: str = Field(min_length=1, max_length=40)
    quantity: int = Field(default=1, ge=1, le=10_000)
    amount: Decimal = Field(ge=0, max_digits=12, decimal_places=2)
    status: OrderStatus = OrderStatus.placed
    external_ref: str | None = Field(default=None, max_length=64)
    placed_at: datetime | None = None

    @field_validator("placed_at")
    @classmethod
    def _utc(cls, v: datetime | None) -> datetime | None:
        """A time without a zone (a CSV export, a plain date) is taken as UTC; stored times are always aware."""
        return v.replace(tzinfo=UTC) if v is not None and v.tzinfo is None else v


class OrderOut(BaseModel):
    id: int
    customer_id: int
    sku: str
    product_name: str
    quantity: int
    amount: Decimal
    status: OrderStatus
    external_ref: str | None
    placed_at: datetime
