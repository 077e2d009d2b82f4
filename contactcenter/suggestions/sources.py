"""Suggestions that come from beside the rules (campaigns): what a source gives, recorded like a rule's match.

A source is asked once per suggestion request with the customer and the facts already gathered; it decides
its own hold-out (a campaign holds customers out, not conversations), and its records are counted, accepted
and converted exactly as the rules' are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class Candidate:
    rule_id: str  # the record's key, e.g. "campaign:spring-isa": never a rule's id (rules have no colon)
    row_id: str
    version: int
    title: str
    offer: str
    script_id: str
    priority: float
    reason: str
    held_out: bool


class OfferSource(Protocol):
    async def __call__(self, session: AsyncSession, *, customer_id: int, facts: dict[str, Any]) -> list[Candidate]: ...


async def no_offers(session: AsyncSession, *, customer_id: int, facts: dict[str, Any]) -> list[Candidate]:
    return []
