"""What filing a mail sets going, in the filing transaction: the first-response clock (clock.py) and the
automatic acknowledgement of a new thread, composed into the outbox with the reference, the expected answer
time and up to three knowledge-base articles matching its subject.

Never acknowledged: automatic mail (Auto-Submitted, Precedence bulk/list/junk, List-*, null Return-Path,
delivery reports: parse.py), mail with a null envelope sender (a bounce), mail from our own domains, and an
address that has had `per_sender` acknowledgements within the window: two help desks answering each other
stop there. Ours carry `Auto-Submitted: auto-generated` and go with a null envelope sender (sender.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.channels.email import clock, outbox
from contactcenter.channels.email.models import EmailMessage, EmailOut
from contactcenter.channels.email.schemas import Reason
from contactcenter.kb import service as kb

KB_LINKS = 3


@dataclass(frozen=True)
class Policy:
    from_addr: str
    our_domains: frozenset[str]
    clock: clock.ClockPolicy
    ack: bool = True
    per_sender: int = 3
    window: timedelta = timedelta(hours=24)
    kb_link: str = "{slug}"
    kb_lang: str = "en"


@dataclass(frozen=True)
class Link:
    title: str
    url: str


async def kb_links(session: AsyncSession, policy: Policy, keys: Sequence[str]) -> dict[str, list[Link]]:
    """Articles matching each subject key (threading.subject_key: a thread's replies search once), looked
    up before the filing transaction, which a failed search must not spoil; none when the search fails."""
    out: dict[str, list[Link]] = {}
    if not policy.ack:
        return out
    for subject in dict.fromkeys(keys):
        try:
            hits = await kb.find(
                session, query=subject, lang=policy.kb_lang, default_lang=policy.kb_lang, limit=KB_LINKS
            )
        except Exception:  # the knowledge base is no reason to hold a mail back
            await session.rollback()
            hits = []
        out[subject] = [Link(h.title, policy.kb_link.replace("{slug}", h.slug)) for h in hits]
    return out


def _wait(d: timedelta) -> str:
    hours = d.total_seconds() / 3600
    if hours >= 48 and hours % 24 == 0:
        return f"{int(hours // 24)} days"
    return f"{hours:g} hours" if hours != 1 else "1 hour"


def ack_text(
    name: str, ref: str, wait: timedelta, links: Sequence[Link], by: tuple[datetime, ZoneInfo] | None = None
) -> str:
    """`by`: the answer's due time where the queue keeps business hours ("within 24 hours" would mislead
    on a Friday evening), in the calendar's zone."""
    when = f"by {by[0].astimezone(by[1]):%A %-d %B, %H:%M} ({by[1].key} time)" if by else f"within {_wait(wait)}"
    lines = [
        f"Hello {name}," if name else "Hello,",
        "",
        f"Thank you for writing to us. Your message is registered under reference {ref}, and we answer",
        f"{when}. Please keep {ref} in the subject if you write again about it.",
    ]
    if links:
        lines += ["", "These articles may answer your question already:"]
        lines += [f"- {link.title}: {link.url}" for link in links]
    lines += ["", "This message was sent automatically; there is no need to answer it."]
    return "\n".join(lines)


def _ackable(row: EmailMessage, envelope_from: str | None, policy: Policy) -> str | None:
    """The address to acknowledge, or None."""
    if row.reason != Reason.new.value or row.automatic or row.unreadable or envelope_from in ("", "<>"):
        return None
    addr = parseaddr(row.from_addr)[1].lower()
    local, at, domain = addr.rpartition("@")
    if not at or not local or domain in policy.our_domains or outbox.unsafe(addr):
        return None
    return addr


async def stage(
    session: AsyncSession,
    *,
    rows: Sequence[EmailMessage],
    envelopes: Sequence[str | None],
    links: dict[str, list[Link]],
    policy: Policy,
    now: datetime,
) -> int:
    """Start the clocks and compose the acknowledgements of a filed group; returns how many acks were queued."""
    started = await clock.stage_starts(session, rows=rows, policy=policy.clock)
    if not policy.ack:
        return 0
    wanted = [(r, a) for r, env in zip(rows, envelopes, strict=True) if (a := _ackable(r, env, policy))]
    if not wanted:
        return 0
    counted = await session.execute(
        select(EmailOut.to_addr, func.count())
        .where(
            EmailOut.kind == "ack",
            EmailOut.to_addr.in_({a for _, a in wanted}),
            EmailOut.created_at >= now - policy.window,
        )
        .group_by(EmailOut.to_addr)
    )
    sent: dict[str, int] = {addr: int(n) for addr, n in counted.all()}
    values: list[dict[str, object]] = []
    for row, addr in wanted:
        if sent.get(addr, 0) >= policy.per_sender:
            continue
        sent[addr] = sent.get(addr, 0) + 1
        ref = outbox.reference(row.conversation_id)
        subject = f"[{ref}] {outbox.reply_subject(row.subject)}"[:500]
        refs = outbox.thread_refs(row.message_id, list(row.ref_ids.get("ids", [])))
        due, kept = started.get(row.conversation_id, (None, False))
        by = (due, policy.clock.calendars.default.zone) if due is not None and kept else None
        text = ack_text(row.from_name, ref, policy.clock.target, links.get(row.subject_key, []), by)
        try:
            mail = outbox.compose(
                from_addr=policy.from_addr,
                to=addr,
                subject=" ".join(subject.split()),
                text=text,
                in_reply_to=row.message_id,
                refs=refs,
                automatic=True,
                now=now,
            )
        except Exception:  # a header the email package will not write: no acknowledgement, the mail is filed
            continue
        values.append(
            {
                "conversation_id": row.conversation_id,
                "customer_id": row.customer_id,
                "kind": "ack",
                "agent_id": None,
                "agent_name": "",
                "message_id": mail.message_id,
                "in_reply_to": row.message_id,
                "ref_ids": {"ids": refs},
                "to_addr": addr,
                "subject": " ".join(subject.split()),
                "text": text,
                "attachments": [],
                "data": mail.data,
                "status": "queued",
                "attempts": 0,
                "next_at": now,
                "last_error": None,
                "created_at": now,
                "sent_at": None,
            }
        )
    if values:
        await session.execute(insert(EmailOut), values)
    return len(values)
