"""Hold-out, conversion from orders within the window, the fact cache's invalidation, and the "ask again" event."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from contactcenter.auth.models import StaffUser
from contactcenter.bus.memory import MemoryBus
from contactcenter.ccr import service as ccr
from contactcenter.ccr.schemas import Channel, CustomerCreate, TouchIn, TouchKind
from contactcenter.db import Database, utcnow
from contactcenter.integration import service as integration
from contactcenter.integration.schemas import OrderIn
from contactcenter.realtime.events import TOPIC_REALTIME, Push
from contactcenter.suggestions import feedback
from contactcenter.suggestions.events import SuggestionsFrame
from contactcenter.suggestions.facts import contact_facts
from contactcenter.suggestions.feedback import held_out
from contactcenter.suggestions.models import SuggestionRecord
from contactcenter.types import Role
from tests.conftest import UserFactory, login
from tests.suggestions.helpers import conversation, customer, product

FUND_PAGE = "https://bank.example/funds/global-equity"


async def _agent(app: FastAPI, client: httpx.AsyncClient, make_user: UserFactory) -> int:
    name = await make_user(Role.agent)
    await login(client, name)
    async with app.state.db.session() as s:
        uid = await s.scalar(select(StaffUser.id).where(StaffUser.username == name))
    assert uid is not None
    return int(uid)


async def _stats(planner: httpx.AsyncClient) -> dict[str, object]:
    rules = (await planner.get("/api/rules")).json()["rules"]
    stats: dict[str, object] = next(r["stats"] for r in rules if r["id"] == "fund-advisor")
    return stats


def test_holdout_is_stable_and_near_its_share() -> None:
    picks = [held_out(f"conv-{i}", "fund-advisor", 30) for i in range(2000)]
    assert picks == [held_out(f"conv-{i}", "fund-advisor", 30) for i in range(2000)]
    assert 500 < sum(picks) < 700
    assert not any(held_out(f"conv-{i}", "r", 0) for i in range(500))


async def test_holdout_and_order_conversions_give_uplift(
    app: FastAPI, client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    async with app.state.db.session() as s:
        await product(s, "HB-FD-GLOBAL", "investment")
    planner = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
    await login(planner, await make_user(Role.planner))
    r = await planner.put("/api/rules/fund-advisor/holdout", json={"holdout_pct": 50})
    assert r.status_code == 200
    agent_id = await _agent(app, client, make_user)
    shown: list[int] = []
    held: list[int] = []
    # Conversation ids are random: rather than hope 12 of them split (all 12 on one side about once in
    # 2,000 runs), go on until each group has 3. Which group a conversation lands in is known from its id,
    # and must be the one it is served. 60 conversations without 3 on each side has odds below 1e-14.
    for i in range(60):
        async with app.state.db.session() as s:
            cid = await customer(s, name=f"Gold {i}", value_tier="gold")
            conv = await conversation(s, customer_id=cid, agent_id=agent_id, page=FUND_PAGE)
        got = (await client.get(f"/api/conversations/{conv}/suggestions")).json()["suggestions"]
        assert (not got) == held_out(conv, "fund-advisor", 50), conv
        (shown if got else held).append(cid)
        if len(shown) >= 3 and len(held) >= 3:
            break
    assert len(shown) >= 3 and len(held) >= 3, "a 50 % hold-out splits conversations"
    # One order from each group, recorded by the back office: attributed by every process's listener.
    async with app.state.db.session() as s:
        for cid in (shown[0], held[0]):
            data = OrderIn(customer_id=cid, sku="HB-FD-GLOBAL", amount=Decimal("2500.00"))
            await integration.record_order(s, app.state.bus, data=data)
    for _ in range(250):
        stats = await _stats(planner)
        if stats["converted"] == 1 and stats["holdout_converted"] == 1:
            break
        await asyncio.sleep(0.02)
    await planner.aclose()
    assert stats["shown"] == len(shown) and stats["holdout"] == len(held)
    assert stats["converted"] == 1 and stats["holdout_converted"] == 1
    assert stats["conversion_rate"] == 1 / len(shown)
    assert stats["uplift"] == 1 / len(shown) - 1 / len(held)


async def test_an_order_outside_the_window_or_of_another_product_converts_nothing(
    app: FastAPI, client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    from contactcenter.suggestions.feedback import attribute_order
    from contactcenter.suggestions.models import SuggestionRecord

    agent_id = await _agent(app, client, make_user)
    async with app.state.db.session() as s:
        cid = await customer(s, name="Grace Gold", value_tier="gold")
        conv = await conversation(s, customer_id=cid, agent_id=agent_id, page=FUND_PAGE)
    [sugg] = (await client.get(f"/api/conversations/{conv}/suggestions")).json()["suggestions"]
    async with app.state.db.session() as s:
        rec = await s.get(SuggestionRecord, sugg["id"])
        assert rec is not None
        later = rec.shown_at.replace(year=rec.shown_at.year + 1)
        kw = {"customer_id": cid, "amount": "10.00", "window_days": 30}
        assert await attribute_order(s, sku="HB-FD-GLOBAL", placed_at=later, **kw) is None  # type: ignore[arg-type]
        assert await attribute_order(s, sku="HB-IN-HOME", placed_at=rec.shown_at, **kw) is None  # type: ignore[arg-type]
        assert await attribute_order(s, sku="HB-FD-GLOBAL", placed_at=rec.shown_at, **kw) == rec.id  # type: ignore[arg-type]
        assert await attribute_order(s, sku="HB-FD-GLOBAL", placed_at=rec.shown_at, **kw) is None  # type: ignore[arg-type]
    got = (await client.get(f"/api/conversations/{conv}/suggestions")).json()["suggestions"]
    assert got[0]["status"] == "converted"


async def test_fact_cache_is_dropped_by_touches_outside_the_conversation(app: FastAPI) -> None:
    rt = app.state.suggestions
    async with app.state.db.session() as s:
        cid = await customer(s, name="Cache Test")
        conv = await conversation(s, customer_id=cid, agent_id=None)
    contact = contact_facts(channel="chat", queue="general", topic=None, page="/")

    async def gather() -> dict[str, object]:
        async with app.state.db.session() as s:
            f = await rt.facts.gather(s, customer_id=cid, conversation_id=conv, contact=contact)
        assert f is not None
        return f

    first = await gather()
    assert first["touches"] == {
        "last_channel": None,
        "last_page": None,
        "days_since_last_contact": None,
        "count_90d": 0,
        "last_outcome": None,
    }
    q = rt.facts.queries
    await gather()
    assert rt.facts.queries == q  # warm

    async def touch(conversation_id: str | None, kind: TouchKind, path: str, customer_id: int = cid) -> None:
        t = TouchIn(
            customer_id=customer_id,
            channel=Channel.web,
            kind=kind,
            summary="x",
            conversation_id=conversation_id,
            payload={"path": path},
        )
        async with app.state.db.session() as s:
            await ccr.log_touch(s, app.state.bus, touch=t)

    async with app.state.db.session() as s:
        other = await customer(s, name="Marker")
    await touch(conv, TouchKind.message, "/ignored")  # inside the conversation: still warm
    # The runtime handles touches in order: once it has noted a later one (another customer's), it has
    # handled this one too.
    await touch(None, TouchKind.page_view, "/marker", customer_id=other)
    for _ in range(500):
        if other in rt.facts_changed:
            break
        await asyncio.sleep(0.02)
    assert other in rt.facts_changed
    assert (await gather())["touches"]["count_90d"] == 0 and rt.facts.queries == q  # type: ignore[index]
    await touch(None, TouchKind.page_view, "/funds/global-equity")
    for _ in range(250):
        if rt.facts.queries > q:
            break
        await gather()
        await asyncio.sleep(0.02)
    got = await gather()
    assert got["touches"]["last_page"] == "/funds/global-equity"  # type: ignore[index]
    assert got["touches"]["days_since_last_contact"] == 0  # type: ignore[index]


async def test_a_touch_in_a_conversation_tells_its_agent_to_ask_again(
    app: FastAPI, client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    agent_id = await _agent(app, client, make_user)
    async with app.state.db.session() as s:
        cid = await customer(s, name="Event Test")
        conv = await conversation(s, customer_id=cid, agent_id=agent_id)
    async with app.state.bus.subscribe(TOPIC_REALTIME) as sub:
        t = TouchIn(customer_id=cid, channel=Channel.chat, kind=TouchKind.message, summary="hi", conversation_id=conv)
        async with app.state.db.session() as s:
            await ccr.log_touch(s, app.state.bus, touch=t)
        async with asyncio.timeout(5):
            while True:
                msg = await sub.get(timeout=5)
                if msg is not None and (ev := Push.model_validate_json(msg.data)).frame.startswith(
                    '{"type":"suggestions"'
                ):
                    break
    assert (SuggestionsFrame.model_validate_json(ev.frame).conversation_id, ev.to.agent_id) == (conv, agent_id)


async def test_an_order_converts_a_suggestion_shown_before_the_customer_was_merged(db: Database) -> None:
    bus = MemoryBus()
    async with db.session() as s:
        old = await ccr.create_customer(s, data=CustomerCreate(display_name="Old record"), region="GB")
        new = await ccr.create_customer(s, data=CustomerCreate(display_name="Kept record"), region="GB")
        shown = SuggestionRecord(
            rule_id="fund-advisor",
            version=1,
            row_id="r1",
            customer_id=old.id,
            conversation_id="c1",
            title="Fund adviser",
            offer="FUND-1",
            script_id="fund-advisor",
            priority=1.0,
            reason="gold",
        )
        s.add(shown)
        await s.commit()
        await ccr.merge_customers(s, bus, source_id=old.id, target_id=new.id, actor_id=1, reason="same person")
        # Orders now arrive for the kept record: the suggestion shown to the old one still gets the credit.
        got = await feedback.attribute_order(
            s, customer_id=new.id, sku="FUND-1", amount="500", placed_at=utcnow(), window_days=30
        )
        assert got == shown.id
        assert (
            await feedback.attribute_order(
                s, customer_id=new.id, sku="FUND-1", amount="500", placed_at=utcnow(), window_days=30
            )
            is None
        )  # converted once
