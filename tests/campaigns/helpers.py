"""The analytics tests' hand-checkable bank with its figures computed, planners and agents, and conversations
on any registered channel, for the campaigns tests."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select, update

from contactcenter.analytics import service as analytics
from contactcenter.auth.models import StaffUser
from contactcenter.bus.memory import MemoryBus
from contactcenter.ccr.models import Customer
from contactcenter.conversations import service as conversations
from contactcenter.conversations.schemas import OpenIn
from contactcenter.db import utcnow
from contactcenter.types import Role
from tests.analytics.dataset import CONFIG, NOW, build
from tests.conftest import UserFactory, login

SCRIPT = "travel_insurance"  # one of rules/scripts


async def bank(app: FastAPI) -> dict[int, int]:
    """c1..c22 of tests/analytics/dataset.py with tiers, attrition and PTC computed; c9 is affluent, c10 said
    no to marketing."""
    async with app.state.db.session() as s:
        ids = await build(s)
        await analytics.run_all(s, config=CONFIG, now=NOW)
        await s.execute(update(Customer).where(Customer.id == ids[9]).values(segment="affluent"))
        await s.execute(update(Customer).where(Customer.id == ids[10]).values(profile={"marketing_consent": False}))
        await s.commit()
    return ids


async def staff(app: FastAPI, make_user: UserFactory, role: Role) -> tuple[httpx.AsyncClient, int]:
    c = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("127.0.0.1", 50001)), base_url="http://t")
    name = await make_user(role)
    await login(c, name)
    async with app.state.db.session() as s:
        uid = await s.scalar(select(StaffUser.id).where(StaffUser.username == name))
    assert uid is not None
    return c, int(uid)


def body(campaign_id: str, **target: Any) -> dict[str, Any]:
    today = utcnow().date()
    return {
        "id": campaign_id,
        "name": f"Travel {campaign_id}",
        "target": target,
        "product_sku": "TRAVEL",
        "script_id": SCRIPT,
        "starts_on": today.isoformat(),
        "ends_on": (today + timedelta(days=30)).isoformat(),
        "holdout_pct": 0,
    }


async def contact(app: FastAPI, *, customer_id: int, channel: str, agent_id: int) -> str:
    """A conversation of `channel` opened for the customer and assigned to the agent (events on a quiet bus)."""
    quiet = MemoryBus()
    async with app.state.db.session() as s:
        conv = await conversations.stage_open(
            s, data=OpenIn(customer_id=customer_id, channel=channel, customer_name="Customer")
        )
        await s.commit()
        assert await conversations.assign(s, quiet, conversation_id=conv.id, agent_id=agent_id)
    return conv.id
