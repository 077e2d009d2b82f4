"""Shared by the email tests: an app with its SMTP server on a free port, sending, waiting for filing."""

from __future__ import annotations

import asyncio
import smtplib
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from fastapi import FastAPI
from sqlalchemy import func, select

from contactcenter.app import create_app
from contactcenter.channels.email.models import EmailMessage
from contactcenter.settings import Settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def running_mail_app(settings: Settings, **extra: object) -> AsyncIterator[FastAPI]:
    s = settings.model_copy(update={"smtp_enabled": True, "smtp_port": free_port(), **extra})
    app = create_app(s)
    async with app.router.lifespan_context(app):
        app.state.smtp_port = s.smtp_port
        yield app


def mail(
    sender: str,
    mid: str,
    subject: str = "Question",
    *,
    reply_to: str | None = None,
    refs: str | None = None,
    body: str = "Hello",
) -> bytes:
    head = [f"From: {sender}", "To: help@localhost", f"Subject: {subject}", f"Message-ID: {mid}"]
    if reply_to:
        head.append(f"In-Reply-To: {reply_to}")
    if refs:
        head.append(f"References: {refs}")
    return ("\r\n".join(head) + f"\r\n\r\n{body}\r\n").encode()


def send(port: int, *mails: bytes) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as c:
        for m in mails:
            c.sendmail("sender@example.com", ["help@localhost"], m)


async def send_async(app: FastAPI, *mails: bytes) -> None:
    await asyncio.to_thread(send, app.state.smtp_port, *mails)


async def until(check: Callable[[], Awaitable[bool]], timeout: float = 20.0) -> None:
    """Poll `check` until it holds (no fixed sleep); fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


async def filed_count(app: FastAPI) -> int:
    async with app.state.db.session() as s:
        return int(await s.scalar(select(func.count()).select_from(EmailMessage)) or 0)


async def until_filed(app: FastAPI, n: int) -> None:
    async def check() -> bool:
        return await filed_count(app) >= n

    await until(check)


async def by_message_id(app: FastAPI) -> dict[str, EmailMessage]:
    async with app.state.db.session() as s:
        return {str(m.message_id): m for m in await s.scalars(select(EmailMessage).order_by(EmailMessage.id))}
