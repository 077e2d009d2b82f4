"""The fact catalogue: every fact a rule or a sales script may use (documented in docs/rules.md).

Facts travel to the engine as namespaces of plain values: {"customer": {...}, "contact": {...}, ...}; a fact's
name is "<namespace>.<key>". `rules check` refuses any fact name that is not listed here or declared by
another capability's fact source (registry.py: CSAT's csat.* facts); `all_facts()` and friends give both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Fact:
    name: str
    type: str
    description: str
    example: Any


FACTS: tuple[Fact, ...] = (
    # Customer profile (CCR).
    Fact("customer.id", "integer", "The customer's id in the contact repository.", 1042),
    Fact("customer.name", "string", "Full name as the CCR holds it.", "Priya Shah"),
    Fact("customer.first_name", "string", "First word of the name, for greetings.", "Priya"),
    Fact("customer.segment", "string | null", "mass, affluent, private or small_business.", "affluent"),
    Fact("customer.city", "string | null", "City from the profile.", "Leeds"),
    Fact("customer.home_branch", "string | null", "The branch that knows the customer.", "Leeds Briggate"),
    Fact("customer.customer_since", "integer | null", "Year the relationship started.", 2011),
    Fact("customer.years_with_bank", "integer | null", "Whole years since customer_since.", 14),
    Fact("customer.marketing_consent", "boolean | null", "May be offered products.", True),
    Fact("customer.business_name", "string | null", "Small-business customers only.", "Shah Bakery"),
    # Customer value (analytics' stored figures; else the profile's fields; else null).
    Fact("customer.value_tier", "string | null", "bronze, silver, gold or platinum, by spend this period.", "gold"),
    Fact("customer.previous_tier", "string | null", "The tier of the previous period.", "platinum"),
    Fact("customer.tier_dropped", "boolean", "True when the tier fell since the previous period.", True),
    Fact("customer.attrition_risk", "number | null", "0 to 1; chance the customer leaves.", 0.72),
    Fact(
        "customer.attrition_reason",
        "string | null",
        "Why the risk is raised: a tier drop, a long time without an order.",
        "tier fell from platinum to gold; no order for 212 days",
    ),
    # Products owned (integration orders, cancelled ones left out).
    Fact("products.owned", "list of strings", "SKUs the customer holds.", ["HB-CA-PREMIER", "HB-MG-FIX5"]),
    Fact("products.categories", "list of strings", "Categories of those products.", ["current_account", "mortgage"]),
    Fact("products.count", "integer", "Number of products held.", 2),
    Fact("products.days_since_last_order", "integer | null", "Days since the newest order.", 40),
    # Recent touches before this contact (CCR).
    Fact("touches.last_channel", "string | null", "Channel of the latest earlier touch.", "voice"),
    Fact("touches.last_page", "string | null", "Path of the latest page viewed before.", "/funds/global-equity"),
    Fact("touches.days_since_last_contact", "integer | null", "Whole days since the latest earlier touch.", 12),
    Fact("touches.count_90d", "integer", "Touches in the last 90 days.", 7),
    Fact(
        "touches.last_outcome",
        "string | null",
        "Wrap-up outcome of the latest earlier conversation closed with one (sale, resolved, follow_up, ...).",
        "follow_up",
    ),
    # The current contact.
    Fact("contact.channel", "string", "chat, voice, email, callback or web.", "chat"),
    Fact("contact.queue", "string", "The queue the contact came in on.", "general"),
    Fact("contact.topic", "string | null", "What the customer said it is about.", "Investing a lump sum"),
    Fact("contact.page", "string | null", "Path of the page the customer is on now.", "/funds/global-equity"),
    # Campaigns (running campaigns' target lists), associations (PTP) and next products (PTC) from analytics.
    Fact("campaigns.ids", "list of strings", "Campaigns that target this customer.", ["spring-isa"]),
    Fact(
        "associations.suggested",
        "list of strings",
        "SKUs held with products owned more often than by chance (lift above 1), not yet held; best lift first.",
        ["HB-IN-TRAVEL"],
    ),
    Fact(
        "associations.with_newest",
        "list of strings",
        "The same for the product of the customer's newest order only.",
        ["HB-IN-TRAVEL"],
    ),
    Fact("ptc.product", "string | null", "The SKU this customer is most likely to want next.", "HB-IN-TRAVEL"),
    Fact("ptc.score", "number | null", "0 to 1: share of holders of a product owned who took it.", 0.41),
    Fact(
        "ptc.reason",
        "string | null",
        "Why, for the agent to read.",
        "owns the Everyday account; 41 % of its 2,300 holders took the Annual Travel Insurance, lift 3.2",
    ),
    Fact("ptc.products", "list of strings", "The next products, best first.", ["HB-IN-TRAVEL", "HB-SV-EASY"]),
    Fact(
        "ptc.reasons",
        "object: SKU -> string",
        "The reason for each next product (a script may say ptc.reasons[suggestion.offer]).",
        {"HB-IN-TRAVEL": "owns the Everyday account; 41 % of its 2,300 holders took the Annual Travel Insurance"},
    ),
)

CORE_NAMESPACES: frozenset[str] = frozenset(f.name.split(".", 1)[0] for f in FACTS)
_cached: tuple[int, tuple[Fact, ...], dict[str, Fact], frozenset[str]] | None = None


def _lists() -> tuple[tuple[Fact, ...], dict[str, Fact], frozenset[str]]:
    global _cached
    from contactcenter.suggestions import registry  # it imports this module

    sources = registry.sources()
    if _cached is None or _cached[0] != registry.version:
        every = FACTS + tuple(f for s in sources for f in s.facts)
        names = frozenset(f.name.split(".", 1)[0] for f in every)
        _cached = (registry.version, every, {f.name: f for f in every}, names)
    return _cached[1], _cached[2], _cached[3]


def all_facts() -> tuple[Fact, ...]:
    """The core catalogue, then every registered source's facts."""
    return _lists()[0]


def by_name() -> dict[str, Fact]:
    return _lists()[1]


def namespaces() -> frozenset[str]:
    return _lists()[2]


def example_facts() -> dict[str, dict[str, Any]]:
    """Every fact at its example value, nested by namespace (used to test-render scripts)."""
    out: dict[str, dict[str, Any]] = {ns: {} for ns in namespaces()}
    for f in all_facts():
        ns, key = f.name.split(".", 1)
        out[ns][key] = f.example
    return out
