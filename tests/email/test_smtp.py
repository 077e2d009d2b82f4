"""Inbound SMTP into the running app: a real smtplib client; the raw bytes are in the database at 250."""

from __future__ import annotations

import asyncio
import smtplib
import socket
from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from contactcenter.app import create_app
from contactcenter.channels.email.models import EmailRaw
from contactcenter.settings import Settings

MAIL = (
    b"From: Ann <ann@example.com>\r\nTo: help@localhost\r\nSubject: Hello\r\n"
    b"Message-ID: <m1@example.com>\r\n\r\nHi there\r\n"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def mail_app(settings: Settings) -> AsyncIterator[FastAPI]:
    s = settings.model_copy(update={"smtp_enabled": True, "smtp_port": free_port(), "email_max_bytes": 4096})
    app = create_app(s)
    async with app.router.lifespan_context(app):
        app.state.smtp_port = s.smtp_port
        yield app


def send(port: int, rcpt: str, data: bytes) -> dict[str, tuple[int, bytes]]:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as c:
        return c.sendmail("ann@example.com", [rcpt], data)


async def stored(app: FastAPI) -> list[EmailRaw]:
    async with app.state.db.session() as s:
        return list(await s.scalars(select(EmailRaw)))


async def test_mail_is_stored_before_250(mail_app: FastAPI) -> None:
    refused = await asyncio.to_thread(send, mail_app.state.smtp_port, "help@localhost", MAIL)
    assert refused == {}
    rows = await stored(mail_app)
    assert len(rows) == 1
    assert rows[0].data == MAIL
    assert rows[0].rcpt_to == {"to": ["help@localhost"]}


async def test_unaccepted_domain_gets_550(mail_app: FastAPI) -> None:
    with pytest.raises(smtplib.SMTPRecipientsRefused) as err:
        await asyncio.to_thread(send, mail_app.state.smtp_port, "someone@elsewhere.example", MAIL)
    assert err.value.recipients["someone@elsewhere.example"][0] == 550
    assert await stored(mail_app) == []


async def test_oversize_gets_552(mail_app: FastAPI) -> None:
    big = MAIL + (b"x" * 70 + b"\r\n") * 120
    # smtplib announces SIZE=, so the refusal comes at MAIL FROM; a client that does not gets it after DATA
    with pytest.raises(smtplib.SMTPResponseException) as err:
        await asyncio.to_thread(send, mail_app.state.smtp_port, "help@localhost", big)
    assert err.value.smtp_code == 552

    def no_size() -> int:
        with smtplib.SMTP("127.0.0.1", mail_app.state.smtp_port, timeout=10) as c:
            c.ehlo()
            c.mail("ann@example.com")
            c.rcpt("help@localhost")
            code, _ = c.data(big)
            return code

    assert await asyncio.to_thread(no_size) == 552
    assert await stored(mail_app) == []


async def test_cut_off_mid_data_stores_nothing(mail_app: FastAPI) -> None:
    def cut() -> None:
        c = smtplib.SMTP("127.0.0.1", mail_app.state.smtp_port, timeout=10)
        c.ehlo()
        c.mail("ann@example.com")
        c.rcpt("help@localhost")
        c.putcmd("data")
        assert c.getreply()[0] == 354
        c.send(b"Subject: half\r\n\r\nhalf a mess")
        c.sock.close()  # type: ignore[union-attr]

    await asyncio.to_thread(cut)
    # a complete mail after it is stored: the server is fine and the half one never was
    await asyncio.to_thread(send, mail_app.state.smtp_port, "help@localhost", MAIL)
    rows = await stored(mail_app)
    assert [r.data for r in rows] == [MAIL]


async def test_disabled_by_default(settings: Settings) -> None:
    assert settings.smtp_enabled is False
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        pass
