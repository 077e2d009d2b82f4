"""The outbox of outbound mail (replies and acknowledgements): each is composed and stored, exact bytes and
Message-ID included, in the transaction that records it, before anything is sent; a worker (sender.py)
claims due rows with a lease, so two processes never send one, and moves each on after its attempt: sent,
due again after a backoff (relay away, 4xx: for ever, never dropped), or failed (a 5xx refusal, shown)."""

from __future__ import annotations

import base64
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.utils import formatdate, parseaddr

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.channels.email.models import EmailOut
from contactcenter.http import ApiError

MAX_REFS = 20  # References kept: the first (the thread's root) and the latest (RFC 5322 3.6.4 allows trimming)


def unsafe(value: str) -> bool:
    """A header value that could start another header (CR, LF, NUL): refused, never cleaned."""
    return any(c in value for c in "\r\n\x00")


def check_header(name: str, value: str) -> None:
    if unsafe(value):
        raise ApiError(422, "header_injection", f"{name} may not contain line breaks")


def domain_of(address: str) -> str:
    return parseaddr(address)[1].rpartition("@")[2].lower() or "contactcenter.local"


def new_message_id(from_addr: str) -> str:
    """<random@our domain>: unique without asking the host's name (make_msgid would, blocking)."""
    return f"<{uuid.uuid4().hex}@{domain_of(from_addr)}>"


def reference(conversation_id: str) -> str:
    """The number a customer quotes: EM- and the conversation id's first eight hex digits."""
    return "EM-" + conversation_id.replace("-", "")[:8].upper()


def reply_subject(subject: str) -> str:
    s = " ".join(subject.split()) or "(no subject)"
    return s if s.lower().startswith("re:") else f"Re: {s}"


def thread_refs(parent_id: str | None, parent_refs: list[str]) -> list[str]:
    """References of a reply: the parent's, then the parent's own id; trimmed keeping the root."""
    refs = [r for r in parent_refs if r != parent_id] + ([parent_id] if parent_id else [])
    refs = list(dict.fromkeys(refs))
    return refs if len(refs) <= MAX_REFS else [refs[0], *refs[-(MAX_REFS - 1) :]]


FILETIME_EPOCH_S = 11_644_473_600  # 1601-01-01 to 1970-01-01


def _filetime(at: datetime) -> int:
    return int((at.timestamp() + FILETIME_EPOCH_S) * 10_000_000)


def thread_index(parent: str | None, *, conversation_id: str, started: datetime, now: datetime) -> str:
    """Outlook's Thread-Index (MS-OXOMSG, PidTagConversationIndex) of a reply: the parent's, when it had a
    well-formed one, plus a 5-byte child block (time since the thread began); otherwise a header block of
    the thread's start and the conversation's id, so every reply of a conversation shares it."""
    try:
        raw = base64.b64decode(parent or "", validate=True)
    except ValueError:
        raw = b""
    if len(raw) < 22 or (len(raw) - 22) % 5:
        raw = (_filetime(started) >> 16).to_bytes(6, "big") + uuid.UUID(conversation_id).bytes
    delta = max(0, _filetime(now) - (int.from_bytes(raw[:6], "big") << 16))
    block = (delta >> 18) & 0x7FFFFFFF if delta < 1 << 49 else (1 << 31) | ((delta >> 23) & 0x7FFFFFFF)
    return base64.b64encode(raw + block.to_bytes(4, "big") + secrets.token_bytes(1)).decode()


@dataclass(frozen=True)
class File:
    """An attachment of an outgoing message (its type sniffed from its bytes when it was uploaded)."""

    name: str
    type: str
    data: bytes


@dataclass(frozen=True)
class Composed:
    message_id: str
    data: bytes


def compose(
    *,
    from_addr: str,
    to: str,
    subject: str,
    text: str,
    in_reply_to: str | None,
    refs: list[str],
    automatic: bool,
    now: datetime,
    thread: tuple[str, str] | None = None,
    files: Sequence[File] = (),
) -> Composed:
    """The message's bytes (CRLF, as the relay gets them). The email package refuses a header with a line
    break too; the routes refuse it first, with a clear error."""
    for name, value in (("From", from_addr), ("To", to), ("Subject", subject)):
        check_header(name, value)
    msg = EmailMessage()
    mid = new_message_id(from_addr)
    msg["From"], msg["To"], msg["Subject"] = from_addr, to, subject
    msg["Date"] = formatdate(now.timestamp(), usegmt=True)
    msg["Message-ID"] = mid
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if refs:
        msg["References"] = " ".join(refs)
    if thread is not None:  # Outlook's conversation view: (Thread-Index, Thread-Topic)
        msg["Thread-Index"], msg["Thread-Topic"] = thread[0], " ".join(thread[1].split())[:200]
    if automatic:  # RFC 3834: other systems must not answer it; Outlook's own auto-replies are suppressed too
        msg["Auto-Submitted"] = "auto-generated"
        msg["X-Auto-Response-Suppress"] = "All"
    msg.set_content(text)
    for f in files:
        main, _, sub = f.type.partition("/")
        msg.add_attachment(f.data, maintype=main, subtype=sub or "octet-stream", filename=f.name)
    return Composed(mid, msg.as_bytes(policy=policy.SMTP))


@dataclass(frozen=True)
class Claimed:
    id: int
    kind: str
    to_addr: str
    data: bytes
    attempts: int


async def claim(session: AsyncSession, *, now: datetime, lease_s: float, limit: int) -> list[Claimed]:
    """Take up to `limit` due rows for one attempt each: their due time moves to the lease's end, so no other
    worker takes them meanwhile; a worker that dies lets them fall due again (as webhooks' outbox does)."""
    due = (
        select(EmailOut.id)
        .where(EmailOut.status == "queued", EmailOut.next_at <= now)
        .order_by(EmailOut.next_at)
        .limit(limit)
        .with_for_update(skip_locked=True)  # PostgreSQL; SQLite has one writer (and the write gate)
    )
    ids: list[int] = []
    for _ in range(3):  # on SQLite two workers read the same due rows: the loser looks again, not away
        found = list(await session.scalars(due))
        if not found:
            break
        # Conditional: on SQLite another process may have claimed one between the two statements.
        stmt = (
            update(EmailOut)
            .where(EmailOut.id.in_(found), EmailOut.status == "queued", EmailOut.next_at <= now)
            .values(next_at=now + timedelta(seconds=lease_s))
            .returning(EmailOut.id)
            .execution_options(synchronize_session=False)
        )
        ids = list((await session.execute(stmt)).scalars())
        await session.commit()
        if ids:
            break
    await session.commit()
    if not ids:
        return []
    rows = await session.scalars(select(EmailOut).where(EmailOut.id.in_(ids)).order_by(EmailOut.id))
    return [Claimed(r.id, r.kind, r.to_addr, bytes(r.data or b""), r.attempts) for r in rows]


def backoff_s(attempt: int, base_s: float, max_s: float) -> float:
    return float(min(max_s, base_s * 2.0 ** (attempt - 1)))


async def record_failure(
    session: AsyncSession, *, claimed: Claimed, error: str, permanent: bool, now: datetime, base_s: float, max_s: float
) -> None:
    """A failed attempt: due again after the backoff, or failed for good (a 5xx), with the relay's words."""
    attempt = claimed.attempts + 1
    values: dict[str, object] = {"attempts": attempt, "last_error": error[:300]}
    if permanent:
        values["status"] = "failed"
    else:
        values["next_at"] = now + timedelta(seconds=backoff_s(attempt, base_s, max_s))
    await session.execute(
        update(EmailOut)
        .where(EmailOut.id == claimed.id, EmailOut.status == "queued")
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    await session.commit()


async def resend(session: AsyncSession, *, out_id: int, now: datetime) -> EmailOut:
    """A failed row back in the outbox, due now (same bytes, same Message-ID); 409 unless it failed."""
    done = await session.execute(
        update(EmailOut)
        .where(EmailOut.id == out_id, EmailOut.status == "failed")
        .values(status="queued", next_at=now, last_error=None)
        .execution_options(synchronize_session=False)
    )
    await session.commit()
    row = await session.get(EmailOut, out_id, populate_existing=True)
    if row is None:
        raise ApiError(404, "email_not_found", f"no outgoing email {out_id}")
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise ApiError(409, "not_failed", f"only a failed email can be sent again; this one is {row.status}")
    return row
