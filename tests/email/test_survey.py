"""The rating request of a closing email conversation: sent (automatic, threaded) only when a person answered
it; its link opens the rating page without signing in and takes one rating; none without an answer, and
none when CC_EMAIL_CSAT_LINK is empty."""

from __future__ import annotations

import re
from email.message import EmailMessage

import httpx
from sqlalchemy import select

from contactcenter.channels.email.models import EmailOut
from contactcenter.channels.email.outbox import reference
from contactcenter.csat.models import CsatRating
from contactcenter.settings import Settings
from tests.email.helpers import free_port, until
from tests.email.outhelpers import received_and_assigned, relayed_app, until_outgoing, user_maker
from tests.email.relay import Sink


async def _survey_rows(app: object, conv_id: str) -> list[EmailOut]:
    async with app.state.db.session() as s:  # type: ignore[attr-defined]
        q = select(EmailOut).where(EmailOut.conversation_id == conv_id, EmailOut.kind == "survey")
        return list(await s.scalars(q))


async def test_an_answered_thread_is_asked_for_a_rating_when_it_closes(settings: Settings) -> None:
    sink = Sink(port=free_port())
    await sink.start()
    async with relayed_app(settings, sink.port, email_csat_link="http://help.example.test{path}") as app:
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            conv_id, _ = await received_and_assigned(app, client, user_maker(app))
            r = await client.post(f"/api/email/conversations/{conv_id}/replies", json={"text": "It is on its way."})
            assert r.status_code == 201
            await until_outgoing(client, conv_id, status="sent")
            closed = await client.post(f"/api/conversations/{conv_id}/close", json={"outcome": "resolved"})
            assert closed.status_code == 200, closed.text

            async def two_sent() -> bool:
                return len(sink.received) == 2

            await until(two_sent)
            survey: EmailMessage = sink.received[1].message()
            ref = reference(conv_id)
            assert str(survey["Subject"]).startswith(f"[{ref}] How did we do?")
            assert str(survey["Auto-Submitted"]) == "auto-generated" and sink.received[1].mail_from == "<>"
            assert str(survey["In-Reply-To"]) == "<q1@example.com>" and sink.received[1].rcpt_tos == ["ann@example.com"]
            m = re.search(r"http://help\.example\.test(/csat/\S+)", survey.get_content())
            assert m is not None
            page = await client.get(m[1])
            assert page.status_code == 200 and "How did we do" in page.text
            rated = await client.post(m[1], data={"score": "5", "comment": "Quick, thanks"})
            assert rated.status_code == 201
            again = await client.post(m[1], data={"score": "1"})
            assert again.status_code == 409  # one rating per conversation, whoever holds the link
            async with app.state.db.session() as s:
                row = await s.get(CsatRating, conv_id)
            assert row is not None and (row.score, row.comment, row.channel) == (5, "Quick, thanks", "email")
            thread = (await client.get(f"/api/email/conversations/{conv_id}/thread")).json()
            assert [o["kind"] for o in thread["outgoing"]] == ["reply", "survey"]
    await sink.close()


async def test_no_rating_request_without_an_answer_or_without_a_link(settings: Settings) -> None:
    async with relayed_app(settings) as app:
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            conv_id, _ = await received_and_assigned(app, client, user_maker(app))
            assert (
                await client.post(f"/api/conversations/{conv_id}/close", json={"outcome": "resolved"})
            ).status_code == 200
            assert await _survey_rows(app, conv_id) == []  # nobody answered: nothing to rate
    async with relayed_app(settings, email_csat_link="") as app:
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            conv_id, _ = await received_and_assigned(app, client, user_maker(app), mid="<q9@example.com>", n=2)
            r = await client.post(f"/api/email/conversations/{conv_id}/replies", json={"text": "Done."})
            assert r.status_code == 201
            assert (
                await client.post(f"/api/conversations/{conv_id}/close", json={"outcome": "resolved"})
            ).status_code == 200
            assert await _survey_rows(app, conv_id) == []
