"""Touches: stored before they are announced, timeline order and pagination, filters, notes, orders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from contactcenter.bus import Bus
from contactcenter.bus.memory import MemoryBus
from contactcenter.ccr import service, touches
from contactcenter.ccr.events import TouchLogged, customer_topic
from contactcenter.ccr.models import Touch
from contactcenter.ccr.schemas import Channel, CustomerCreate, TouchIn, TouchKind
from contactcenter.db import Database
from contactcenter.http import ApiError
from contactcenter.integration.models import Product
from contactcenter.types import Role
from tests.conftest import UserFactory, login

T0 = datetime(2026, 1, 1, tzinfo=UTC)


async def customer(db: Database, name: str = "Cara") -> int:
    async with db.session() as s:
        return (await service.create_customer(s, data=CustomerCreate(display_name=name), region="GB")).id


async def test_touch_is_committed_before_its_event_is_seen(db: Database, bus: Bus) -> None:
    cid = await customer(db)
    async with bus.subscribe(customer_topic(cid)) as sub:
        async with db.session() as s:
            out = await service.log_touch(
                s, bus, touch=TouchIn(customer_id=cid, channel=Channel.chat, kind=TouchKind.message, summary="Hello")
            )
        msg = await sub.get(timeout=2)
    assert msg is not None
    ev = TouchLogged.model_validate_json(msg.data)
    assert (ev.touch_id, ev.customer_id, ev.summary) == (out.id, cid, "Hello")
    # Another session (another process, in effect) can already read what the event announced.
    async with db.session() as s2:
        assert (await s2.get(Touch, ev.touch_id)) is not None


async def test_timeline_is_newest_first_and_cursor_pages_cover_everything_once(db: Database) -> None:
    cid, other = await customer(db), await customer(db, "Other")
    touches = [
        TouchIn(
            customer_id=cid,
            channel=[Channel.chat, Channel.email, Channel.voice][i % 3],
            kind=TouchKind.message,
            occurred_at=T0 + timedelta(minutes=i // 2),
            summary=f"t{i}",
        )
        for i in range(45)
    ]  # pairs share a timestamp: the id breaks the tie
    async with db.session() as s:
        await service.log_touches(
            s,
            MemoryBus(),
            touches=[
                *touches,
                TouchIn(customer_id=other, channel=Channel.chat, kind=TouchKind.message, summary="not yours"),
            ],
        )
        seen: list[str] = []
        cursor = None
        while True:
            page = await service.timeline(s, customer_id=cid, limit=10, cursor=cursor)
            seen += [t.summary for t in page.items]
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
    assert len(seen) == 45 and len(set(seen)) == 45
    expected = [t.summary for t in sorted(touches, key=lambda t: (t.occurred_at, int(t.summary[1:])), reverse=True)]
    assert seen == expected


async def test_bulk_logging_stores_what_single_logging_stores(db: Database) -> None:
    """The bulk path writes driver-level rows in pieces; they must read back as the ORM path's do."""
    cid = await customer(db)
    plus_two = timezone(timedelta(hours=2))
    n = touches.SQLITE_PIECE * 2 + 7  # several pieces, the last one short
    ins = [
        TouchIn(
            customer_id=cid,
            channel=Channel.web,
            kind=TouchKind.page_view,
            occurred_at=datetime(2026, 3, 1, 12, 0, i % 60, i, tzinfo=plus_two),
            agent_id=i if i % 2 else None,
            conversation_id=f"c{i}" if i % 3 else None,
            summary=f"bulk {i} <b>é</b>",
            payload={"url": f"/p/{i}", "nested": {"n": [i, None, True]}, "text": "ünïcode"},
        )
        for i in range(n)
    ]
    async with db.session() as s:
        ids = await service.log_touches(s, MemoryBus(), touches=ins)
        single = await service.log_touch(s, MemoryBus(), touch=ins[-1])
    assert len(ids) == n == len(set(ids))
    async with db.session() as s:
        rows = {t.id: t for t in await s.scalars(select(Touch).where(Touch.customer_id == cid))}
    for touch_id, t in zip(ids, ins, strict=True):
        row = rows[touch_id]
        assert row.summary == t.summary and row.payload == t.payload
        assert row.occurred_at == t.occurred_at and row.occurred_at.tzinfo == UTC
        assert (row.agent_id, row.conversation_id) == (t.agent_id, t.conversation_id)
    a, b = rows[ids[-1]], rows[single.id]
    async with db.session() as s:  # what is stored, below the column types: the same time text on SQLite
        raw = dict(
            (
                await s.execute(
                    text("SELECT id, occurred_at FROM touches WHERE id IN (:a, :b)"), {"a": a.id, "b": b.id}
                )
            ).all()
        )
    assert raw[a.id] == raw[b.id]
    assert (a.channel, a.kind, a.direction, a.occurred_at, a.payload) == (
        b.channel,
        b.kind,
        b.direction,
        b.occurred_at,
        b.payload,
    )


async def test_bulk_logging_with_a_bad_row_in_a_later_piece_stores_nothing(db: Database) -> None:
    cid = await customer(db)
    good = TouchIn(customer_id=cid, channel=Channel.chat, kind=TouchKind.message, summary="ok")
    bad = TouchIn(customer_id=cid + 10_000, channel=Channel.chat, kind=TouchKind.message, summary="no customer")
    batch = [good] * (touches.SQLITE_PIECE + 5) + [bad] + [good] * 3
    bus = MemoryBus()
    async with bus.subscribe(customer_topic(cid)) as sub, db.session() as s:
        with pytest.raises(IntegrityError):
            await service.log_touches(s, bus, touches=batch)
        await s.rollback()
        assert await sub.get(timeout=0.2) is None  # nothing announced
        # The session is usable again and the batch left no row behind.
        assert await s.scalar(select(func.count()).select_from(Touch).where(Touch.customer_id == cid)) == 0
        assert len(await service.log_touches(s, bus, touches=[good, good])) == 2


async def test_timeline_filters_by_channel_and_time(db: Database) -> None:
    cid = await customer(db)
    async with db.session() as s:
        await service.log_touches(
            s,
            MemoryBus(),
            touches=[
                TouchIn(
                    customer_id=cid,
                    channel=ch,
                    kind=TouchKind.message,
                    occurred_at=T0 + timedelta(days=d),
                    summary=f"{ch.value}{d}",
                )
                for d in range(10)
                for ch in (Channel.chat, Channel.email)
            ],
        )
        page = await service.timeline(s, customer_id=cid, channels=[Channel.email], limit=100)
        assert {t.channel for t in page.items} == {Channel.email} and len(page.items) == 10
        page = await service.timeline(s, customer_id=cid, since=T0 + timedelta(days=3), until=T0 + timedelta(days=5))
        assert sorted(t.summary for t in page.items) == ["chat3", "chat4", "email3", "email4"]
        with pytest.raises(ApiError) as err:
            await service.timeline(s, customer_id=cid, cursor="definitely-not-a-cursor")
        assert err.value.code == "invalid_cursor"


def test_touch_input_limits() -> None:
    with pytest.raises(ValidationError):
        TouchIn(customer_id=1, channel=Channel.chat, kind=TouchKind.message, summary="x" * 501)
    with pytest.raises(ValidationError):
        TouchIn(customer_id=1, channel=Channel.chat, kind=TouchKind.message, summary="x", payload={"b": "y" * 20000})
    with pytest.raises(ValidationError):
        TouchIn(customer_id=1, channel="fax", kind=TouchKind.message, summary="x")  # type: ignore[arg-type]


async def test_agent_adds_a_face_to_face_note_and_reads_the_timeline(
    client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    await login(client, await make_user(Role.agent))
    cid = (await client.post("/api/customers", json={"display_name": "Nora"})).json()["id"]
    r = await client.post(
        f"/api/customers/{cid}/notes",
        json={"summary": "Branch visit: asked about ISAs", "body": "Wants a call next week"},
    )
    assert r.status_code == 201
    note = r.json()
    assert (note["channel"], note["kind"], note["direction"]) == ("face_to_face", "note", "internal")
    assert note["agent_id"] is not None and note["payload"]["body"] == "Wants a call next week"
    tl = (await client.get(f"/api/customers/{cid}/timeline", params={"channel": "face_to_face"})).json()
    assert [t["id"] for t in tl["items"]] == [note["id"]]
    assert (await client.post(f"/api/customers/{cid}/notes", json={"summary": ""})).status_code == 422
    assert (await client.post("/api/customers/999999/notes", json={"summary": "x"})).status_code == 404
    bad = await client.get(f"/api/customers/{cid}/timeline", params={"cursor": "zzz"})
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_cursor"
    assert (await client.get(f"/api/customers/{cid}/timeline", params={"channel": "fax"})).status_code == 422
    assert (await client.get(f"/api/customers/{cid}/timeline", params={"limit": 5000})).status_code == 422


async def test_recorded_order_lands_on_the_timeline(
    app: FastAPI, client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    async with app.state.db.session() as s:
        s.add(Product(sku="FUND-GE", name="Global Equity Fund", category="funds", price=Decimal("0")))
        await s.commit()
    await login(client, await make_user(Role.admin))
    cid = (await client.post("/api/customers", json={"display_name": "Otto"})).json()["id"]
    body = {"customer_id": cid, "sku": "FUND-GE", "amount": "2500.00", "external_ref": "core-1"}
    r = await client.post("/api/orders", json=body)
    assert r.status_code == 201 and r.json()["product_name"] == "Global Equity Fund"
    dup = await client.post("/api/orders", json=body)
    assert dup.status_code == 409 and dup.json()["error"] == "duplicate_order"
    unknown = await client.post("/api/orders", json={**body, "sku": "NOPE", "external_ref": "core-2"})
    assert unknown.status_code == 422 and unknown.json()["error"] == "unknown_product"
    orders = (await client.get(f"/api/customers/{cid}/orders")).json()
    assert [o["external_ref"] for o in orders] == ["core-1"]
    tl = (await client.get(f"/api/customers/{cid}/timeline")).json()["items"]
    assert [(t["kind"], t["payload"]["sku"]) for t in tl] == [("order", "FUND-GE")]
    async with app.state.db.session() as s:
        assert await s.scalar(select(func.count()).select_from(Touch).where(Touch.customer_id == cid)) == 1
