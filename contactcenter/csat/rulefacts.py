"""CSAT's facts for the rules (suggestions/registry.py finds this module): a customer's last rating and
their average, so a planner can write "a customer who rated us low last time" (docs/rules.md)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.csat import service
from contactcenter.db import utcnow
from contactcenter.suggestions.catalogue import Fact
from contactcenter.suggestions.registry import FactSource

FACTS = (
    Fact("csat.last", "integer | null", "The customer's latest rating, 1 (very poor) to 5 (very good).", 2),
    Fact("csat.avg", "number | null", "The average of all the customer's ratings.", 3.5),
    Fact("csat.count", "integer", "How many conversations the customer has rated.", 4),
    Fact("csat.days_since_last", "integer | null", "Whole days since the latest rating.", 3),
)


async def _load(session: AsyncSession, customer_id: int) -> dict[str, Any]:
    return await service.customer_facts(session, customer_id=customer_id, now=utcnow())


def fact_sources() -> list[FactSource]:
    return [FactSource(namespace="csat", facts=FACTS, load=_load)]
