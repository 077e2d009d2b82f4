"""Back-office connectors: where the console reads a customer's orders and a product's stock live.

A connector answers for one identity at a time (an email, a phone number, an external id): the order system
knows the customer by whichever it was given, so the caller asks for every identity the customer has. The
reference connector speaks a small REST API (docs/integration.md); another system needs one class.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Protocol
from urllib.parse import quote

import httpx
from pydantic import BaseModel, Field, ValidationError

from contactcenter.integration.schemas import OrderStatus

MAX_RESPONSE_BYTES = 1 << 20  # a back office that answers with more than this is answering wrongly


class ExternalOrder(BaseModel):
    """One order as the back office reports it."""

    ref: str = Field(min_length=1, max_length=64)
    sku: str = Field(min_length=1, max_length=40)
    product_name: str = Field(default="", max_length=200)
    quantity: int = Field(default=1, ge=0, le=1_000_000)
    amount: Decimal = Field(ge=0, max_digits=14, decimal_places=2)
    status: OrderStatus
    placed_at: datetime


class OrdersAnswer(BaseModel):
    orders: list[ExternalOrder] = Field(max_length=1000)


class StockLevel(BaseModel):
    sku: str = Field(min_length=1, max_length=40)
    available: int = Field(ge=0)
    updated_at: datetime | None = None


class ConnectorError(Exception):
    """The back office could not be reached, or answered with something that is not an answer."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code, self.detail = code, detail


class BackOffice(Protocol):
    name: str

    async def orders(self, *, kind: str, value: str) -> list[ExternalOrder]: ...

    async def stock(self, *, sku: str) -> StockLevel | None: ...


class RestBackOffice:
    """GET {base}/orders?kind=email&value=... and GET {base}/stock/{sku}, a bearer token if configured."""

    name = "rest"

    def __init__(self, base_url: str, *, token: str = "", timeout_s: float = 2.0) -> None:
        self.base_url, self.token, self.timeout_s = base_url.rstrip("/"), token, timeout_s

    async def _get(self, path: str, params: dict[str, str] | None = None) -> bytes | None:
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            async with httpx.AsyncClient(timeout=self.timeout_s, follow_redirects=False) as client:
                r = await client.get(self.base_url + path, params=params, headers=headers)
        except httpx.TimeoutException as exc:
            raise ConnectorError("timeout", f"no answer within {self.timeout_s:g} s") from exc
        except httpx.HTTPError as exc:
            raise ConnectorError("unreachable", type(exc).__name__) from exc
        if r.status_code == 404:
            return None
        if r.status_code != 200:
            raise ConnectorError("bad_status", f"HTTP {r.status_code}")
        if len(r.content) > MAX_RESPONSE_BYTES:
            raise ConnectorError("bad_response", "the answer is too big")
        return r.content

    async def orders(self, *, kind: str, value: str) -> list[ExternalOrder]:
        body = await self._get("/orders", {"kind": kind, "value": value})
        if body is None:
            return []
        try:
            return OrdersAnswer.model_validate_json(body).orders
        except ValidationError as exc:
            raise ConnectorError("bad_response", f"not an orders answer ({exc.error_count()} problems)") from exc

    async def stock(self, *, sku: str) -> StockLevel | None:
        body = await self._get(f"/stock/{quote(sku, safe='')}")  # a slash in a SKU must not walk paths
        if body is None:
            return None
        try:
            return StockLevel.model_validate_json(body)
        except ValidationError as exc:
            raise ConnectorError("bad_response", "not a stock answer") from exc


def identities_to_ask(identities: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """The (kind, value) pairs a back office can know a customer by: not our own visitor ids."""
    return sorted({(k, v) for k, v in identities if k != "visitor"})
