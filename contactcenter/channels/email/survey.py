"""The rating request of a closing email conversation: "How did we do?" with the signed link to the rating
page (csat/links.py). Staged in the closing transaction (the channel's on_close), sent by the outbox like an
acknowledgement and marked automatic, so no auto-responder answers it. Only a thread a person answered is
asked about; never automatic mail, our own domains or an address that is not the customer's."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.utils import parseaddr

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.channels.email import outbox
from contactcenter.channels.email.models import EmailMessage, EmailOut
from contactcenter.csat import links
from contactcenter.db import utcnow


@dataclass(frozen=True)
class Survey:
    secret: str
    link: str  # "https://help.example.com{path}"
    rate_days: int
    from_addr: str
    our_domains: frozenset[str]


def text_of(name: str, ref: str, url: str, days: int) -> str:
    return "\n".join(
        [
            f"Hello {name}," if name else "Hello,",
            "",
            f"Your conversation {ref} with us is closed. Would you tell us how we did? One click is enough:",
            "",
            url,
            "",
            f"The link works for {days} days. If anything is still open, just answer this email.",
            "",
            "This message was sent automatically.",
        ]
    )


async def stage(session: AsyncSession, survey: Survey, conversation_id: str) -> str | None:
    """Compose the request into the outbox (in the caller's transaction); a note for the close's touch."""
    answered = await session.scalar(
        select(EmailOut.id)
        .where(EmailOut.conversation_id == conversation_id, EmailOut.kind == "reply", EmailOut.status != "failed")
        .limit(1)
    )
    if answered is None:
        return None  # nobody answered it: there is nothing to rate
    last = await session.scalar(
        select(EmailMessage)
        .where(EmailMessage.conversation_id == conversation_id, EmailMessage.automatic.is_(False))
        .order_by(EmailMessage.received_at.desc(), EmailMessage.id.desc())
        .limit(1)
    )
    if last is None:
        return None
    addr = parseaddr(last.from_addr)[1].lower()
    local, at, domain = addr.rpartition("@")
    if not at or not local or domain in survey.our_domains or outbox.unsafe(addr):
        return None
    now = utcnow()
    path = links.link_for(survey.secret, conversation_id=conversation_id, closed_at=now, rate_days=survey.rate_days)
    ref = outbox.reference(conversation_id)
    subject = " ".join(f"[{ref}] How did we do? {outbox.reply_subject(last.subject)}".split())[:500]
    refs = outbox.thread_refs(last.message_id, list(last.ref_ids.get("ids", [])))
    text = text_of(last.from_name, ref, survey.link.replace("{path}", path), survey.rate_days)
    mail = outbox.compose(
        from_addr=survey.from_addr,
        to=addr,
        subject=subject,
        text=text,
        in_reply_to=last.message_id,
        refs=refs,
        automatic=True,
        now=now,
    )
    session.add(
        EmailOut(
            conversation_id=conversation_id,
            customer_id=last.customer_id,
            kind="survey",
            message_id=mail.message_id,
            in_reply_to=last.message_id,
            ref_ids={"ids": refs},
            to_addr=addr,
            subject=subject,
            text=text,
            attachments=[],
            data=mail.data,
            status="queued",
            attempts=0,
            next_at=now,
            created_at=now,
        )
    )
    return "(a rating request was emailed)"


def on_close(survey: Survey) -> Callable[[AsyncSession, str], Awaitable[str | None]]:
    async def hook(session: AsyncSession, conversation_id: str) -> str | None:
        return await stage(session, survey, conversation_id)

    return hook
