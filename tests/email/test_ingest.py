"""Ingestion: a mail sent over SMTP is filed into an email conversation of the sender's customer, with a
CCR touch; a backlog is filed at start; two workers never file one raw message twice; unreadable mail is
still a conversation."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from contactcenter.app import create_app
from contactcenter.bus.memory import MemoryBus
from contactcenter.ccr.models import CustomerIdentity, Touch
from contactcenter.channels.email import filing, service
from contactcenter.channels.email.ingest import Ingestor
from contactcenter.channels.email.models import EmailMessage, EmailRaw
from contactcenter.channels.email.parse import Parsed
from contactcenter.conversations.models import Conversation
from contactcenter.db import Database
from contactcenter.settings import Settings
from tests.email.helpers import by_message_id, mail, running_mail_app, send_async, until_filed


@pytest.fixture
async def mail_app(settings: Settings) -> AsyncIterator[FastAPI]:
    async for app in running_mail_app(settings):
        yield app


async def test_mail_becomes_an_email_conversation_and_a_touch(mail_app: FastAPI) -> None:
    await send_async(mail_app, mail("Ann Smith <Ann@Example.com>", "<a1@ex>", "My order"))
    await until_filed(mail_app, 1)
    await send_async(mail_app, mail("ann@example.com", "<a2@ex>", "Re: My order", reply_to="<a1@ex>", refs="<a1@ex>"))
    await until_filed(mail_app, 2)
    found = await by_message_id(mail_app)
    first, reply = found["<a1@ex>"], found["<a2@ex>"]
    assert (first.reason, reply.reason) == ("new", "in-reply-to")
    assert first.conversation_id == reply.conversation_id
    async with mail_app.state.db.session() as s:
        conv = await s.get(Conversation, first.conversation_id)
        assert conv is not None
        assert (conv.channel, conv.customer_name, conv.topic) == ("email", "Ann Smith", "My order")
        ident = await s.scalar(select(CustomerIdentity).where(CustomerIdentity.customer_id == conv.customer_id))
        assert ident is not None and (ident.kind, ident.value) == ("email", "ann@example.com")
        touches = list(await s.scalars(select(Touch).where(Touch.conversation_id == conv.id, Touch.kind == "email")))
        assert len(touches) == 2 and all(t.direction == "in" and t.channel == "email" for t in touches)
        states = set(await s.scalars(select(EmailRaw.state)))
        assert states == {"done"}


async def test_backlog_is_filed_at_start(settings: Settings) -> None:
    db = Database(settings.database_url)
    raws = [mail(f"c{i}@example.com", f"<b{i}@ex>") for i in range(3)]
    async with db.session() as s:
        for r in raws:
            s.add(EmailRaw(mail_from="x@example.com", rcpt_to={"to": []}, size=len(r), sha256=_h(r), data=r))
        await s.commit()
    await db.dispose()
    app = create_app(settings)  # SMTP off: the worker still files what is stored
    async with app.router.lifespan_context(app):
        await until_filed(app, 3)
        assert set(await by_message_id(app)) == {"<b0@ex>", "<b1@ex>", "<b2@ex>"}


def _h(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


async def test_two_workers_never_file_one_message_twice(db_url: str) -> None:
    n = 24
    seed = Database(db_url)
    async with seed.session() as s:
        for i in range(n):
            r = mail(f"p{i % 5}@example.com", f"<w{i}@ex>")
            s.add(EmailRaw(mail_from="x@example.com", rcpt_to={"to": []}, size=len(r), sha256=_h(r), data=r))
        await s.commit()
    # Two databases and two workers: what two processes sharing one database would do.
    dbs = [Database(db_url), Database(db_url)]
    workers = [Ingestor(d, MemoryBus(), region="GB") for d in dbs]
    try:
        counts = await asyncio.gather(*(w.drain() for w in workers))
        assert sum(counts) == n  # each worker counts only what it filed itself
        async with seed.session() as s:
            raw_ids = list(await s.scalars(select(EmailMessage.raw_id)))
            assert sorted(raw_ids) == sorted(set(raw_ids)) and len(raw_ids) == n
            touches = await s.scalar(select(func.count()).select_from(Touch).where(Touch.kind == "email"))
            assert touches == n
        # and filing again files nothing
        assert await workers[0].drain() == 0
    finally:
        for d in [*dbs, seed]:
            await d.dispose()


async def test_file_raw_twice_files_once(db: Database) -> None:
    r = b"garbage"
    async with db.session() as s:
        row = EmailRaw(mail_from="", rcpt_to={"to": []}, size=len(r), sha256=_h(r), data=r)
        s.add(row)
        await s.commit()
        raw_id, at = row.id, row.received_at
    parsed = Parsed(unreadable=True, defects=["broken"])
    bus = MemoryBus()
    async with db.session() as s:
        cid, name = await service.sender_customer(s, parsed=parsed, mail_from="", region="GB")
    assert name == service.UNKNOWN_SENDER
    results = []
    for _ in range(2):
        async with db.session() as s:
            results.append(await filing.file_raw(s, bus, raw=filing.RawIn(raw_id, at, parsed, cid, name)))
    first, second = results
    assert first is not None and second is None
    # unreadable: flagged, and still a conversation an agent sees
    assert first.message.unreadable and first.opened
    async with db.session() as s:
        conv = await s.get(Conversation, first.message.conversation_id)
        assert conv is not None and conv.status == "queued" and conv.channel == "email"
        assert await s.scalar(select(func.count()).select_from(EmailMessage)) == 1


async def test_nul_characters_and_long_names_are_filed(db: Database) -> None:
    # PostgreSQL refuses NUL in text: a mail whose bytes decode to one must still be filed, not jam the queue
    r = b"nul"
    async with db.session() as s:
        row = EmailRaw(mail_from="", rcpt_to={"to": []}, size=len(r), sha256=_h(r), data=r)
        s.add(row)
        await s.commit()
        raw_id, at = row.id, row.received_at
    parsed = Parsed(
        message_id="<a\x00b@x>",
        references=["<r\x00@x>"],
        subject="Hi\x00there",
        from_addr="nul@example.com",
        from_name="N" * 300,
        text="body\x00",
        html="<p>x\x00</p>",
    )
    async with db.session() as s:
        cid, name = await service.sender_customer(s, parsed=parsed, mail_from="", region="GB")
    async with db.session() as s:
        filed = await filing.file_raw(s, MemoryBus(), raw=filing.RawIn(raw_id, at, parsed, cid, name))
    assert filed is not None and "\x00" not in filed.message.text + filed.message.subject
    assert filed.message.message_id == "<a\ufffdb@x>"
