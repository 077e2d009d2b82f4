"""Routing priority: a valuable customer's contact is served before an earlier one of an ordinary customer in
the same queue, and keeps that place when routing restarts (it re-enters from the stored conversation; before,
every contact re-entered at priority 0, booked callbacks included)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from sqlalchemy import update

from contactcenter.ccr.models import Customer
from contactcenter.conversations import priority
from contactcenter.conversations import service as conversations
from tests.conversations.test_routing_restart import restart_routing
from tests.routing.test_api import Staff, online, people, start_chat

__all__ = ["people"]


async def _one_chat_at_a_time(people: dict[str, Staff], who: str) -> None:
    body = {"capacity": 1.0, "weights": {"chat": 1.0}}
    r = await people["sup"].c.put(f"/api/routing/agents/{people[who].id}/profile", json=body)
    assert r.status_code == 200, r.text


async def _tier(app: FastAPI, customer_id: int, tier: str) -> None:
    async with app.state.db.session() as s:
        await s.execute(update(Customer).where(Customer.id == customer_id).values(profile={"value_tier": tier}))
        await s.commit()


async def _chat_of(app: FastAPI, name: str, tier: str | None) -> str:
    """A chat started by a customer who already has their tier (as analytics or an import left it)."""
    if tier is None:
        return (await start_chat(app, name))[0]
    async with app.state.db.session() as s:
        from contactcenter.ccr import service as ccr
        from contactcenter.ccr.schemas import CustomerCreate
        from contactcenter.channels.chat import service as chat
        from contactcenter.channels.chat.schemas import StartIn

        cust = await ccr.create_customer(s, data=CustomerCreate(display_name=name), region="GB")
        await _tier(app, cust.id, tier)
        out = await chat.start_conversation(s, app.state.bus, customer_id=cust.id, data=StartIn(), region="GB")
    return out.id


@pytest.mark.parametrize("restart", [False, True], ids=["live", "after-routing-restart"])
async def test_a_platinum_customer_is_served_before_an_earlier_ordinary_one(
    app: FastAPI, people: dict[str, Staff], restart: bool
) -> None:
    await _one_chat_at_a_time(people, "a1")
    ordinary = await _chat_of(app, "Olga Ordinary", None)  # waits longer
    platinum = await _chat_of(app, "Pia Platinum", "platinum")
    async with app.state.db.session() as s:
        stored = {c: (await conversations.get(s, conversation_id=c)).priority for c in (ordinary, platinum)}
    assert stored == {ordinary: 0, platinum: 3}  # CC_ROUTING_TIER_PRIORITY's default platinum=3
    if restart:
        await restart_routing(app)
    await online(app, people["a1"])  # the only agent, room for one chat
    async with app.state.db.session() as s:
        got = {c: (await conversations.get(s, conversation_id=c)) for c in (ordinary, platinum)}
    assert (got[platinum].status, got[platinum].agent_id) == ("assigned", people["a1"].id)
    assert got[ordinary].status == "queued"


async def test_the_channels_ask_adds_to_the_tier_and_never_leaves_0_to_9(app: FastAPI) -> None:
    """A booked callback (the channel asks 5) of a gold customer (2) enters at 7; the scale stops at 9."""
    async with app.state.db.session() as s:
        from contactcenter.ccr import service as ccr
        from contactcenter.ccr.schemas import CustomerCreate

        gold = await ccr.create_customer(s, data=CustomerCreate(display_name="Gil Gold"), region="GB")
        await _tier(app, gold.id, "gold")
        assert await priority.contact_priority(s, customer_id=gold.id, asked=5) == 7
        assert await priority.contact_priority(s, customer_id=gold.id, asked=9) == 9
        nobody = await ccr.create_customer(s, data=CustomerCreate(display_name="Nia None"), region="GB")
        assert await priority.contact_priority(s, customer_id=nobody.id, asked=0) == 0


async def test_a_failing_priority_source_never_stops_a_contact_from_being_routed(app: FastAPI) -> None:
    async def broken(_session: object, _customer_id: int) -> int:
        raise RuntimeError("analytics is down")

    priority.register_source("broken-for-test", broken)  # type: ignore[arg-type]
    try:
        conv = await _chat_of(app, "Ben Broken", "platinum")
        async with app.state.db.session() as s:
            got = await conversations.get(s, conversation_id=conv)
        assert (got.status, got.priority) == ("queued", 3)  # the tier still counts; the broken source adds 0
    finally:
        priority.unregister_source("broken-for-test")


def test_points_are_parsed_and_bad_configuration_is_named() -> None:
    assert priority.parse_points("platinum=3, gold=2,,silver=12") == {"platinum": 3, "gold": 2, "silver": 9}
    with pytest.raises(ValueError, match="name=points"):
        priority.parse_points("platinum:3")
