"""The email channel: its conversations' spec, the sender's customer, the rows a filed mail becomes, and
reading them. Filing itself (one mail or a group, in the transaction that marks the raw rows done) is
filing.py."""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.ccr import service as ccr
from contactcenter.ccr.identity import normalize_email
from contactcenter.ccr.schemas import Channel, CustomerCreate, Direction, IdentityKind, TouchIn, TouchKind
from contactcenter.channels.email import threading
from contactcenter.channels.email.models import EmailMessage, EmailOut
from contactcenter.channels.email.parse import Parsed, strip_quote
from contactcenter.channels.email.schemas import EmailMessageOut
from contactcenter.conversations import service as conversations
from contactcenter.db import utcnow
from contactcenter.http import ApiError
from contactcenter.routing.model import Channel as Medium

CHANNEL = "email"
UNKNOWN_SENDER = "Unknown sender"
RELATED_LIMIT = 200  # stored messages considered per thread decision
log = structlog.get_logger("email")


def message_out(m: EmailMessage) -> EmailMessageOut:
    return EmailMessageOut.model_validate(m)


async def sender_customer(session: AsyncSession, *, parsed: Parsed, mail_from: str, region: str) -> tuple[int, str]:
    """(customer id, display name) of the sender: the customer holding the From address (or the envelope
    sender's), created when unknown; a new nameless customer when neither is an address. Commits."""
    for addr in (parsed.from_addr, mail_from):
        try:
            norm = normalize_email(addr) if addr else None
        except ApiError:
            continue
        if norm:
            name = clean(parsed.from_name or norm, 120)
            cid, _ = await ccr.resolve_customer(
                session, kind=IdentityKind.email, value=norm, display_name=name, region=region
            )
            return cid, name
    created = await ccr.create_customer(session, data=CustomerCreate(display_name=UNKNOWN_SENDER), region=region)
    return created.id, UNKNOWN_SENDER


def mail_of(m: EmailMessage) -> threading.Mail:
    return threading.Mail(
        message_id=m.message_id,
        in_reply_to=[m.in_reply_to] if m.in_reply_to else [],
        references=list(m.ref_ids.get("ids", [])),
        customer_id=m.customer_id,
        conversation_id=m.conversation_id,
        subject_key=m.subject_key,
        received_at=m.received_at,
    )


def out_mail_of(o: EmailOut) -> threading.Mail:
    """A reply or acknowledgement we sent, as threading sees it: a message of its conversation's customer."""
    return threading.Mail(
        message_id=o.message_id,
        in_reply_to=[o.in_reply_to] if o.in_reply_to else [],
        references=list(o.ref_ids.get("ids", [])),
        customer_id=o.customer_id,
        conversation_id=o.conversation_id,
        received_at=o.created_at,
    )


async def by_subject(session: AsyncSession, *, customer_id: int, key: str) -> list[threading.Mail]:
    """The sender's latest messages with this subject key (the fallback for mail without thread headers)."""
    q = (
        select(EmailMessage)
        .where(EmailMessage.customer_id == customer_id, EmailMessage.subject_key == key)
        .order_by(EmailMessage.id.desc())
        .limit(20)
    )
    return [mail_of(m) for m in await session.scalars(q)]


def clean(value: str, limit: int | None = None) -> str:
    """Text a database stores: PostgreSQL refuses NUL characters, which a mail's bytes may decode to."""
    out = value.replace("\x00", "\ufffd") if "\x00" in value else value
    return out if limit is None else out[:limit]


def row_of(raw_id: int, new: threading.Mail, parsed: Parsed, reason: str) -> EmailMessage:
    """The message row of a parsed mail placed in `new.conversation_id`."""
    text = clean(parsed.text)
    display, _quoted = strip_quote(text)
    attachments: list[dict[str, Any]] = [{"name": a.name, "type": a.type, "size": a.size} for a in parsed.attachments]
    return EmailMessage(
        raw_id=raw_id,
        conversation_id=new.conversation_id,
        customer_id=new.customer_id,
        message_id=clean(new.message_id, 500) if new.message_id else None,
        in_reply_to=clean(new.in_reply_to[0], 500) if new.in_reply_to else None,
        ref_ids={"ids": [clean(r, 500) for r in new.references[:100]]},
        subject=clean(parsed.subject, 500),
        subject_key=clean(new.subject_key),
        from_addr=clean(parsed.from_addr, 320),
        from_name=clean(parsed.from_name, 120),
        text=text,
        html=clean(parsed.html),
        display_text=display,
        attachments=attachments,
        automatic=parsed.automatic,
        unreadable=parsed.unreadable,
        defects=[{"defect": clean(d)} for d in parsed.defects[:50]],
        reason=reason,
        received_at=new.received_at or utcnow(),
        created_at=utcnow(),
    )


def touch_of(row: EmailMessage) -> TouchIn:
    flags = " (unreadable)" if row.unreadable else ""
    return TouchIn(
        customer_id=row.customer_id,
        channel=Channel.email,
        kind=TouchKind.email,
        direction=Direction.inbound,
        occurred_at=row.received_at,
        conversation_id=row.conversation_id,
        summary=f"Email received{flags}: {row.subject or '(no subject)'}"[:500],
        payload={"email_message_id": row.id, "from": row.from_addr, "reason": row.reason},
    )


async def messages(session: AsyncSession, *, conversation_id: str) -> list[EmailMessageOut]:
    """An email conversation's messages, oldest first."""
    rows = await session.scalars(
        select(EmailMessage)
        .where(EmailMessage.conversation_id == conversation_id)
        .order_by(EmailMessage.received_at, EmailMessage.id)
    )
    return [message_out(m) for m in rows]


conversations.register_channel(
    conversations.ChannelSpec(name=CHANNEL, label="Email", medium=Medium.email, touch_channel=Channel.email)
)
