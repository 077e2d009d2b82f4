"""First-response alerts: a running clock within the warning window, and again past its due time, sends
`email_due` to the conversation's agent and to supervisors, once each however many processes look; an
answered clock and a closed conversation send nothing; another agent does not hear it."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from contactcenter.auth.service import create_user
from contactcenter.channels.email import clock
from contactcenter.channels.email.alerts import DueWatch
from contactcenter.channels.email.models import EmailClock
from contactcenter.conversations import service as conversations
from contactcenter.db import utcnow
from contactcenter.settings import Settings
from contactcenter.types import Role
from tests.chat.conftest import Live, live, staff
from tests.chat.test_chat_flow import make_agent
from tests.cobrowse.test_flow import pinging
from tests.conftest import PASSWORD
from tests.email.helpers import by_message_id, free_port, mail, send_async, until_filed

__all__ = ["live"]  # the chat tests' live server (websockets)


@pytest.fixture
def mailing(settings: Settings) -> Settings:
    settings.smtp_enabled, settings.smtp_port = True, free_port()
    settings.email_ack_enabled = False
    settings.email_alert_tick_s = 0.05
    return settings


@pytest.fixture
def mailing_quiet(mailing: Settings) -> Settings:
    mailing.email_alert_tick_s = 3600.0  # the app's own watch looks once, at start; the test's watches do the rest
    return mailing


async def _due_in(live: Live, conversation_id: str, delta: timedelta) -> None:
    async with live.app.state.db.session() as s:  # time moved, not slept
        await s.execute(
            update(EmailClock).where(EmailClock.conversation_id == conversation_id).values(due_at=utcnow() + delta)
        )
        await s.commit()


async def test_the_agent_and_supervisors_hear_due_soon_then_overdue(mailing: Settings, live: Live) -> None:
    agent_id = await make_agent(live.app, "ola")
    await make_agent(live.app, "pia")
    async with live.app.state.db.session() as s:
        await create_user(s, username="sue", display_name="Sue Sup", role=Role.supervisor, password=PASSWORD)
    async with staff(live, "ola") as ola, staff(live, "sue") as sue, pinging(ola, sue):
        live.app.state.smtp_port = mailing.smtp_port
        await send_async(live.app, mail("Ann <ann@example.com>", "<a1@example.com>", "Card not arrived"))
        await until_filed(live.app, 1)
        cid = (await by_message_id(live.app))["<a1@example.com>"].conversation_id
        while (conv := (await ola.next("conversation", timeout=10))["conversation"])["id"] != cid:
            pass
        assert conv["agent_id"] == agent_id  # routed to Ola (Pia is not on line)

        await _due_in(live, cid, timedelta(hours=1))  # inside the 2 h warning window
        for who in (ola, sue):
            due = await who.next("email_due", timeout=10, conversation_id=cid)
            assert (due["state"], due["customer_name"], due["topic"]) == ("warning", "Ann", "Card not arrived")
        await _due_in(live, cid, timedelta(minutes=-5))
        for who in (ola, sue):
            assert (await who.next("email_due", timeout=10, conversation_id=cid))["state"] == "overdue"
        # Nothing is owed any more, and another agent never heard it.
        async with staff(live, "pia") as pia, pinging(pia):
            watch = DueWatch(live.app.state.db, live.app.state.bus, clock.policy_of(mailing), 1.0)
            assert await watch.tick(utcnow()) == 0
            assert not [f for f in pia.frames if f["type"] == "email_due"]
        assert [f["state"] for f in ola.frames if f["type"] == "email_due"] == ["warning", "overdue"]


async def test_each_alert_goes_out_once_across_processes(mailing_quiet: Settings, live: Live) -> None:
    mailing = mailing_quiet
    live.app.state.smtp_port = mailing.smtp_port
    await send_async(live.app, *(mail(f"c{i}@example.com", f"<m{i}@example.com>", f"Q{i}") for i in range(6)))
    await until_filed(live.app, 6)
    found = await by_message_id(live.app)
    cids = [found[f"<m{i}@example.com>"].conversation_id for i in range(6)]
    await _due_in(live, cids[0], timedelta(minutes=-1))
    for cid in cids[1:4]:
        await _due_in(live, cid, timedelta(minutes=30))
    async with live.app.state.db.session() as s:  # answered, and closed: nobody is told
        await s.execute(update(EmailClock).where(EmailClock.conversation_id == cids[4]).values(stopped_at=utcnow()))
        await s.commit()
        await conversations.close(s, live.app.state.bus, conversation_id=cids[5], by="agent")
    for cid in cids[4:]:
        await _due_in(live, cid, timedelta(minutes=-1))
    policy = clock.policy_of(mailing)
    watches = [DueWatch(live.app.state.db, live.app.state.bus, policy, 1.0) for _ in range(3)]
    sent = await asyncio.gather(*(w.tick(utcnow()) for w in watches))
    assert sum(sent) == 4  # one overdue + three due soon; the closed one's clock is marked but not told
    async with live.app.state.db.session() as s:
        rows = {c.conversation_id: c for c in await s.scalars(select(EmailClock))}
    assert rows[cids[0]].breached_at is not None and rows[cids[1]].breached_at is None
    assert rows[cids[1]].warned_at is not None and rows[cids[4]].warned_at is None
    assert sum(await asyncio.gather(*(w.tick(utcnow()) for w in watches))) == 0
