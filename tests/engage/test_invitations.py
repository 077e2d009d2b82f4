"""Invitations on both backends: a visitor lingering on a pricing page is invited to chat when an agent has
room, offered the next callback slot when none has, help articles when there are no slots either; the
answer is recorded once; the frequency cap holds; a held-out visitor is recorded and shown nothing; the
planner's results count each group and what its visitors did after."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from fastapi import FastAPI
from sqlalchemy import select

from contactcenter.engage import service
from contactcenter.engage.models import Invitation
from contactcenter.integration.models import Order, Product
from tests.engage.conftest import People, online, visitor


async def _rows(app: FastAPI) -> list[Invitation]:
    async with app.state.db.session() as s:
        return list(await s.scalars(select(Invitation).order_by(Invitation.id)))


async def test_lingering_on_pricing_with_an_agent_free_is_invited_to_chat_once(app: FastAPI, people: People) -> None:
    staff = await people("a1")
    await online(app, staff["a1"])
    v = await visitor(app)
    # Just arrived: no invitation yet, and the widget is told when to ask again (the rule's 20 s).
    r = await v.check(seconds=0)
    assert r.status_code == 200, r.text
    assert r.json() == {"invitation": None, "next_check_s": 20}
    assert (await v.check(seconds=15)).json()["next_check_s"] == 5
    # A page that no rule is about: nothing, and no need to ask again.
    assert (await v.check(url="https://bank.example/demo/contact.html", seconds=500)).json() == {
        "invitation": None,
        "next_check_s": None,
    }
    got = (await v.check(seconds=21)).json()["invitation"]
    assert got["offer"] == "chat" and got["topic"] == "pricing" and got["queue"] == "general"
    [row] = await _rows(app)
    assert (row.rule_id, row.path, row.offer, row.held_out, row.answer) == (
        "pricing-linger", "/demo/pricing.html", "chat", False, None,
    )  # fmt: skip

    r = await v.c.post(f"/api/engage/invitations/{got['id']}/answer", json={"answer": "accepted"})
    assert r.status_code == 200 and r.json()["answer"] == "accepted"
    r = await v.c.post(f"/api/engage/invitations/{got['id']}/answer", json={"answer": "dismissed"})
    assert r.status_code == 409 and r.json()["error"] == "already_answered"
    # Capped: at most one invitation per visitor each 10 minutes, however long they stay.
    assert (await v.check(seconds=400)).json() == {"invitation": None, "next_check_s": None}
    assert len(await _rows(app)) == 1


async def test_no_agent_is_offered_the_next_callback_slot_and_without_slots_articles(
    app: FastAPI, people: People
) -> None:
    v = await visitor(app)  # nobody online
    got = (await v.check(seconds=30)).json()["invitation"]
    assert got["offer"] == "callback"
    slots = (await v.c.get("/api/callback/slots")).json()
    assert datetime.fromisoformat(got["slot_start"]) == datetime.fromisoformat(slots[0]["start"])

    # No callback hours left in the week either: the help articles about the rule's topic.
    staff = await people("sup")
    article = {"slug": "our-prices", "title": "Our prices and fees", "body_md": "Every pricing question.",
               "status": "published"}  # fmt: skip
    assert (await staff["sup"].c.post("/api/kb/manage/articles", json=article)).status_code == 201
    app.state.settings.callback_hours = "mon-sun=00:00-00:10"  # shorter than one 30-minute slot
    w = await visitor(app)
    got = (await w.check(seconds=30)).json()["invitation"]
    assert got["offer"] == "articles"
    assert got["articles"] == [{"slug": "our-prices", "title": "Our prices and fees"}]
    assert [r.offer for r in await _rows(app)] == ["callback", "articles"]


async def test_held_out_visitors_are_recorded_shown_nothing_and_counted_apart(app: FastAPI, people: People) -> None:
    app.state.settings.engage_holdout_pct = 50.0
    staff = await people("a1", "plan", "sup")
    await online(app, staff["a1"])
    held, shown = None, None
    while held is None or shown is None:  # the group is a hash of the visitor: find one of each
        v = await visitor(app)
        if service.held_out(v.customer_id, 50.0):
            held = held or v
        else:
            shown = shown or v
    assert (await held.check(seconds=25)).json() == {"invitation": None, "next_check_s": None}
    got = (await shown.check(seconds=25)).json()["invitation"]
    assert got["offer"] == "chat"
    # A held-out invitation cannot be answered: the visitor never saw it.
    [held_row] = [r for r in await _rows(app) if r.held_out]
    r = await held.c.post(f"/api/engage/invitations/{held_row.id}/answer", json={"answer": "accepted"})
    assert r.status_code == 404
    await shown.c.post(f"/api/engage/invitations/{got['id']}/answer", json={"answer": "dismissed"})
    # The held-out visitor ordered anyway; the shown one did neither.
    async with app.state.db.session() as s:
        product = Product(sku="ENGAGE-TEST", name="Easy saver", category="savings", price=Decimal(0))
        s.add(product)
        await s.flush()
        s.add(
            Order(customer_id=held.customer_id, product_id=product.id, amount=Decimal(0), placed_at=datetime.now(UTC))
        )
        await s.commit()

    assert (await staff["sup"].c.get("/api/engage/results")).status_code == 403  # planners' figures
    figures = (await staff["plan"].c.get("/api/engage/results")).json()
    assert figures["invited"] == {
        "invitations": 1, "shown": 1, "accepted": 0, "dismissed": 1, "contacted": 0, "ordered": 0, "abandoned": 1,
    }  # fmt: skip
    assert figures["held_out"] == {
        "invitations": 1, "shown": 0, "accepted": 0, "dismissed": 0, "contacted": 0, "ordered": 1, "abandoned": 0,
    }  # fmt: skip
    assert figures["by_offer"]["chat"]["dismissed"] == 1
    [day] = figures["by_day"]
    assert day["invited"]["abandoned"] == 1 and day["held_out"]["ordered"] == 1
