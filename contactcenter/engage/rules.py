"""The invitation rules (decision 54): a small decision table of fixed columns over the web.* facts, the
planner's newest published version in force, else the defaults below. The first enabled row that matches
invites; rows on this page still waiting for time here say when to ask again."""

from __future__ import annotations

import re
from fnmatch import translate
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.engage.models import InviteRuleSet
from contactcenter.engage.schemas import InviteRule, RuleSetIn, RuleSetOut
from contactcenter.http import ApiError
from contactcenter.settings import Settings

MAX_STARS = 4


def defaults(settings: Settings) -> list[InviteRule]:
    """A long look at prices, a third visit to one product page, a cart left unfinished."""
    return [
        InviteRule(id="pricing-linger", name="Lingers on a pricing page", page="*/pricing*",
                   min_seconds=settings.engage_linger_s, topic="pricing"),
        InviteRule(id="product-third-visit", name="Third visit to a product", page="*/funds/*", min_visits=3,
                   topic="funds"),
        InviteRule(id="cart-left", name="Cart left unfinished", cart_left=True, topic="application"),
    ]  # fmt: skip


@lru_cache(maxsize=512)
def _pattern(glob: str) -> re.Pattern[str]:
    return re.compile(translate(glob))


def check_pattern(glob: str) -> str | None:
    """Why a page pattern is refused, or None (a few stars: its match stays cheap)."""
    if glob.count("*") > MAX_STARS:
        return f"a page pattern may hold at most {MAX_STARS} stars"
    return None


def page_matches(rule: InviteRule, page: str | None) -> bool:
    return not rule.page or (page is not None and _pattern(rule.page).match(page) is not None)


def evaluate(rules: list[InviteRule], web: dict[str, Any]) -> tuple[InviteRule | None, int | None]:
    """The first matching rule, else None and the seconds until a rule on this page would match by time."""
    wait: int | None = None
    for rule in rules:
        if not rule.enabled or not page_matches(rule, web["page"]):
            continue
        if rule.min_visits is not None and web["visits_to_page"] < rule.min_visits:
            continue
        if rule.cart_left is not None and web["cart_left"] != rule.cart_left:
            continue
        if rule.min_seconds is not None and web["seconds_here"] < rule.min_seconds:
            left = rule.min_seconds - web["seconds_here"]
            wait = left if wait is None else min(wait, left)
            continue
        return rule, None
    return None, wait


async def current(session: AsyncSession, settings: Settings) -> RuleSetOut:
    row = await session.scalar(select(InviteRuleSet).order_by(InviteRuleSet.id.desc()).limit(1))
    if row is None:
        return RuleSetOut(version=0, rules=defaults(settings), comment="defaults", created_at=None)
    rules = [InviteRule.model_validate(r) for r in row.rules]
    return RuleSetOut(version=row.id, rules=rules, comment=row.comment, created_at=row.created_at)


async def publish(session: AsyncSession, *, body: RuleSetIn, author_id: int) -> RuleSetOut:
    problems = [f"rule {r.id}: {why}" for r in body.rules if (why := check_pattern(r.page))]
    ids = [r.id for r in body.rules]
    if len(set(ids)) != len(ids):
        problems.append("rule ids must be unique")
    if problems:
        raise ApiError(422, "invalid_rules", problems)
    row = InviteRuleSet(rules=[r.model_dump() for r in body.rules], author_id=author_id, comment=body.comment)
    session.add(row)
    await session.commit()
    return RuleSetOut(version=row.id, rules=body.rules, comment=row.comment, created_at=row.created_at)
