"""The browsing facts for the rules (suggestions/registry.py finds this module): web.page, web.seconds_here,
web.visits_to_page, web.pages_viewed, web.cart_left, from the visitor's stored page views (docs/rules.md).
The invitation rules (rules.py) read the same names with the page the visitor is on now."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.db import utcnow
from contactcenter.engage import facts
from contactcenter.settings import Settings
from contactcenter.suggestions.catalogue import Fact
from contactcenter.suggestions.registry import FactSource

FACTS = (
    Fact("web.page", "string | null", "Path of the page the visitor is on (the latest page viewed).", "/pricing"),
    Fact("web.seconds_here", "integer", "Seconds the visitor has spent on that page.", 95),
    Fact("web.visits_to_page", "integer", "Views of that page in the last 30 days, this one included.", 3),
    Fact("web.pages_viewed", "integer", "Pages viewed in the last 30 days.", 12),
    Fact(
        "web.cart_left",
        "boolean",
        "A cart or application page (CC_ENGAGE_CART_PATHS) was viewed, with no contact or order since.",
        True,
    ),
)
# Set when the capability starts (plugin.py) from CC_ENGAGE_CART_PATHS; the default until then.
cart = facts.cart_prefixes(Settings.model_fields["engage_cart_paths"].default)


async def _load(session: AsyncSession, customer_id: int) -> dict[str, Any]:
    return await facts.browsing(session, customer_id=customer_id, now=utcnow(), cart=cart)


def fact_sources() -> list[FactSource]:
    return [FactSource(namespace="web", facts=FACTS, load=_load)]
