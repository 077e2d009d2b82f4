"""The first-response clock: it starts at the customer's first message (its arrival), later messages do not
move it, an acknowledgement, a note or a reply still in the outbox do not stop it, a sent reply does (at its
sending); answered, the thread starts no new clock until it is reopened; automatic mail starts none;
supervisors see every overdue clock, an agent their own."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update

from contactcenter.channels.email import clock
from contactcenter.channels.email.models import EmailClock, EmailMessage
from contactcenter.conversations import service as conversations
from contactcenter.db import utcnow
from contactcenter.settings import QueueHours, Settings
from contactcenter.types import Role
from tests.conftest import login
from tests.email.helpers import by_message_id, free_port, mail, send_async, until, until_filed
from tests.email.outhelpers import received_and_assigned, relayed_app, until_outgoing, user_maker
from tests.email.relay import Sink


async def _clocks(app: FastAPI) -> list[EmailClock]:
    async with app.state.db.session() as s:
        return list(await s.scalars(select(EmailClock).order_by(EmailClock.id)))


async def test_only_a_sent_reply_stops_the_clock(settings: Settings) -> None:
    sink = Sink()
    async with relayed_app(settings, email_ack_enabled=True) as app:
        sink.port = app.state.relay_port
        make_user = user_maker(app)
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            conv_id, _ = await received_and_assigned(app, client, make_user)
            first = (await by_message_id(app))["<q1@example.com>"]
            [c] = await _clocks(app)
            assert (c.conversation_id, c.email_message_id, c.started_at) == (conv_id, first.id, first.received_at)
            assert c.due_at == first.received_at + timedelta(hours=24) and c.stopped_at is None

            # A second customer message, a note, the acknowledgement (queued: the relay is down) and a reply
            # still in the outbox: the clock runs on, from the first message.
            await send_async(app, mail("ann@example.com", "<q2@example.com>", "Re: card", reply_to="<q1@example.com>"))
            await until_filed(app, 2)
            url = f"/api/email/conversations/{conv_id}"
            assert (await client.post(f"{url}/notes", json={"text": "Checked the courier."})).status_code == 201
            reply = await client.post(f"{url}/replies", json={"text": "It is on its way."})
            assert reply.status_code == 201
            await until_outgoing(client, conv_id, attempts=lambda n: n >= 1)
            [c] = await _clocks(app)
            assert c.stopped_at is None and c.started_at == first.received_at
            thread = (await client.get(f"{url}/thread")).json()
            assert {o["kind"] for o in thread["outgoing"]} == {"ack", "note", "reply"}
            assert thread["clock"]["stopped_at"] is None and thread["clock"]["overdue"] is False

            await sink.start()  # the relay is back: the ack and the reply go out; only the reply stops it
            sent = await until_outgoing(client, conv_id, status="sent")
            [c] = await _clocks(app)
            assert c.stopped_by == reply.json()["id"] and c.stopped_at is not None
            assert abs((c.stopped_at - utcnow()).total_seconds()) < 600 and sent["sent_at"] is not None

            # Answered: another customer message in the open thread starts no new clock.
            await send_async(app, mail("ann@example.com", "<q3@example.com>", "Re: card", reply_to="<q2@example.com>"))
            await until_filed(app, 3)
            assert len(await _clocks(app)) == 1

            # Closed, then reopened by the customer: a new clock from the reopening message.
            async with app.state.db.session() as s:
                await conversations.close(s, app.state.bus, conversation_id=conv_id, by="agent")
            await send_async(app, mail("ann@example.com", "<q4@example.com>", "Re: card", reply_to="<q3@example.com>"))
            await until_filed(app, 4)
            reopening = (await by_message_id(app))["<q4@example.com>"]
            assert reopening.reason == "reopened"
            clocks = await _clocks(app)
            assert len(clocks) == 2 and clocks[1].email_message_id == reopening.id
            assert clocks[1].started_at == reopening.received_at and clocks[1].stopped_at is None

            # Automatic mail opening a thread waits for nobody.
            auto = b"From: robot@example.com\r\nTo: help@localhost\r\nSubject: Out of office\r\n"
            auto += b"Auto-Submitted: auto-replied\r\nMessage-ID: <oo@example.com>\r\n\r\nAway.\r\n"
            await send_async(app, auto)
            await until_filed(app, 5)
            assert len(await _clocks(app)) == 2
    await sink.close()


async def test_overdue_clocks_for_supervisors_and_agents(settings: Settings) -> None:
    async with relayed_app(settings) as app:
        make_user = user_maker(app)
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            mine, _ = await received_and_assigned(app, client, make_user)
            await send_async(app, mail("Bo <bo@example.com>", "<b1@example.com>", "Other question"))
            await until_filed(app, 2)
            other = (await by_message_id(app))["<b1@example.com>"].conversation_id
            async with app.state.db.session() as s:  # Bo's has waited past its due time (time moved, not slept)
                await s.execute(
                    update(EmailClock)
                    .where(EmailClock.conversation_id == other)
                    .values(due_at=utcnow() - timedelta(hours=1))
                )
                await s.commit()

            agents_view = (await client.get("/api/email/first-response")).json()
            assert [c["conversation_id"] for c in agents_view] == [mine]  # theirs only
            assert agents_view[0]["overdue"] is False and 0 < agents_view[0]["seconds_left"] <= 24 * 3600
            assert agents_view[0]["warning"] is False  # 24 h to go; the warning starts 2 h before
            async with app.state.db.session() as s:  # an hour left: a warning, not yet overdue
                soon = utcnow() + timedelta(hours=1)
                await s.execute(update(EmailClock).where(EmailClock.conversation_id == mine).values(due_at=soon))
                await s.commit()
            [warned] = (await client.get("/api/email/first-response")).json()
            assert (warned["warning"], warned["overdue"]) == (True, False)
            assert (await client.get("/api/email/first-response?overdue=true")).json() == []

            await login(client, await make_user(Role.supervisor))
            every = (await client.get("/api/email/first-response")).json()
            assert [c["conversation_id"] for c in every] == [other, mine]  # soonest breach first
            assert every[0]["overdue"] is True and every[0]["seconds_left"] < 0 and every[0]["customer_name"] == "Bo"
            assert every[0]["warning"] is False and every[1]["warning"] is True
            overdue = (await client.get("/api/email/first-response?overdue=true")).json()
            assert [c["conversation_id"] for c in overdue] == [other]

            await login(client, await make_user(Role.planner))
            assert (await client.get("/api/email/first-response")).json()["error"] == "forbidden"


async def test_split_off_message_gets_its_own_clock(settings: Settings) -> None:
    async with relayed_app(settings) as app:
        make_user = user_maker(app)
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            conv_id, _ = await received_and_assigned(app, client, make_user)
            await send_async(app, mail("ann@example.com", "<q2@example.com>", "Re: x", reply_to="<q1@example.com>"))
            await until_filed(app, 2)
            second = (await by_message_id(app))["<q2@example.com>"]
            r = await client.post(f"/api/email/messages/{second.id}/split")
            assert r.status_code == 200, r.text

            async def two() -> bool:
                return len(await _clocks(app)) == 2

            await until(two)
            clocks = await _clocks(app)
            assert clocks[1].conversation_id == r.json()["id"] and clocks[1].email_message_id == second.id
            async with app.state.db.session() as s:
                moved = await s.get(EmailMessage, second.id)
                assert moved is not None and clocks[1].started_at == moved.received_at
            assert clocks[0].conversation_id == conv_id


def _days_from_today(n: int, zone: str = "Europe/London") -> str:
    today = utcnow().astimezone(ZoneInfo(zone)).date()
    return ",".join(str(today + timedelta(days=d)) for d in range(n))


async def test_the_clock_counts_staffed_time_only(settings: Settings) -> None:
    # The customer's queue is on holiday today and the next two days: the clock stands still (paused) and
    # is due a full staffed day after the holidays; the acknowledgement names that time, not "24 hours".
    sink = Sink(port=free_port())
    await sink.start()
    queue_hours = {"general": QueueHours(holidays=_days_from_today(3))}
    async with relayed_app(settings, sink.port, email_ack_enabled=True, email_queue_hours=queue_hours) as app:
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            conv_id, _ = await received_and_assigned(app, client, user_maker(app))
            first = (await by_message_id(app))["<q1@example.com>"]
            [c] = await _clocks(app)
            assert c.due_at - first.received_at >= timedelta(hours=48 + 24)
            policy = clock.policy_of(app.state.settings)
            assert c.due_at == policy.calendars.of("general").add(first.received_at, timedelta(hours=24))
            thread = (await client.get(f"/api/email/conversations/{conv_id}/thread")).json()
            assert thread["clock"]["paused"] is True and thread["clock"]["warning"] is False
            [listed] = (await client.get("/api/email/first-response")).json()
            assert listed["paused"] is True and listed["seconds_left"] > 48 * 3600

            async def acked() -> bool:
                return len(sink.received) == 1

            await until(acked)
            body = sink.received[0].message().get_content().replace("\r\n", "\n")
            local_due = c.due_at.astimezone(ZoneInfo("Europe/London"))
            assert f"we answer\nby {local_due:%A %-d %B, %H:%M} (Europe/London time)" in body
            assert "within 24 hours" not in body
    await sink.close()


async def test_round_the_clock_queues_are_due_in_wall_time(settings: Settings) -> None:
    # Another queue's holidays do not touch this one: 24 h after arrival, running, not paused.
    queue_hours = {"billing": QueueHours(hours="mon=09:00-10:00", holidays=_days_from_today(3))}
    async with relayed_app(settings, email_queue_hours=queue_hours) as app:
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            conv_id, _ = await received_and_assigned(app, client, user_maker(app))
            first = (await by_message_id(app))["<q1@example.com>"]
            [c] = await _clocks(app)
            assert c.due_at == first.received_at + timedelta(hours=24)
            thread = (await client.get(f"/api/email/conversations/{conv_id}/thread")).json()
            assert thread["clock"]["paused"] is False


@pytest.mark.parametrize(
    "bad",
    [{"email_hours": "mon-fri=9-5"}, {"holidays": "tomorrow"}, {"email_queue_hours": {"x": QueueHours(hours="sun=")}}],
)
def test_malformed_business_hours_stop_the_start(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="CC_EMAIL_HOURS"):
        clock.policy_of(Settings(**bad))  # type: ignore[arg-type]
