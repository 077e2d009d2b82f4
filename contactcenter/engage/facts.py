"""Browsing facts (issue 17 item 2): what a visitor's page views, sent with "browsing" consent and stored as
web touches (consent/pageviews.py), say about them: the page they are on, the time there, visits to it, and a
cart or application form left unfinished. The rules read them as web.* (rulefacts.py); the invitation check
reads the same with the page the widget is on now laid over the stored ones (`live`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.ccr import service as ccr
from contactcenter.ccr.models import Touch
from contactcenter.ccr.schemas import TouchKind
from contactcenter.conversations.models import Conversation
from contactcenter.integration.models import Order

WINDOW_DAYS = 30
MAX_VIEWS = 500  # the newest page views read per customer: enough for 30 days of any real visitor


@dataclass(frozen=True)
class View:
    path: str
    at: datetime
    seconds: int


def cart_prefixes(spec: str) -> tuple[str, ...]:
    """CC_ENGAGE_CART_PATHS ("/cart,/checkout") as path prefixes; each must start with a slash."""
    return tuple(p.strip() for p in spec.split(",") if p.strip().startswith("/"))


def in_cart(path: str, prefixes: tuple[str, ...]) -> bool:
    # A prefix matches the path itself or any path under it, whatever the site's own folder before it
    # (the demo site lives under /demo/): "/cart" matches "/cart", "/cart/2" and "/demo/cart.html".
    return any(p in path for p in prefixes)


async def views(session: AsyncSession, *, customer_id: int, now: datetime) -> list[View]:
    """The customer's page views of the last 30 days (and those of customers merged into it), newest first."""
    rows = await session.execute(
        select(Touch.payload, Touch.occurred_at)
        .where(
            Touch.customer_id.in_(ccr.holding_ids(customer_id)),
            Touch.kind == TouchKind.page_view.value,
            Touch.occurred_at >= now - timedelta(days=WINDOW_DAYS),
        )
        .order_by(Touch.occurred_at.desc(), Touch.id.desc())
        .limit(MAX_VIEWS)
    )
    found = []
    for payload, at in rows.all():
        path = str((payload or {}).get("path") or "/")[:500]
        seconds = (payload or {}).get("seconds")
        found.append(View(path, at, int(seconds) if isinstance(seconds, int | float) else 0))
    return found


async def _last_contact_or_order(session: AsyncSession, customer_id: int) -> datetime | None:
    holders = ccr.holding_ids(customer_id)
    conv = await session.scalar(select(func.max(Conversation.created_at)).where(Conversation.customer_id.in_(holders)))
    order = await session.scalar(select(func.max(Order.placed_at)).where(Order.customer_id.in_(holders)))
    known = [t for t in (conv, order) if t is not None]
    return max(known) if known else None


async def browsing(
    session: AsyncSession,
    *,
    customer_id: int,
    now: datetime,
    cart: tuple[str, ...],
    live: tuple[str, int] | None = None,
) -> dict[str, Any]:
    """The web.* facts: from the stored page views, or with `live` = (path, seconds) the page the visitor is on
    now counted as the current one (its beacon is sent only when they leave it)."""
    seen = await views(session, customer_id=customer_id, now=now)
    if live is not None:
        page: str | None = live[0]
        seconds = live[1]
        visits = 1 + sum(1 for v in seen if v.path == page)
        pages = 1 + len(seen)
    else:
        page = seen[0].path if seen else None
        seconds = seen[0].seconds if seen else 0
        visits = sum(1 for v in seen if v.path == page) if page else 0
        pages = len(seen)
    carts = [v for v in seen if in_cart(v.path, cart)]
    left = False
    if carts and not (page is not None and live is not None and in_cart(page, cart)):
        since = await _last_contact_or_order(session, customer_id)
        left = since is None or since < carts[0].at
    return {
        "page": page,
        "seconds_here": seconds,
        "visits_to_page": visits,
        "pages_viewed": pages,
        "cart_left": left,
    }
