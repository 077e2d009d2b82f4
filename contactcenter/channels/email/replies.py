"""An agent's reply (composed and put in the outbox, committed before anything is sent) and notes, and the
console's view of a thread: received mail, what we wrote, the first-response clock."""

from __future__ import annotations

from datetime import datetime
from email import policy
from email.parser import BytesHeaderParser
from email.utils import parseaddr

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.auth.service import StaffPrincipal
from contactcenter.ccr import service as ccr
from contactcenter.channels.chat import files as chat_files
from contactcenter.channels.email import clock, outbox, service, threading
from contactcenter.channels.email.models import EmailMessage, EmailOut, EmailRaw
from contactcenter.channels.email.schemas import NoteIn, OutgoingOut, ReplyIn, ThreadOut
from contactcenter.conversations.schemas import ConversationOut
from contactcenter.http import ApiError

MAX_ATTACHED = 20 * 1_048_576  # what a reply carries at most (most relays refuse mail past 25 MB)


def may_write(conv: ConversationOut, who: StaffPrincipal) -> None:
    """The assigned agent writes in an open conversation; supervisors and admins in any open one (403)."""
    if conv.status.value == "closed":
        raise ApiError(409, "conversation_closed", "this conversation is closed")
    if conv.agent_id != who.user_id and who.role.value not in ("supervisor", "admin"):
        raise ApiError(403, "not_your_conversation", "this email conversation is not assigned to you")


def _address(value: str) -> str:
    outbox.check_header("To", value)
    addr = parseaddr(value)[1]
    local, at, domain = addr.rpartition("@")
    if not at or not local or "." not in domain or any(c.isspace() for c in addr):
        raise ApiError(422, "invalid_address", "`to` must be one email address")
    return addr


async def _parent(session: AsyncSession, conv: ConversationOut, message_id: int | None) -> EmailMessage:
    q = select(EmailMessage).where(EmailMessage.conversation_id == conv.id)
    if message_id is not None:
        q = q.where(EmailMessage.id == message_id)
    parent = await session.scalar(q.order_by(EmailMessage.received_at.desc(), EmailMessage.id.desc()).limit(1))
    if parent is None:
        raise ApiError(404, "email_not_found", "no received message to reply to in this conversation")
    return parent


async def reply(
    session: AsyncSession, *, conv: ConversationOut, who: StaffPrincipal, data: ReplyIn, from_addr: str, now: datetime
) -> OutgoingOut:
    """Compose the reply to a received message (In-Reply-To its Message-ID, References its chain) and
    commit it to the outbox; the caller wakes the sender."""
    may_write(conv, who)
    if data.subject is not None:
        outbox.check_header("Subject", data.subject)
    to = _address(data.to) if data.to is not None else None
    parent = await _parent(session, conv, data.in_reply_to)
    if to is not None and to.lower() not in await _on_file(session, conv):
        # Never to an address typed here: the company's mail would become a relay for anyone.
        raise ApiError(422, "address_not_on_file", "a reply goes to an address of this customer or thread")
    to = to or _address(parent.from_addr)
    subject = data.subject.strip() if data.subject and data.subject.strip() else outbox.reply_subject(parent.subject)
    refs = outbox.thread_refs(parent.message_id, list(parent.ref_ids.get("ids", [])) or _irt(parent))
    files = await _files(session, conv, data.attachments)
    index = outbox.thread_index(
        await _header(session, parent, "Thread-Index"), conversation_id=conv.id, started=conv.created_at, now=now
    )
    mail = outbox.compose(
        from_addr=from_addr,
        to=to,
        subject=subject,
        text=data.text,
        in_reply_to=parent.message_id,
        refs=refs,
        automatic=False,
        now=now,
        thread=(index, threading.strip_prefixes(parent.subject).strip() or subject),
        files=files,
    )
    row = EmailOut(
        conversation_id=conv.id,
        customer_id=conv.customer_id,
        kind="reply",
        agent_id=who.user_id,
        agent_name=who.display_name[:120],
        message_id=mail.message_id,
        in_reply_to=parent.message_id,
        ref_ids={"ids": refs},
        to_addr=to,
        subject=subject,
        text=data.text,
        attachments=[{"name": f.name, "type": f.type, "size": len(f.data)} for f in files],
        data=mail.data,
        status="queued",
        attempts=0,
        next_at=now,
        created_at=now,
    )
    session.add(row)
    await session.commit()
    service.log.info("email_reply_queued", out_id=row.id, conversation_id=conv.id)
    return OutgoingOut.model_validate(row)


async def _files(session: AsyncSession, conv: ConversationOut, ids: list[str]) -> list[outbox.File]:
    """The files uploaded for this conversation (chat's upload route serves every channel); another
    conversation's file is not found, whoever asks."""
    out: list[outbox.File] = []
    for file_id in dict.fromkeys(ids):
        row = await chat_files.load(session, attachment_id=file_id)
        if row.conversation_id != conv.id:
            raise ApiError(404, "attachment_not_found", "no such attachment in this conversation")
        out.append(outbox.File(row.filename, row.content_type, bytes(row.data)))
    if sum(len(f.data) for f in out) > MAX_ATTACHED:
        raise ApiError(413, "attachments_too_large", f"a reply carries at most {MAX_ATTACHED // 1_048_576} MB")
    return out


async def _on_file(session: AsyncSession, conv: ConversationOut) -> set[str]:
    """The customer's email addresses and every sender of the thread (lower case)."""
    held = await ccr.contact_addresses(session, customer_id=conv.customer_id)
    senders = await session.scalars(
        select(EmailMessage.from_addr).where(EmailMessage.conversation_id == conv.id).distinct()
    )
    return {a.lower() for a in [*held, *senders] if a}


async def _header(session: AsyncSession, m: EmailMessage, name: str) -> str | None:
    """A header of the received message, read from its first 64 KiB (where headers are)."""
    head = await session.scalar(select(func.substr(EmailRaw.data, 1, 65536)).where(EmailRaw.id == m.raw_id))
    if not head:
        return None
    value = BytesHeaderParser(policy=policy.default).parsebytes(bytes(head)).get(name)
    return str(value).strip() if value is not None else None


def _irt(m: EmailMessage) -> list[str]:
    return [m.in_reply_to] if m.in_reply_to else []


async def note(
    session: AsyncSession, *, conv: ConversationOut, who: StaffPrincipal, data: NoteIn, now: datetime
) -> OutgoingOut:
    may_write(conv, who)
    row = EmailOut(
        conversation_id=conv.id,
        customer_id=conv.customer_id,
        kind="note",
        agent_id=who.user_id,
        agent_name=who.display_name[:120],
        message_id=None,
        ref_ids={},
        text=data.text,
        status="note",
        attempts=0,
        next_at=now,
        created_at=now,
    )
    session.add(row)
    await session.commit()
    return OutgoingOut.model_validate(row)


async def outgoing(session: AsyncSession, *, conversation_id: str) -> list[OutgoingOut]:
    rows = await session.scalars(
        select(EmailOut).where(EmailOut.conversation_id == conversation_id).order_by(EmailOut.created_at, EmailOut.id)
    )
    return [OutgoingOut.model_validate(r) for r in rows]


async def thread(
    session: AsyncSession, *, conv: ConversationOut, now: datetime, policy: clock.ClockPolicy
) -> ThreadOut:
    return ThreadOut(
        reference=outbox.reference(conv.id),
        messages=await service.messages(session, conversation_id=conv.id),
        outgoing=await outgoing(session, conversation_id=conv.id),
        clock=await clock.of_conversation(session, conversation_id=conv.id, now=now, policy=policy),
    )


async def find_outgoing(session: AsyncSession, *, out_id: int) -> EmailOut | None:
    return await session.get(EmailOut, out_id)
