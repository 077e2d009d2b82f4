"""The demo bank: counts, ranges, logins that work, valid identities, and a second run that changes nothing."""

from __future__ import annotations

import itertools
from datetime import timedelta

import phonenumbers
import pytest
from sqlalchemy import func, select

from contactcenter.analytics.models import CustomerValue, ProductAssociation
from contactcenter.auth.models import StaffUser
from contactcenter.auth.service import authenticate
from contactcenter.campaigns.models import Campaign, CampaignTarget
from contactcenter.ccr.models import Customer, CustomerIdentity, Touch
from contactcenter.db import Database, utcnow
from contactcenter.demo.seed import seed_demo
from contactcenter.integration.models import Order, Product
from contactcenter.settings import Settings
from contactcenter.types import Role

# The logins the summary (and docs/operations.md) promise.
DEMO_LOGINS = {
    "admin": ("admin-demo-pass", Role.admin),
    "sam": ("sam-demo-pass", Role.supervisor),
    "alice": ("alice-demo-pass", Role.agent),
    "bob": ("bob-demo-pass", Role.agent),
    "pat": ("pat-demo-pass", Role.planner),
}
CUSTOMERS = 30


async def _counts(db: Database) -> dict[str, int]:
    async with db.session() as s:
        return {
            name: int(await s.scalar(select(func.count()).select_from(model)) or 0)
            for name, model in [
                ("users", StaffUser),
                ("customers", Customer),
                ("identities", CustomerIdentity),
                ("touches", Touch),
                ("products", Product),
                ("orders", Order),
            ]
        }


async def test_seed_builds_a_believable_bank_once(db_url: str) -> None:
    settings = Settings(database_url=db_url, secret_key="x" * 40)
    summary = await seed_demo(settings, customers=CUSTOMERS, seed=7)
    for username, (password, _role) in DEMO_LOGINS.items():
        assert username in summary and password in summary

    db = Database(db_url)
    try:
        counts = await _counts(db)
        assert counts["customers"] == CUSTOMERS
        assert counts["identities"] == 3 * CUSTOMERS
        assert counts["products"] >= 15
        assert counts["users"] == len(DEMO_LOGINS)
        async with db.session() as s:
            roles = set()
            for username, (password, role) in DEMO_LOGINS.items():
                user = await authenticate(s, username=username, password=password)
                assert user is not None, username
                assert user.role == role.value
                roles.add(role)
            assert roles == set(Role)

            prices = dict((await s.execute(select(Product.name, Product.price))).all())
            assert prices["Global Equity Fund"] > 0
            assert all(p >= 0 for p in prices.values())
            categories = set(await s.scalars(select(Product.category)))
            assert {"current_account", "savings", "isa", "credit_card", "loan", "mortgage"} <= categories
            assert {"investment", "insurance"} <= categories

            per_customer = dict(
                (await s.execute(select(Touch.customer_id, func.count()).group_by(Touch.customer_id))).all()
            )
            assert len(per_customer) == CUSTOMERS
            assert all(5 <= n <= 40 for n in per_customer.values()), per_customer

            orders_per = dict(
                (await s.execute(select(Order.customer_id, func.count()).group_by(Order.customer_id))).all()
            )
            assert all(n <= 6 for n in orders_per.values())
            order_touches = list(await s.scalars(select(Touch).where(Touch.kind == "order")))
            order_ids = set(await s.scalars(select(Order.id)))
            assert len(order_touches) == counts["orders"] > 0
            assert {t.payload["order_id"] for t in order_touches} == order_ids

            now = utcnow()
            first, last = (await s.execute(select(func.min(Touch.occurred_at), func.max(Touch.occurred_at)))).one()
            assert first is not None and last is not None
            assert now - timedelta(days=549) <= first and last <= now
            channels = set(await s.scalars(select(Touch.channel).distinct()))
            assert {"chat", "voice", "email", "callback", "web", "face_to_face", "system"} <= channels
            kinds = set(await s.scalars(select(Touch.kind).distinct()))
            assert {"message", "call", "email", "callback_request", "page_view", "note", "document_push"} <= kinds
            paths = [t.payload["path"] for t in await s.scalars(select(Touch).where(Touch.kind == "page_view"))]
            assert all(p.startswith("/") for p in paths)

            phones = list(await s.scalars(select(CustomerIdentity.value).where(CustomerIdentity.kind == "phone")))
            assert len(phones) == CUSTOMERS
            for value in phones:
                num = phonenumbers.parse(value)
                assert phonenumbers.is_valid_number(num), value
                assert phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164) == value
            externals = set(await s.scalars(select(CustomerIdentity.value).where(CustomerIdentity.kind == "external")))
            assert externals == {f"core:{n}" for n in range(1, CUSTOMERS + 1)}
            segments = set(await s.scalars(select(Customer.segment)))
            assert segments <= {"mass", "affluent", "private", "small_business"} and "mass" in segments

            # Value tiers come from analytics' full run at the end of the seed, by spend this period.
            values = list(await s.scalars(select(CustomerValue)))
            held = select(Order.customer_id).where(Order.status != "cancelled").distinct()
            assert len(values) == len(list(await s.scalars(held)))
            rank = ["bronze", "silver", "gold", "platinum"]
            assert {"bronze", "platinum"} <= {v.tier for v in values}
            by_tier = {t: [v.value for v in values if v.tier == t] for t in rank}
            for lower, higher in itertools.pairwise(rank):
                if by_tier[lower] and by_tier[higher]:
                    assert max(by_tier[lower]) < min(by_tier[higher])
            # Customers who went quiet (no order for 210 days) are flagged.
            assert any(v.attrition_risk >= 0.7 and v.attrition_reason for v in values)
            assert int(await s.scalar(select(func.count()).select_from(ProductAssociation)) or 0) > 0
            assert all(p["reason"].startswith("owns the ") for v in values for p in v.ptc)
            # A running campaign, its list written: customers with home insurance among their next products.
            demo = await s.get(Campaign, "home-cover")
            assert demo is not None and demo.status == "running"
            listed = set(await s.scalars(select(CampaignTarget.customer_id)))
            likely = {v.customer_id for v in values if any(p["sku"] == "HB-IN-HOME" for p in v.ptc)}
            assert listed == likely and demo.target_size == len(listed)

        again = await seed_demo(settings, customers=CUSTOMERS, seed=7)
        assert "already seeded" in again
        assert await _counts(db) == counts
    finally:
        await db.dispose()


async def test_seed_refuses_an_absurd_customer_count() -> None:
    with pytest.raises(ValueError, match="customers"):
        await seed_demo(Settings(database_url="sqlite+aiosqlite://", secret_key="x" * 40), customers=-1)
