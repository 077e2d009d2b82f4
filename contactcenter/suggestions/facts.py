"""Gathering the facts of the catalogue for one contact: a few queries when cold (CCR, orders, analytics' figures
and associations), none when warm.

The part that comes from the database (profile, value, products, earlier touches) is cached per customer and
conversation, and dropped when the bus says that customer changed (a touch outside this conversation, an
order) or after CC_FACTS_TTL_S. The current contact's facts are never cached. Analytics plug in through the
provider interfaces below: tiers, attrition and next products (PTC) and associations (PTP) from
analytics' stored figures (analytics/rulefacts.py); campaigns.ids from the running campaigns' target lists
(campaigns/source.py), which also give suggestions of their own beside the rules (Providers.offers). Other
capabilities add namespaces of their own through registry.py (CSAT's csat.*), loaded and cached here too.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.analytics.rulefacts import stored_associations, stored_figures
from contactcenter.campaigns.source import campaign_ids, campaign_offers
from contactcenter.ccr.summary import ContactHistory, contact_history
from contactcenter.db import utcnow
from contactcenter.integration import service as integration
from contactcenter.suggestions import registry
from contactcenter.suggestions.sources import OfferSource

TIERS = ("bronze", "silver", "gold", "platinum")
MAX_ENTRIES = 20_000


class TierProvider(Protocol):
    async def __call__(self, session: AsyncSession, *, customer_id: int, profile: Mapping[str, Any]) -> dict[str, Any]:
        """value_tier, previous_tier, attrition_risk, attrition_reason (each may be None) and next_products
        ([{"sku", "score", "reason"}], best first)."""
        ...


class CampaignProvider(Protocol):
    async def __call__(self, session: AsyncSession, *, customer_id: int) -> list[str]: ...


class AssociationProvider(Protocol):
    async def __call__(self, session: AsyncSession, *, owned: Sequence[str]) -> dict[str, list[str]]:
        """suggested, with_newest: SKUs (owned is newest first)."""
        ...


@dataclass(frozen=True)
class Providers:
    tiers: TierProvider = stored_figures
    campaigns: CampaignProvider = campaign_ids
    associations: AssociationProvider = stored_associations
    offers: OfferSource = campaign_offers


def _days(then: datetime | None, now: datetime) -> int | None:
    return None if then is None else max(0, (now - then).days)


def contact_facts(*, channel: str, queue: str, topic: str | None, page: str | None) -> dict[str, Any]:
    """The current contact; a full URL is reduced to its path, as rules compare paths."""
    path = urlsplit(page).path or "/" if page and "://" in page else page
    return {"channel": channel, "queue": queue, "topic": topic, "page": path}


@dataclass
class _Stored:
    expires: float
    history: ContactHistory
    base: dict[str, Any]
    last_order: datetime | None


@dataclass
class FactGatherer:
    providers: Providers = field(default_factory=Providers)
    ttl_s: float = 60.0
    clock: Callable[[], float] = time.monotonic
    cache: dict[tuple[int, str | None], _Stored] = field(default_factory=dict)
    keys: dict[int, set[tuple[int, str | None]]] = field(default_factory=lambda: defaultdict(set))
    generation: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    queries: int = 0  # database round trips, for tests and the benchmark

    def invalidate(self, customer_id: int, keep_conversation: str | None = None) -> None:
        """Something about this customer changed: the next evaluation reads the database again. A touch of
        conversation X leaves X's entry alone (its facts leave X's own touches out)."""
        self.generation[customer_id] += 1
        keys = self.keys.get(customer_id, set())
        for key in [k for k in keys if keep_conversation is None or k[1] != keep_conversation]:
            self.cache.pop(key, None)
            keys.discard(key)
        if not keys:
            self.keys.pop(customer_id, None)

    async def gather(
        self, session: AsyncSession, *, customer_id: int, conversation_id: str | None, contact: dict[str, Any]
    ) -> dict[str, Any] | None:
        """Every fact of the catalogue for this customer and contact; None when the customer does not exist."""
        key = (customer_id, conversation_id)
        stored = self.cache.get(key)
        if stored is None or stored.expires < self.clock():
            stored = await self._load(session, customer_id=customer_id, conversation_id=conversation_id)
            if stored is None:
                return None
        now = utcnow()
        h = stored.history
        base = stored.base
        return {
            "customer": base["customer"],
            "products": {**base["products"], "days_since_last_order": _days(stored.last_order, now)},
            "touches": {
                "last_channel": h.last_channel,
                "last_page": h.last_page,
                "days_since_last_contact": _days(h.last_at, now),
                "count_90d": h.count_90d,
                "last_outcome": h.last_outcome,
            },
            "contact": contact,
            "campaigns": base["campaigns"],
            "associations": base["associations"],
            "ptc": base["ptc"],
            **base["extra"],
        }

    async def _associations(self, session: AsyncSession, skus: list[str]) -> dict[str, list[str]]:
        found = await self.providers.associations(session, owned=skus)
        self.queries += 1
        return {k: [s for s in found.get(k, []) if s not in skus] for k in ("suggested", "with_newest")}

    def invalidate_all(self) -> None:
        """Everyone's figures changed (a full analytics run)."""
        for customer_id in list(self.keys):
            self.invalidate(customer_id)

    async def _load(self, session: AsyncSession, *, customer_id: int, conversation_id: str | None) -> _Stored | None:
        gen = self.generation[customer_id]
        history = await contact_history(session, customer_id=customer_id, exclude_conversation_id=conversation_id)
        self.queries += 1
        if history is None:
            return None
        owned = await integration.owned_products(session, customer_id=customer_id)
        self.queries += 1
        skus = list(dict.fromkeys(sku for sku, _, _ in owned))
        p = history.profile
        figures = await self.providers.tiers(session, customer_id=customer_id, profile=p)
        picks = figures.pop("next_products", [])
        tiers = figures
        self.queries += 1
        since = p.get("customer_since")
        customer = {
            "id": customer_id,
            "name": history.name,
            "first_name": history.name.split(" ", 1)[0] if history.name else None,
            "segment": history.segment,
            "city": p.get("city"),
            "home_branch": p.get("home_branch"),
            "customer_since": since if isinstance(since, int) else None,
            "years_with_bank": utcnow().year - since if isinstance(since, int) else None,
            "marketing_consent": p.get("marketing_consent"),
            "business_name": p.get("business_name"),
            **tiers,
            "tier_dropped": _dropped(tiers.get("previous_tier"), tiers.get("value_tier")),
        }
        base = {
            "customer": customer,
            "products": {
                "owned": skus,
                "categories": sorted({cat for _, cat, _ in owned}),
                "count": len(skus),
            },
            "campaigns": {"ids": await self.providers.campaigns(session, customer_id=customer_id)},
            "associations": await self._associations(session, skus),
            "ptc": {
                "product": picks[0]["sku"] if picks else None,
                "score": picks[0]["score"] if picks else None,
                "reason": picks[0]["reason"] if picks else None,
                "products": [p["sku"] for p in picks if p["sku"] not in skus],
                "reasons": {p["sku"]: p["reason"] for p in picks if p["sku"] not in skus},
            },
        }
        base["extra"] = {}
        for source in registry.sources():
            base["extra"][source.namespace] = await source.load(session, customer_id)
            self.queries += 1
        stored = _Stored(self.clock() + self.ttl_s, history, base, owned[0][2] if owned else None)
        # Only keep it if nothing about the customer changed while we were reading.
        if self.generation[customer_id] == gen and self.ttl_s > 0:
            while len(self.cache) >= MAX_ENTRIES:  # oldest first: dicts keep insertion order
                old = next(iter(self.cache))
                del self.cache[old]
                self.keys.get(old[0], set()).discard(old)
            self.cache[(customer_id, conversation_id)] = stored
            self.keys[customer_id].add((customer_id, conversation_id))
        return stored


def _dropped(previous: Any, current: Any) -> bool:
    if previous not in TIERS or current not in TIERS:
        return False
    return TIERS.index(current) < TIERS.index(previous)
