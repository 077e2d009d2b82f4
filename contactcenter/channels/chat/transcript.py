"""Chat transcripts by email, through the configured relay (aiosmtplib)."""

from __future__ import annotations

from email.message import EmailMessage
from urllib.parse import urlparse

import aiosmtplib
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.channels.chat import messages
from contactcenter.conversations import service as conversations
from contactcenter.http import ApiError


def render(customer_name: str, messages: list[tuple[str, str, str]]) -> str:
    lines = [f"Hello {customer_name},", "", "Here is the transcript of your chat with us.", ""]
    for at, who, body in messages:
        lines.append(f"[{at}] {who}: {body}")
    lines += ["", "Thank you for contacting us."]
    return "\n".join(lines)


async def send_transcript(
    session: AsyncSession, *, conversation_id: str, to: str, smtp_url: str | None, mail_from: str
) -> int:
    """Email the customer-visible messages of a conversation; returns how many were sent."""
    if not smtp_url:
        raise ApiError(503, "email_unavailable", "transcripts by email are not configured here")
    conv = await conversations.get(session, conversation_id=conversation_id)
    msgs = await messages.messages_after(
        session, conversation_id=conversation_id, after=0, include_private=False, limit=5000
    )
    body = render(conv.customer_name, [(m.at.strftime("%Y-%m-%d %H:%M UTC"), m.sender_name, m.body) for m in msgs])
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = mail_from, to, "Your chat transcript"
    mail.set_content(body)
    url = urlparse(smtp_url)
    try:
        await aiosmtplib.send(
            mail, hostname=url.hostname or "127.0.0.1", port=url.port or 25, timeout=10, start_tls=False
        )
    except (aiosmtplib.SMTPException, OSError) as exc:
        raise ApiError(502, "email_failed", f"the mail relay refused the transcript: {exc}") from exc
    return len(msgs)
