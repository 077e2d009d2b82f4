"""Browsing sessions (issue 17 item 4, decision 56): every page-view beacon of a consented visitor extends
their open session, or starts one. A visitor has "left" when no page view came for
CC_ENGAGE_SESSION_GAP_MINUTES; the next beacon after that closes the stale row and starts a new session.

On the beacon path this is one UPDATE in the common case (the session goes on). Starting a session is a
close of the stale row (if any) and one INSERT ... ON CONFLICT on the partial unique index "one open row per
visitor": two beacons that both start a session, in two processes or two tabs, land in one row."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import case, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.consent.schemas import PageView
from contactcenter.engage.facts import cart_prefixes, in_cart
from contactcenter.engage.models import BrowseSession
from contactcenter.settings import Settings

OPEN = text("is_open")


def product_prefixes(settings: Settings) -> tuple[str, ...]:
    return cart_prefixes(settings.engage_product_paths)  # the same form: path fragments, comma-separated


def _first(views: Sequence[PageView], now: datetime) -> datetime:
    # The widget's clock says when the first page of the beacon was opened; kept within the last day and
    # never after the server's now, so a wrong clock cannot move a session far.
    at = min(v.at if v.at.tzinfo else v.at.replace(tzinfo=now.tzinfo) for v in views)
    return max(now - timedelta(days=1), min(at, now))


async def note(
    session: AsyncSession, settings: Settings, *, customer_id: int, views: Sequence[PageView], paths: Sequence[str],
    now: datetime,
) -> None:  # fmt: skip
    """Count a beacon's views (`paths`: each view's path) in the visitor's session; the caller commits."""
    first = _first(views, now)
    gap = timedelta(minutes=settings.engage_session_gap_minutes)
    products = product_prefixes(settings)
    n, p = len(paths), sum(1 for path in paths if in_cart(path, products))
    later = case((BrowseSession.last_seen < now, now), else_=BrowseSession.last_seen)
    goes_on = await session.execute(
        update(BrowseSession)
        .where(BrowseSession.customer_id == customer_id, OPEN, BrowseSession.last_seen >= first - gap)
        .values(last_seen=later, pages=BrowseSession.pages + n, product_pages=BrowseSession.product_pages + p)
        .execution_options(synchronize_session=False)
    )
    if goes_on.rowcount:  # type: ignore[attr-defined]
        return
    # Only a row stale for this beacon is closed: a session another beacon has just started is not.
    await session.execute(
        update(BrowseSession)
        .where(BrowseSession.customer_id == customer_id, OPEN, BrowseSession.last_seen < first - gap)
        .values(is_open=False)
        .execution_options(synchronize_session=False)
    )
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(BrowseSession).values(
        customer_id=customer_id, started_at=first, last_seen=now, pages=n, product_pages=p, is_open=True
    )
    earlier = case(
        (stmt.excluded.started_at < BrowseSession.started_at, stmt.excluded.started_at),
        else_=BrowseSession.started_at,
    )
    merge = {
        "started_at": earlier,
        "last_seen": later,
        "pages": BrowseSession.pages + n,
        "product_pages": BrowseSession.product_pages + p,
    }
    await session.execute(stmt.on_conflict_do_update(index_elements=["customer_id"], index_where=OPEN, set_=merge))
