"""The browsing facts and the planner's invitation rules on both backends: web.* from the page-view touches
(a third visit to a product, a cart left with no contact or order since), in the rules' fact list; a
published rule set replaces the defaults, versioned; bad patterns and duplicate ids are refused."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import FastAPI

from contactcenter.conversations.models import Conversation
from contactcenter.engage import facts
from tests.engage.conftest import People, visitor

FUND = "https://bank.example/demo/funds/global-equity.html"


async def test_web_facts_from_the_page_views(app: FastAPI, people: People) -> None:
    v = await visitor(app)
    await v.beacon((FUND, 30), ("https://bank.example/demo/", 5))
    await v.beacon((FUND, 12), ("https://bank.example/demo/apply/isa", 40))
    cart = facts.cart_prefixes(app.state.settings.engage_cart_paths)
    async with app.state.db.session() as s:
        stored = await facts.browsing(s, customer_id=v.customer_id, now=datetime.now(UTC), cart=cart)
        live = await facts.browsing(
            s, customer_id=v.customer_id, now=datetime.now(UTC), cart=cart, live=("/demo/funds/global-equity.html", 7)
        )
    assert stored["pages_viewed"] == 4 and stored["cart_left"] is True
    assert live == {
        "page": "/demo/funds/global-equity.html", "seconds_here": 7, "visits_to_page": 3, "pages_viewed": 5,
        "cart_left": True,
    }  # fmt: skip
    # The third visit to the fund invites (rule product-third-visit, before the cart rule).
    got = (await v.check(url=FUND, seconds=0)).json()["invitation"]
    assert got["topic"] == "funds"
    # A contact since the cart page: no longer left.
    async with app.state.db.session() as s:
        s.add(Conversation(id="c-engage-1", customer_id=v.customer_id, customer_name="Vera",
                           status="closed"))  # fmt: skip
        await s.commit()
        again = await facts.browsing(s, customer_id=v.customer_id, now=datetime.now(UTC), cart=cart)
    assert again["cart_left"] is False

    planner = (await people("plan"))["plan"]
    names = {f["name"] for f in (await planner.c.get("/api/facts")).json()["facts"]}
    assert {"web.page", "web.seconds_here", "web.visits_to_page", "web.pages_viewed", "web.cart_left"} <= names


async def test_a_published_rule_set_replaces_the_defaults(app: FastAPI, people: People) -> None:
    planner = (await people("plan"))["plan"]
    first = (await planner.c.get("/api/engage/rules")).json()
    assert first["version"] == 0 and next(r["id"] for r in first["rules"]) == "pricing-linger"
    mortgages = {"id": "mortgage-look", "name": "Looks at mortgages", "page": "*/mortgages*", "min_seconds": 5,
                 "topic": "mortgages"}  # fmt: skip
    r = await planner.c.put("/api/engage/rules", json={"rules": [mortgages], "comment": "mortgages only"})
    assert r.status_code == 200, r.text
    assert r.json()["version"] >= 1
    assert (await planner.c.get("/api/engage/rules")).json()["rules"][0]["id"] == "mortgage-look"

    v = await visitor(app)
    assert (await v.check(seconds=500)).json()["invitation"] is None  # the pricing rule is gone
    got = (await v.check(url="https://bank.example/demo/mortgages.html", seconds=6)).json()["invitation"]
    assert got["topic"] == "mortgages"

    for bad in (
        {"rules": [mortgages, mortgages]},
        {"rules": [mortgages | {"page": "*a*b*c*d*e*"}]},
        {"rules": [mortgages | {"id": "Not An Id"}]},
        {"rules": [mortgages | {"min_seconds": 0}]},
    ):
        r = await planner.c.put("/api/engage/rules", json=bad)
        assert r.status_code == 422, bad
    assert (await planner.c.get("/api/engage/rules")).json()["comment"] == "mortgages only"
