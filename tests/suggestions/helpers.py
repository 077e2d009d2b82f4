"""Customers, products and conversations for the suggestions tests, made through the owning services."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.bus import Bus
from contactcenter.bus.memory import MemoryBus
from contactcenter.ccr import service as ccr
from contactcenter.ccr.models import Customer
from contactcenter.ccr.schemas import CustomerCreate
from contactcenter.channels.chat import service as chat
from contactcenter.channels.chat.schemas import StartIn
from contactcenter.conversations import service as conversations
from contactcenter.integration.models import Product

ROOT = Path(__file__).resolve().parent.parent.parent
RULES = ROOT / "rules"


def demo_rule(rule_id: str) -> dict[str, Any]:
    content: dict[str, Any] = json.loads((RULES / f"{rule_id}.json").read_text())
    return copy.deepcopy(content)


def table(content: dict[str, Any]) -> dict[str, Any]:
    node = next(n for n in content["nodes"] if n["type"] == "decisionTableNode")
    t: dict[str, Any] = node["content"]
    return t


async def customer(session: AsyncSession, *, name: str, segment: str = "affluent", **profile: Any) -> int:
    """A customer; profile keys (value_tier, previous_tier, ...) stand in for analytics."""
    out = await ccr.create_customer(session, data=CustomerCreate(display_name=name, segment=segment), region="GB")
    # The CCR has no profile-editing service yet (the seed writes profiles the same way).
    await session.execute(update(Customer).where(Customer.id == out.id).values(profile=profile))
    await session.commit()
    return out.id


async def product(session: AsyncSession, sku: str, category: str) -> None:
    session.add(Product(sku=sku, name=sku.title(), category=category, price=Decimal("10.00")))
    await session.commit()


async def conversation(
    session: AsyncSession, *, customer_id: int, agent_id: int | None, page: str | None = None, topic: str | None = None
) -> str:
    """A chat started by the customer on `page`, assigned to `agent_id`; its events go to a private bus."""
    quiet: Bus = MemoryBus()
    out = await chat.start_conversation(
        session,
        quiet,
        customer_id=customer_id,
        data=StartIn(name="Visitor", topic=topic, page_url=page),
        region="GB",
    )
    if agent_id is not None:
        assert await conversations.assign(session, quiet, conversation_id=out.id, agent_id=agent_id)
    return out.id
