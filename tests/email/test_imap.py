"""The IMAP poller against a real Dovecot: mail put in the mailbox is stored, filed into conversations and
only then marked seen (or deleted); a message that cannot be stored is never marked; a renumbered folder
and two pollers on one mailbox store nothing twice; a refused login is reported, not fatal."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import func, select, text, update

from contactcenter.channels.email.imap import ImapPoller, LostCursor
from contactcenter.channels.email.models import EmailImapCursor, EmailMessage, EmailRaw
from contactcenter.settings import Settings
from contactcenter.types import Role
from tests.conftest import login
from tests.email.dovecot import PASSWORD, USER, Dovecot, dovecot
from tests.email.helpers import filed_count, mail, running_mail_app, until, until_filed
from tests.email.outhelpers import user_maker

SEEN = "\\Seen"
WAITING = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE '%%email_raw%%'"


@pytest.fixture
def imap() -> Iterator[Dovecot]:
    with dovecot() as server:
        yield server


def imap_settings(server: Dovecot, **extra: Any) -> dict[str, Any]:
    return {
        "email_imap_host": "127.0.0.1",
        "email_imap_port": server.port,
        "email_imap_ssl": False,
        "email_imap_username": USER,
        "email_imap_password": SecretStr(PASSWORD),
        "email_imap_poll_s": 0.1,
        "email_imap_timeout_s": 10.0,
        "email_ack_enabled": False,
        **extra,
    }


@asynccontextmanager
async def polling_app(settings: Settings, server: Dovecot, **extra: Any) -> AsyncIterator[FastAPI]:
    async for app in running_mail_app(settings, **imap_settings(server, **extra)):
        yield app


def poller(app: FastAPI) -> ImapPoller:
    p = app.state.capabilities["email"].imap
    assert isinstance(p, ImapPoller)
    return p


async def cursor(app: FastAPI) -> EmailImapCursor:
    async with app.state.db.session() as s:
        [c] = list(await s.scalars(select(EmailImapCursor)))
        return c


async def raw_count(app: FastAPI) -> int:
    async with app.state.db.session() as s:
        return int(await s.scalar(select(func.count()).select_from(EmailRaw)) or 0)


async def polls_after(app: FastAPI, n: int = 2) -> None:
    """Wait until `n` more whole polls have run (each starts after the one before it ended)."""
    p = poller(app)
    target = p.polls + n
    p.wake.set()

    async def done() -> bool:
        p.wake.set()
        return p.polls >= target

    await until(done)


async def test_mail_is_stored_filed_then_marked_seen(settings: Settings, imap: Dovecot) -> None:
    imap.append(
        mail("Ann <ann@example.com>", "<i1@example.com>", "Card"),
        mail("ann@example.com", "<i2@example.com>", "Re: Card", reply_to="<i1@example.com>"),
        mail("Bo <bo@example.com>", "<i3@example.com>", "Loan"),
    )
    async with polling_app(settings, imap) as app:
        await until_filed(app, 3)

        async def all_seen() -> bool:
            return all(SEEN in f for f in imap.flags().values())

        await until(all_seen)
        async with app.state.db.session() as s:
            msgs = list(await s.scalars(select(EmailMessage).order_by(EmailMessage.id)))
            peers = set(await s.scalars(select(EmailRaw.peer)))
        assert [m.message_id for m in msgs] == ["<i1@example.com>", "<i2@example.com>", "<i3@example.com>"]
        assert msgs[0].conversation_id == msgs[1].conversation_id != msgs[2].conversation_id  # threaded
        assert peers == {"imap:127.0.0.1"}

        imap.append(mail("Cy <cy@example.com>", "<i4@example.com>", "Address change"))
        await until_filed(app, 4)
        await until(all_seen)
        await polls_after(app)
        c = await cursor(app)
        assert (c.last_uid, c.done_uid, c.stored, c.last_error) == (4, 4, 4, None)
        assert await raw_count(app) == 4  # polled again and again: nothing stored twice


async def test_stored_but_unmarked_messages_are_marked_not_stored_again(settings: Settings, imap: Dovecot) -> None:
    # As after a crash between the storing commit and the marking: the cursor's done_uid behind last_uid.
    imap.append(*(mail(f"k{i}@example.com", f"<k{i}@example.com>", f"Q{i}") for i in range(3)))
    async with polling_app(settings, imap) as app:
        await until_filed(app, 3)
        await polls_after(app)
        imap.unflag()
        async with app.state.db.session() as s:
            await s.execute(update(EmailImapCursor).values(done_uid=1))
            await s.commit()
        await polls_after(app)
        flags = imap.flags()
        assert SEEN not in flags[1] and SEEN in flags[2] and SEEN in flags[3]  # marked from done_uid on
        assert (await cursor(app)).done_uid == 3 and await raw_count(app) == 3


async def test_a_message_too_large_to_store_is_left_unread(settings: Settings, imap: Dovecot) -> None:
    big = mail("Dee <dee@example.com>", "<big@example.com>", "Scan", body="x" * 6000)
    imap.append(big, mail("Dee <dee@example.com>", "<small@example.com>", "Scan, smaller"))
    async with polling_app(settings, imap, email_max_bytes=4096) as app:
        await until_filed(app, 1)
        await polls_after(app)
        flags = imap.flags()
        assert SEEN not in flags[1] and SEEN in flags[2]
        c = await cursor(app)
        assert c.last_uid == 2 and c.last_error is not None and "[1]" in c.last_error
        assert await raw_count(app) == 1


async def test_delete_mode_removes_only_what_was_stored(settings: Settings, imap: Dovecot) -> None:
    imap.append(mail("Eve <eve@example.com>", "<d1@example.com>", "Close my account"))
    async with polling_app(settings, imap, email_imap_after="delete") as app:
        await until_filed(app, 1)

        async def gone() -> bool:
            return imap.flags() == {}

        await until(gone)
        assert (await cursor(app)).done_uid == 1


async def test_a_renumbered_folder_stores_nothing_twice(settings: Settings, imap: Dovecot) -> None:
    imap.append(*(mail(f"c{i}@example.com", f"<r{i}@example.com>", f"Q{i}") for i in range(3)))
    async with polling_app(settings, imap) as app:
        await until_filed(app, 3)
        await polls_after(app)
        real = (await cursor(app)).uidvalidity
        async with app.state.db.session() as s:  # as if the folder had been restored: every UID new again
            await s.execute(update(EmailImapCursor).values(uidvalidity=real + 1))
            await s.commit()
        await polls_after(app)
        c = await cursor(app)
        assert (c.uidvalidity, c.last_uid, c.stored) == (real, 3, 3)
        assert await raw_count(app) == 3 and await filed_count(app) == 3


async def test_two_pollers_on_one_mailbox_store_each_message_once(settings: Settings, imap: Dovecot) -> None:
    async with polling_app(settings, imap, email_imap_poll_s=3600.0) as app:
        cfg = poller(app).cfg
        first = ImapPoller(app.state.db, cfg, after="seen", poll_s=0.1, max_bytes=10**6)
        second = ImapPoller(app.state.db, cfg, after="seen", poll_s=0.1, max_bytes=10**6)
        for batch in range(3):
            imap.append(*(mail(f"p{batch}x{i}@example.com", f"<p{batch}x{i}@example.com>", "Q") for i in range(10)))
            await asyncio.gather(first.poll_once(), second.poll_once(), poller(app).poll_once())
        await asyncio.gather(first.poll_once(), second.poll_once())
        assert await raw_count(app) == 30
        async with app.state.db.session() as s:
            assert await s.scalar(select(func.count(func.distinct(EmailRaw.sha256)))) == 30
        # A poll whose cursor moved under it (the lease lapsed mid-read) stores nothing.
        with pytest.raises(LostCursor):
            await first._commit(0, 30, {31: b"From: x@example.com\r\n\r\nlate\r\n"}, [])
        assert await raw_count(app) == 30


async def test_while_the_store_waits_nothing_is_marked(settings: Settings, imap: Dovecot) -> None:
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("holds a table lock from another PostgreSQL session")
    async with polling_app(settings, imap, email_imap_poll_s=3600.0) as app:
        await polls_after(app, 1)
        dsn = settings.database_url.replace("postgresql+asyncpg", "postgresql")
        locker = await asyncpg.connect(dsn)
        try:
            tx = locker.transaction()
            await tx.start()
            await locker.execute("LOCK TABLE email_raw IN ACCESS EXCLUSIVE MODE")
            imap.append(mail("Fay <fay@example.com>", "<w1@example.com>", "Waiting"))
            poller(app).wake.set()

            async def insert_waits() -> bool:
                async with app.state.db.engine.connect() as conn:
                    n = await conn.scalar(text(WAITING))
                    return bool(n)

            await until(insert_waits)
            assert all(SEEN not in f for f in imap.flags().values())  # read, not yet stored: not marked
            await tx.rollback()
        finally:
            await locker.close()
        await until_filed(app, 1)

        async def seen() -> bool:
            return all(SEEN in f for f in imap.flags().values())

        await until(seen)


async def test_a_refused_login_is_reported_and_retried(settings: Settings, imap: Dovecot) -> None:
    imap.append(mail("Gus <gus@example.com>", "<l1@example.com>", "Hello"))
    async with polling_app(settings, imap, email_imap_password=SecretStr("wrong")) as app:
        await polls_after(app, 1)
        assert await raw_count(app) == 0 and all(SEEN not in f for f in imap.flags().values())
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            make_user = user_maker(app)
            await login(client, await make_user(Role.agent))
            assert (await client.get("/api/email/imap")).json()["error"] == "forbidden"
            await login(client, await make_user(Role.supervisor))
            [status] = (await client.get("/api/email/imap")).json()
            assert status["mailbox"] == f"{USER}@127.0.0.1:{imap.port}/INBOX"
            assert status["last_error"] and "authentication" in status["last_error"].lower()
            assert status["stored"] == 0
