"""The email channel: a received mail is filed into a conversation of channel "email" (a new one, the one
its thread and its sender's customer belong to, or a closed one reopened), stored as a message and logged as
a CCR touch, all in the transaction that marks its raw row done, so it is filed once or not at all."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.bus import Bus
from contactcenter.ccr import service as ccr
from contactcenter.ccr.identity import normalize_email
from contactcenter.ccr.models import Touch
from contactcenter.ccr.schemas import Channel, CustomerCreate, Direction, IdentityKind, TouchIn, TouchKind
from contactcenter.channels.email import threading
from contactcenter.channels.email.events import TOPIC_EMAIL, EmailFiled
from contactcenter.channels.email.models import EmailMessage, EmailRaw, EmailRef
from contactcenter.channels.email.parse import Parsed, strip_quote
from contactcenter.channels.email.schemas import EmailMessageOut, FiledOut, Reason
from contactcenter.conversations import service as conversations
from contactcenter.conversations.schemas import ConversationOut, OpenIn
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
            name = parsed.from_name or norm
            cid, _ = await ccr.resolve_customer(
                session, kind=IdentityKind.email, value=norm, display_name=name, region=region
            )
            return cid, name
    created = await ccr.create_customer(session, data=CustomerCreate(display_name=UNKNOWN_SENDER), region=region)
    return created.id, UNKNOWN_SENDER


def _mail(m: EmailMessage) -> threading.Mail:
    return threading.Mail(
        message_id=m.message_id,
        in_reply_to=[m.in_reply_to] if m.in_reply_to else [],
        references=list(m.ref_ids.get("ids", [])),
        customer_id=m.customer_id,
        conversation_id=m.conversation_id,
        subject_key=m.subject_key,
        received_at=m.received_at,
    )


async def _related(session: AsyncSession, new: threading.Mail) -> list[threading.Mail]:
    """Stored messages that are the new one's parents by id, its children that came first, or its
    siblings under a phantom parent (another reply to the same message)."""
    refs = new.refs()
    found: dict[int, EmailMessage] = {}
    if refs:
        q = select(EmailMessage).where(EmailMessage.message_id.in_(refs)).limit(RELATED_LIMIT)
        found.update((m.id, m) for m in await session.scalars(q))
    keys = refs + ([new.message_id] if new.message_id else [])
    if keys:
        q = (
            select(EmailMessage)
            .join(EmailRef, EmailRef.email_message_id == EmailMessage.id)
            .where(EmailRef.ref.in_(keys))
            .limit(RELATED_LIMIT)
        )
        found.update((m.id, m) for m in await session.scalars(q))
    return [_mail(m) for m in found.values()]


async def _by_subject(session: AsyncSession, *, customer_id: int, key: str) -> list[threading.Mail]:
    q = (
        select(EmailMessage)
        .where(EmailMessage.customer_id == customer_id, EmailMessage.subject_key == key)
        .order_by(EmailMessage.id.desc())
        .limit(20)
    )
    return [_mail(m) for m in await session.scalars(q)]


async def _place(
    session: AsyncSession, *, new: threading.Mail, customer_name: str, subject: str
) -> tuple[ConversationOut, str, bool, bool]:
    """(conversation, reason, opened, reopened) for the new message, staged in the session."""
    related = await _related(session, new)
    by_subject: list[threading.Mail] = []
    if not new.in_reply_to and not new.references and new.subject_key:
        by_subject = await _by_subject(session, customer_id=new.customer_id, key=new.subject_key)
    decision = threading.decide(new, related, by_subject, now=utcnow())
    if decision.conversation_id is not None:
        conv = await conversations.find(session, conversation_id=decision.conversation_id)
        if conv is not None and conv.customer_id == new.customer_id:
            if conv.status != "closed":
                return conv, decision.reason, False, False
            again = await conversations.stage_reopen(session, conversation_id=conv.id)
            if again is not None:
                return again, Reason.reopened.value, False, True
    conv = await conversations.stage_open(
        session,
        data=OpenIn(customer_id=new.customer_id, channel=CHANNEL, customer_name=customer_name, topic=subject[:200]),
    )
    return conv, Reason.new.value, True, False


def _row(
    raw_id: int, conversation_id: str, new: threading.Mail, parsed: Parsed, reason: str, at: datetime
) -> EmailMessage:
    display, _quoted = strip_quote(parsed.text)
    attachments: list[dict[str, Any]] = [{"name": a.name, "type": a.type, "size": a.size} for a in parsed.attachments]
    return EmailMessage(
        raw_id=raw_id,
        conversation_id=conversation_id,
        customer_id=new.customer_id,
        message_id=(new.message_id or None) and new.message_id[:500],
        in_reply_to=new.in_reply_to[0][:500] if new.in_reply_to else None,
        ref_ids={"ids": [r[:500] for r in new.references[:100]]},
        subject=parsed.subject[:500],
        subject_key=new.subject_key,
        from_addr=parsed.from_addr[:320],
        from_name=parsed.from_name[:120],
        text=parsed.text,
        html=parsed.html,
        display_text=display,
        attachments=attachments,
        automatic=parsed.automatic,
        unreadable=parsed.unreadable,
        defects=[{"defect": d} for d in parsed.defects[:50]],
        reason=reason,
        received_at=at,
    )


async def file_raw(
    session: AsyncSession,
    bus: Bus,
    *,
    raw_id: int,
    received_at: datetime,
    parsed: Parsed,
    customer_id: int,
    customer_name: str,
) -> FiledOut | None:
    """File one raw message in one transaction; None when it was filed already (by another worker)."""
    taken = await session.execute(
        update(EmailRaw).where(EmailRaw.id == raw_id, EmailRaw.state == "new").values(state="done")
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        await session.rollback()
        return None
    new = threading.Mail(
        message_id=parsed.message_id,
        in_reply_to=parsed.in_reply_to[:1],
        references=parsed.references,
        customer_id=customer_id,
        subject_key=threading.subject_key(parsed.subject),
        received_at=received_at,
    )
    subject = parsed.subject or "(no subject)"
    conv, reason, opened, reopened = await _place(session, new=new, customer_name=customer_name, subject=subject)
    row = _row(raw_id, conv.id, new, parsed, reason, received_at)
    session.add(row)
    await session.flush()
    refs = new.refs()
    for ref in dict.fromkeys(refs):
        session.add(EmailRef(email_message_id=row.id, ref=ref[:500], direct=ref in new.in_reply_to))
    touch = await _touch(session, row, subject, reason)
    try:
        await session.commit()
    except IntegrityError:  # another process filed it between our update and commit
        await session.rollback()
        return None
    filed = FiledOut(raw_id=raw_id, message=message_out(row), opened=opened, reopened=reopened)
    await _announce(session, bus, conv, filed, [touch])
    return filed


async def _touch(session: AsyncSession, row: EmailMessage, subject: str, reason: str) -> Touch:
    flags = " (unreadable)" if row.unreadable else ""
    return await ccr.add_touch(
        session,
        touch=TouchIn(
            customer_id=row.customer_id,
            channel=Channel.email,
            kind=TouchKind.email,
            direction=Direction.inbound,
            occurred_at=row.received_at,
            conversation_id=row.conversation_id,
            summary=f"Email received{flags}: {subject}"[:500],
            payload={"email_message_id": row.id, "from": row.from_addr, "reason": reason},
        ),
    )


async def _announce(
    session: AsyncSession, bus: Bus, conv: ConversationOut, filed: FiledOut, touches: Sequence[Touch]
) -> None:
    """After the commit: the touch, the message, and a new or reopened conversation goes to routing."""
    try:
        await ccr.publish_touches(bus, touches)
        await bus.publish_event(TOPIC_EMAIL, EmailFiled(message=filed.message))
    except Exception as exc:
        log.warning("publish_failed", what="email.filed", error=repr(exc))
    if filed.opened or filed.reopened:
        await conversations.opened(session, bus, conversation=conv)


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
