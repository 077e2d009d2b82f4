"""The signed link for customers without the widget (email): its page rates the conversation once,
without signing in. Attacks: a forged, altered, expired link; another secret; score 0 and 6 and a comment
too long through the form; a second rating through the link after one through the widget."""

from __future__ import annotations

import time
from datetime import timedelta

import httpx

from contactcenter.csat import links
from contactcenter.db import utcnow
from contactcenter.settings import Settings
from contactcenter.types import Role
from tests.chat.conftest import Live, customer, staff
from tests.cobrowse.test_flow import pinging
from tests.csat.helpers import bearer, closed_chat, make_user


async def test_link_page_rates_once_and_refuses_forgeries(settings: Settings, live: Live) -> None:
    await make_user(live, "cora", Role.agent)
    secret = settings.secret_key.get_secret_value()
    async with (
        staff(live, "cora") as agent,
        customer(live) as (cust, token),
        customer(live) as (c2, token2),
        pinging(agent, cust, c2),
    ):
        cid = (await closed_chat(agent, cust))["conversation_id"]
        cid2 = (await closed_chat(agent, c2, topic="Loan"))["conversation_id"]
    link = links.link_for(secret, conversation_id=cid, closed_at=utcnow(), rate_days=14)
    tok = link.removeprefix("/csat/")
    async with httpx.AsyncClient(base_url=live.base) as h:
        page = await h.get(link)
        assert page.status_code == 200 and "How did we do?" in page.text and "with Cora" in page.text
        assert 'name="score"' in page.text and "<script" not in page.text
        assert (await h.get(f"/api/csat/links/{tok}")).json()["conversation_id"] == cid

        # Forged: altered payload, another secret, garbage; expired: a genuine token past its date.
        other = links.sign(secret, conversation_id=cid2, expires=int(time.time()) + 60)
        altered = tok[:3] + ("A" if tok[3] != "A" else "B") + tok[4:]
        wrong = links.sign("not-the-secret" * 3, conversation_id=cid, expires=int(time.time()) + 60)
        old = links.sign(secret, conversation_id=cid, expires=int(time.time()) - 1)
        for bad, status, code in ((altered, 404, "link_invalid"), (wrong, 404, "link_invalid"),
                                  ("x" * 40, 404, "link_invalid"), (old, 410, "link_expired")):  # fmt: skip
            r = await h.get(f"/api/csat/links/{bad}")
            assert (r.status_code, r.json()["error"]) == (status, code)
            r = await h.post(f"/csat/{bad}", data={"score": "1"})
            assert r.status_code == status and "This link does not work" in r.text

        for form in ({"score": "0"}, {"score": "6"}, {"score": ""}, {"score": "4", "comment": "y" * 1001}):
            r = await h.post(link, data=form)
            assert r.status_code == 422 and "choose 1 to 5 stars" in r.text, form
        r = await h.post(link, data={"score": "4", "comment": "Kind <script>alert(1)</script>"})
        assert r.status_code == 201 and "You rated it 4 out of 5" in r.text
        again = await h.post(link, data={"score": "1"})
        assert again.status_code == 409 and "Already rated" in again.text and "rated 4 out of 5" in again.text
        assert "Already rated" in (await h.get(link)).text
        # The widget route sees the same one rating.
        r = await h.post("/api/csat/ratings", json={"conversation_id": cid, "score": 1}, headers=bearer(token))
        assert r.status_code == 409
        # A link's token for conversation 2 rates conversation 2 only; then the widget is refused for it.
        assert (await h.post(f"/csat/{other}", data={"score": "5"})).status_code == 201
        r = await h.post("/api/csat/ratings", json={"conversation_id": cid2, "score": 1}, headers=bearer(token2))
        assert r.status_code == 409


async def test_too_late_to_rate(settings: Settings, live: Live) -> None:
    await make_user(live, "cora", Role.agent)
    secret = settings.secret_key.get_secret_value()
    async with staff(live, "cora") as agent, customer(live) as (cust, token), pinging(agent, cust):
        cid = (await closed_chat(agent, cust))["conversation_id"]
    # A link signed to last longer than the setting allows is still refused once the conversation is too old.
    settings.csat_rate_days = 1
    live.app.state.settings.csat_rate_days = 1
    from sqlalchemy import update

    from contactcenter.conversations.models import Conversation

    async with live.app.state.db.session() as s:
        await s.execute(
            update(Conversation).where(Conversation.id == cid).values(closed_at=utcnow() - timedelta(days=2))
        )
        await s.commit()
    long = links.sign(secret, conversation_id=cid, expires=int(time.time()) + 86400 * 30)
    async with httpx.AsyncClient(base_url=live.base) as h:
        r = await h.post("/api/csat/ratings", json={"conversation_id": cid, "score": 3}, headers=bearer(token))
        assert r.status_code == 410 and r.json()["error"] == "rating_closed"
        assert (await h.post(f"/csat/{long}", data={"score": "3"})).status_code == 410
