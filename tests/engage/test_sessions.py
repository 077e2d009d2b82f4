"""Browsing sessions on both backends (decision 56): beacons extend one session per visitor, a beacon after
the gap starts a new one, concurrent beacons (a fresh visitor, or one back after the gap) land in a single
open session; the abandon report counts every product-viewing session that ended, once, invited / held
out / never invited, with a contact of any channel or an order keeping it; planners only."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from decimal import Decimal

from fastapi import FastAPI
from sqlalchemy import select, update

from contactcenter.conversations.models import Conversation
from contactcenter.db import utcnow
from contactcenter.engage import abandon, service
from contactcenter.engage.models import BrowseSession
from contactcenter.integration.models import Order, Product
from tests.engage.conftest import PLAIN, PRICING, People, Visitor, visitor

CONTACT = "https://bank.example/demo/contact.html"  # not a product page
FUND = "https://bank.example/demo/funds/global-equity.html"


async def _sessions(app: FastAPI, customer_id: int) -> list[BrowseSession]:
    async with app.state.db.session() as s:
        q = select(BrowseSession).where(BrowseSession.customer_id == customer_id).order_by(BrowseSession.id)
        return list(await s.scalars(q))


async def _age(app: FastAPI, customer_id: int, minutes: float) -> None:
    """Move the visitor's sessions back in time, as if their last page view came `minutes` ago."""
    async with app.state.db.session() as s:
        rows = list(await s.scalars(select(BrowseSession).where(BrowseSession.customer_id == customer_id)))
        for row in rows:
            shift = utcnow() - timedelta(minutes=minutes) - row.last_seen
            await s.execute(
                update(BrowseSession)
                .where(BrowseSession.id == row.id)
                .values(started_at=row.started_at + shift, last_seen=row.last_seen + shift)
            )
        await s.commit()


async def test_beacons_extend_one_session_and_a_beacon_after_the_gap_starts_another(app: FastAPI) -> None:
    v = await visitor(app)
    await v.beacon((CONTACT, 5))
    await v.beacon((PRICING, 40), (FUND, 10))
    [one] = await _sessions(app, v.customer_id)
    assert (one.pages, one.product_pages, one.is_open) == (3, 2, True)
    assert one.started_at <= one.last_seen
    await _age(app, v.customer_id, 29)  # within the 30 minutes: still the same visit
    await v.beacon((FUND, 3))
    [one] = await _sessions(app, v.customer_id)
    assert (one.pages, one.product_pages) == (4, 3)
    await _age(app, v.customer_id, 31)  # left: the next beacon is a new visit
    await v.beacon((CONTACT, 2))
    old, new = await _sessions(app, v.customer_id)
    assert (old.pages, old.product_pages, old.is_open) == (4, 3, False)
    assert (new.pages, new.product_pages, new.is_open) == (1, 0, True)


async def test_concurrent_beacons_of_a_new_visitor_make_one_session(app: FastAPI) -> None:
    v = await visitor(app)
    await asyncio.gather(*(v.beacon((FUND if n % 2 else CONTACT, n)) for n in range(12)))
    [one] = await _sessions(app, v.customer_id)
    assert (one.pages, one.product_pages, one.is_open) == (12, 6, True)


async def test_concurrent_beacons_after_the_gap_close_the_old_session_once_and_share_the_new(app: FastAPI) -> None:
    v = await visitor(app)
    await v.beacon((FUND, 5))
    await _age(app, v.customer_id, 45)
    await asyncio.gather(*(v.beacon((PRICING, n)) for n in range(10)))
    old, new = await _sessions(app, v.customer_id)
    assert (old.pages, old.is_open) == (1, False)
    assert (new.pages, new.product_pages, new.is_open) == (10, 10, True)


async def _order(app: FastAPI, customer_id: int) -> None:
    async with app.state.db.session() as s:
        product = Product(sku=f"SKU-{customer_id}", name="Fund", category="funds", price=Decimal("10.00"))
        s.add(product)
        await s.flush()
        s.add(Order(customer_id=customer_id, product_id=product.id, amount=Decimal("10.00"), placed_at=utcnow()))
        await s.commit()


async def _chat(app: FastAPI, customer_id: int) -> None:
    async with app.state.db.session() as s:
        now = utcnow()
        s.add(Conversation(id=f"sess-{customer_id}", customer_id=customer_id, customer_name="V", status="closed",
                           created_at=now, closed_at=now))  # fmt: skip
        await s.commit()


async def _arrive_and_leave(v: Visitor, url: str, seconds: int) -> None:
    """A page opened `seconds` ago and left now: its beacon, as the widget sends it on leave."""
    at = (utcnow() - timedelta(seconds=seconds)).isoformat()
    body = {"token": v.token, "views": [{"url": url, "title": "Page", "at": at, "seconds": seconds}]}
    r = await v.c.post("/api/consent/pageviews", content=json.dumps(body), headers=PLAIN)
    assert r.status_code == 202, r.text


async def test_the_report_counts_every_ended_product_session_once_by_group(app: FastAPI, people: People) -> None:
    app.state.settings.engage_holdout_pct = 50.0
    invited: list[Visitor] = []
    held: list[Visitor] = []
    while len(invited) < 3 or len(held) < 2:  # visitors a rule picks: invited or held out by their hash
        v = await visitor(app)
        r = await v.check(url=PRICING, seconds=100)  # on the pricing page for 100 s: the rule picks them
        assert r.status_code == 200, r.text
        (invited if r.json()["invitation"] else held).append(v)
        assert (r.json()["invitation"] is None) == service.held_out(v.customer_id, 50.0)
        await _arrive_and_leave(v, PRICING, 120)
    never = [await visitor(app) for _ in range(3)]
    for v in never:
        await _arrive_and_leave(v, FUND, 8)
    browsing_only = await visitor(app)  # no product page: not in the report
    await _arrive_and_leave(browsing_only, CONTACT, 8)
    await _chat(app, invited[0].customer_id)  # kept: a contact
    await _order(app, held[0].customer_id)  # kept: an order
    await _chat(app, never[0].customer_id)
    await _order(app, never[0].customer_id)  # both: kept, and counted once
    n_inv, n_held = len(invited), len(held)

    staff = await people("plan", "a1", "sup")
    # Now: nobody has left yet (their last page view is not 30 minutes old), so nothing is abandoned.
    r = await staff["plan"].c.get("/api/engage/sessions", params={"days": 7})
    assert r.status_code == 200, r.text
    now = r.json()
    assert now["ongoing"] == n_inv + n_held + 3 and now["gap_minutes"] == 30 and now["by_day"] == []
    assert now["invited"] == now["held_out"] == now["never"] == {
        "sessions": 0, "contacted": 0, "ordered": 0, "abandoned": 0,
    }  # fmt: skip
    # 40 minutes on, every one of them has left.
    async with app.state.db.session() as s:
        got = await abandon.report(s, days=7, gap_minutes=30, now=utcnow() + timedelta(minutes=40))
    assert got.ongoing == 0
    assert got.invited.model_dump() == {"sessions": n_inv, "contacted": 1, "ordered": 0, "abandoned": n_inv - 1}
    assert got.held_out.model_dump() == {"sessions": n_held, "contacted": 0, "ordered": 1, "abandoned": n_held - 1}
    assert got.never.model_dump() == {"sessions": 3, "contacted": 1, "ordered": 1, "abandoned": 2}
    [day] = got.by_day
    assert (day.invited, day.held_out, day.never) == (got.invited, got.held_out, got.never)
    # Ten hours on, a contact is not credited to a session that ended long before it.
    later = await visitor(app)
    await _arrive_and_leave(later, FUND, 5)
    await _age(app, later.customer_id, 600)
    await _chat(app, later.customer_id)
    async with app.state.db.session() as s:
        got = await abandon.report(s, days=7, gap_minutes=30, now=utcnow() + timedelta(minutes=40))
    assert got.never.model_dump() == {"sessions": 4, "contacted": 1, "ordered": 1, "abandoned": 3}

    for who in ("a1", "sup"):
        assert (await staff[who].c.get("/api/engage/sessions")).status_code == 403
    assert (await never[1].c.get("/api/engage/sessions")).status_code in (401, 403)
    assert (await staff["plan"].c.get("/api/engage/sessions", params={"days": 0})).status_code == 422
