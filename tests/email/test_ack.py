"""Auto-acknowledgement of a new thread: once, with the reference, the expected answer time and matching
knowledge-base links, marked automatic and sent with a null envelope sender; never to automatic mail; a
sender that answers every mail automatically (without saying so) gets only so many: no loop."""

from __future__ import annotations

import asyncio
import smtplib
from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from contactcenter.channels.email import clock
from contactcenter.channels.email.models import EmailOut
from contactcenter.channels.email.outbox import reference
from contactcenter.channels.email.parse import parse
from contactcenter.db import utcnow
from contactcenter.kb import service as kb
from contactcenter.kb.schemas import ArticleIn, Status
from contactcenter.settings import Settings
from tests.email.helpers import by_message_id, filed_count, free_port, mail, send, send_async, until, until_filed
from tests.email.outhelpers import relayed_app
from tests.email.relay import Sink


@pytest.fixture
async def acking(settings: Settings) -> AsyncIterator[tuple[FastAPI, Sink]]:
    sink = Sink(port=free_port())
    await sink.start()
    async with relayed_app(settings, sink.port, email_ack_enabled=True) as app:
        yield app, sink
    await sink.close()


async def _acks(app: FastAPI) -> list[EmailOut]:
    async with app.state.db.session() as s:
        return list(await s.scalars(select(EmailOut).where(EmailOut.kind == "ack").order_by(EmailOut.id)))


async def test_new_thread_is_acknowledged_once(acking: tuple[FastAPI, Sink]) -> None:
    app, sink = acking
    async with app.state.db.session() as s:
        for slug, title in (("lost-card", "Lost or stolen card"), ("card-delivery", "When does my card arrive")):
            data = ArticleIn(slug=slug, title=title, body_md=f"About your card: {title}.", status=Status.published)
            await kb.create(s, data=data, author_id=1)
    await send_async(app, mail("Ann <ann@example.com>", "<q1@example.com>", "Where is my card?"))
    await until_filed(app, 1)

    async def one_sent() -> bool:
        return len(sink.received) == 1

    await until(one_sent)
    conv_id = (await by_message_id(app))["<q1@example.com>"].conversation_id
    got = sink.received[0]
    msg = got.message()
    ref = reference(conv_id)
    assert got.mail_from == "<>" and got.rcpt_tos == ["ann@example.com"]  # null envelope sender: RFC 3834
    assert str(msg["Auto-Submitted"]) == "auto-generated"
    assert str(msg["Subject"]) == f"[{ref}] Re: Where is my card?"
    assert str(msg["In-Reply-To"]) == "<q1@example.com>" and str(msg["References"]) == "<q1@example.com>"
    body = msg.get_content()
    assert ref in body and "within 24 hours" in body and "Hello Ann," in body
    assert "/api/kb/articles/lost-card" in body and "/api/kb/articles/card-delivery" in body
    assert parse(got.data).automatic  # another help desk like us never acknowledges it: no loop

    # A reply in the same thread, and an answer to the acknowledgement: filed there, not acknowledged.
    ack_id = str(msg["Message-ID"])
    await send_async(app, mail("ann@example.com", "<q2@example.com>", "Re: card", reply_to="<q1@example.com>"))
    await send_async(app, mail("ann@example.com", "<q3@example.com>", f"Re: [{ref}] card", reply_to=ack_id))
    await until_filed(app, 3)
    found = await by_message_id(app)
    assert {found[m].conversation_id for m in ("<q2@example.com>", "<q3@example.com>")} == {conv_id}
    assert found["<q3@example.com>"].reason == "in-reply-to"
    assert len(await _acks(app)) == 1  # staged with the filing, so this is final

    # The acknowledgement did not stop the first-response clock.
    async with app.state.db.session() as s:
        policy = clock.policy_of(app.state.settings)
        running = await clock.of_conversation(s, conversation_id=conv_id, now=utcnow(), policy=policy)
    assert running is not None and running.stopped_at is None


AUTOMATIC = [
    ("Auto-Submitted: auto-replied", "sender@example.com"),
    ("Precedence: bulk", "sender@example.com"),
    ("List-Id: <news.example.com>", "sender@example.com"),
    ("Return-Path: <>", "sender@example.com"),
    ("X-Plain: yes", ""),  # a null envelope sender: a bounce
]


async def test_automatic_mail_is_never_acknowledged(acking: tuple[FastAPI, Sink]) -> None:
    app, _ = acking
    for i, (header, envelope) in enumerate(AUTOMATIC):
        raw = f"From: robot{i}@example.com\r\nTo: help@localhost\r\nSubject: Notice {i}\r\n{header}\r\n".encode()
        raw += f"Message-ID: <auto{i}@example.com>\r\n\r\nAutomatic.\r\n".encode()
        await asyncio.to_thread(_send_from, app.state.smtp_port, envelope, raw)
    report = (
        b"From: MAILER-DAEMON@example.com\r\nTo: help@localhost\r\nSubject: Undelivered\r\n"
        b"Message-ID: <dsn@example.com>\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=B\r\n"
        b"\r\n--B\r\nContent-Type: text/plain\r\n\r\nFailed.\r\n--B--\r\n"
    )
    ours = mail("colleague@localhost", "<own@localhost>", "From one of ours")
    await send_async(app, report, ours)
    await until_filed(app, len(AUTOMATIC) + 2)
    assert await _acks(app) == []


def _send_from(port: int, envelope: str, raw: bytes) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as c:
        c.sendmail(envelope, ["help@localhost"], raw)


class AutoReplier(Sink):
    """A help desk that answers every mail with a new one, without saying it is automatic."""

    inbound_port: int = 0
    tasks: set[asyncio.Task[None]]

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        answer = await super().handle_DATA(server, session, envelope)  # type: ignore[arg-type]
        n = len(self.received)
        bot = mail("bot@example.com", f"<bot{n}@example.com>", f"We got your mail number {n}")
        self.tasks.add(asyncio.create_task(asyncio.to_thread(send, self.inbound_port, bot)))
        return answer


async def test_an_auto_replying_sender_does_not_loop(settings: Settings) -> None:
    bot = AutoReplier(port=free_port())
    bot.tasks = set()
    await bot.start()
    try:
        async with relayed_app(settings, bot.port, email_ack_enabled=True, email_ack_per_sender=3) as app:
            bot.inbound_port = app.state.smtp_port
            await send_async(app, mail("bot@example.com", "<bot0@example.com>", "Hello help desk"))

            async def settled() -> bool:  # 3 acks sent, and the bot's answers to them (3) filed after its first
                acks = await _acks(app)
                return len(acks) == 3 and all(a.status == "sent" for a in acks) and await filed_count(app) == 4

            await until(settled)
            await asyncio.gather(*bot.tasks)
            assert len(bot.received) == 3 and await filed_count(app) == 4
            async with app.state.db.session() as s:  # the fourth one was filed, and nothing was queued for it
                assert await s.scalar(select(func.count()).select_from(EmailOut)) == 3
    finally:
        await bot.close()
