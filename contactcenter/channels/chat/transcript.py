"""Chat transcripts by email, through the configured relay (aiosmtplib).

The mail is never a relay for visitors' text: it goes only to an address the customer already holds, the
subject, sender and surrounding wording are fixed, and visitor-written text appears only in the transcript
lines of the body (docs/security.md, "Anonymous visitors")."""

from __future__ import annotations

from email.message import EmailMessage
from urllib.parse import urlparse

import aiosmtplib
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.channels.chat import messages

log = structlog.get_logger("chat.transcript")
SUBJECT = "Your chat transcript"


class SendFailed(Exception):
    """The relay refused or could not be reached (logged; the visitor gets a generic answer)."""


def render(messages: list[tuple[str, str, str]]) -> str:
    lines = ["Hello,", "", "Here is the transcript of your chat with us, as you asked on our website.", ""]
    for at, who, body in messages:
        lines.append(f"[{at}] {who}: {body}")
    lines += ["", "Thank you for contacting us.", "If you did not ask for this email, you can ignore it."]
    return "\n".join(lines)


async def send_transcript(
    session: AsyncSession, *, conversation_id: str, to: str, smtp_url: str, mail_from: str
) -> int:
    """Email the customer-visible messages of a conversation; returns how many were sent."""
    msgs = await messages.messages_after(
        session, conversation_id=conversation_id, after=0, include_private=False, limit=5000
    )
    body = render([(m.at.strftime("%Y-%m-%d %H:%M UTC"), m.sender_name, m.body) for m in msgs])
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = mail_from, to, SUBJECT
    mail.set_content(body)
    url = urlparse(smtp_url)
    try:
        await aiosmtplib.send(
            mail, hostname=url.hostname or "127.0.0.1", port=url.port or 25, timeout=10, start_tls=False
        )
    except (aiosmtplib.SMTPException, OSError) as exc:
        # The relay's words (host names, policy text) are for the operator's log, not for the visitor.
        log.warning("transcript_failed", conversation_id=conversation_id, error=repr(exc))
        raise SendFailed from exc
    return len(msgs)
