"""Filing received mail: each raw message becomes a message in a conversation of channel "email" (a new one,
the one its thread and its sender's customer belong to, or a closed one reopened) and a CCR touch, in the
transaction that marks its raw row done, so it is filed once or not at all. Mail that arrives together is
filed as a group in one transaction (a handful of statements for the whole group, not a dozen per mail:
decision 35); a group either commits whole or not at all, and the worker then retries its mails one by one."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.bus import Bus
from contactcenter.ccr import service as ccr
from contactcenter.channels.email import followup, threading
from contactcenter.channels.email.events import TOPIC_EMAIL, EmailFiled
from contactcenter.channels.email.models import EmailMessage, EmailOut, EmailRaw, EmailRef
from contactcenter.channels.email.parse import Parsed
from contactcenter.channels.email.schemas import FiledOut, Reason
from contactcenter.channels.email.service import (
    CHANNEL,
    by_subject,
    clean,
    log,
    mail_of,
    message_out,
    out_mail_of,
    row_of,
    touch_of,
)
from contactcenter.conversations import service as conversations
from contactcenter.conversations.schemas import ConversationOut, OpenIn
from contactcenter.db import utcnow

RELATED_LIMIT = 2000  # stored messages considered for one group's thread decisions


@dataclass(frozen=True)
class RawIn:
    """A raw message, parsed, with its sender's customer."""

    raw_id: int
    received_at: datetime
    parsed: Parsed
    customer_id: int
    customer_name: str
    envelope_from: str | None = None  # MAIL FROM; "<>" (or "") is the null sender of a bounce


def _keys(m: threading.Mail) -> set[str]:
    return set(m.refs()) | ({m.message_id} if m.message_id else set())


def _related_to(m: threading.Mail, new: threading.Mail) -> bool:
    """Parent, child or sibling (under a common, maybe phantom, parent) of `new` by id."""
    mine = set(new.refs())
    return bool(
        (m.message_id and m.message_id in mine)
        or (new.message_id and new.message_id in m.refs())
        or (mine and mine & set(m.refs()))
    )


async def _stored_related(session: AsyncSession, news: Sequence[threading.Mail]) -> list[threading.Mail]:
    """Stored messages related by id to any of `news` (one query)."""
    refs = sorted(set().union(*(set(n.refs()) for n in news)))
    keys = sorted(set().union(*(_keys(n) for n in news)))
    if not keys:
        return []
    via_refs = select(EmailRef.email_message_id).where(EmailRef.ref.in_(keys))
    conds = [EmailMessage.id.in_(via_refs)]
    if refs:
        conds.append(EmailMessage.message_id.in_(refs))
    rows = await session.scalars(select(EmailMessage).where(or_(*conds)).limit(RELATED_LIMIT))
    found = [mail_of(m) for m in rows]
    if refs:  # what we sent (replies, acknowledgements): a customer's answer to it threads back
        ours = await session.scalars(select(EmailOut).where(EmailOut.message_id.in_(refs)).limit(RELATED_LIMIT))
        found += [out_mail_of(o) for o in ours]
    return found


class _Placer:
    """Places a group's mails one after another; what earlier ones opened or joined, later ones see."""

    def __init__(self, session: AsyncSession, known: list[threading.Mail], convs: dict[str, ConversationOut]):
        self.session, self.known, self.convs = session, known, convs
        self.opened: dict[str, ConversationOut] = {}  # new or reopened: routing hears of them after the commit

    async def place(self, raw: RawIn, new: threading.Mail) -> tuple[threading.Mail, str]:
        related = [m for m in self.known if _related_to(m, new)]
        subject_mates: list[threading.Mail] = []
        if not new.in_reply_to and not new.references and new.subject_key:
            stored = await by_subject(self.session, customer_id=new.customer_id, key=new.subject_key)
            subject_mates = stored + [m for m in self.known if m.subject_key == new.subject_key]
        decision = threading.decide(new, related, subject_mates, now=utcnow())
        conv, reason = await self._conversation(decision, raw, new)
        placed = dataclasses.replace(new, conversation_id=conv.id)
        self.known.append(placed)
        return placed, reason

    async def _conversation(
        self, decision: threading.Decision, raw: RawIn, new: threading.Mail
    ) -> tuple[ConversationOut, str]:
        cid = decision.conversation_id
        if cid and cid not in self.convs:  # found by subject: not among the group's prefetched ones
            found = await conversations.find(self.session, conversation_id=cid)
            if found is not None:
                self.convs[cid] = found
        conv = self.convs.get(cid) if cid else None
        if conv is not None and conv.customer_id == new.customer_id:
            if conv.status != "closed":
                return conv, decision.reason
            again = await conversations.stage_reopen(self.session, conversation_id=conv.id)
            if again is not None:
                self.convs[again.id] = self.opened[again.id] = again
                return again, Reason.reopened.value
        subject = clean(raw.parsed.subject) or "(no subject)"
        conv = await conversations.stage_open(
            self.session,
            data=OpenIn(
                customer_id=new.customer_id,
                channel=CHANNEL,
                customer_name=clean(raw.customer_name, 120),
                topic=subject[:200],
            ),
        )
        self.convs[conv.id] = self.opened[conv.id] = conv
        return conv, Reason.new.value


async def file_group(
    session: AsyncSession,
    bus: Bus,
    *,
    raws: Sequence[RawIn],
    policy: followup.Policy | None = None,
    links: dict[str, list[followup.Link]] | None = None,
    on_queued: Callable[[], None] | None = None,
) -> list[FiledOut] | None:
    """File raw messages in one transaction, in order; None (nothing done) when one of them was filed
    already by another worker, or the transaction failed: file them one by one then."""
    ids = [r.raw_id for r in raws]
    taken = await session.execute(
        update(EmailRaw).where(EmailRaw.id.in_(ids), EmailRaw.state == "new").values(state="done")
    )
    if taken.rowcount != len(ids):  # type: ignore[attr-defined]
        await session.rollback()
        return None
    news = [
        threading.Mail(  # NULs out of the ids: PostgreSQL would refuse the queries
            message_id=clean(r.parsed.message_id) if r.parsed.message_id else None,
            in_reply_to=[clean(x) for x in r.parsed.in_reply_to[:1]],
            references=[clean(x) for x in r.parsed.references],
            customer_id=r.customer_id,
            subject_key=clean(threading.subject_key(r.parsed.subject)),
            received_at=r.received_at,
        )
        for r in raws
    ]
    known = await _stored_related(session, news)
    convs = await conversations.find_many(session, ids=sorted({m.conversation_id for m in known}))
    placer = _Placer(session, known, convs)
    rows = []
    for raw, new in zip(raws, news, strict=True):
        placed, reason = await placer.place(raw, new)
        rows.append(row_of(raw.raw_id, placed, raw.parsed, reason))
    await session.flush()  # the conversations staged above, before the messages that refer to them
    # Core inserts, not the ORM's unit of work: it cost half the group's time (decision 35).
    msg_table = cast(Table, EmailMessage.__table__)
    values = [{c.key: getattr(row, c.key) for c in msg_table.c if c.key != "id"} for row in rows]
    stmt = insert(msg_table).returning(msg_table.c.id, sort_by_parameter_order=True)
    for row, new_id in zip(rows, list(await session.scalars(stmt, values)), strict=True):
        row.id = new_id
    refs = [
        {"email_message_id": row.id, "ref": clean(ref, 500), "direct": ref in new.in_reply_to}
        for row, new in zip(rows, news, strict=True)
        for ref in dict.fromkeys(new.refs())
    ]
    if refs:  # before the touches: their SQLite bulk path reads last_insert_rowid()
        await session.execute(insert(EmailRef), refs)
    now = utcnow()
    touches = [touch_of(row) for row in rows]
    touch_ids = await ccr.add_touches(session, touches=touches, now=now)
    acks = 0
    if policy is not None:  # clocks and acknowledgements, committed with the mail or not at all
        envelopes = [r.envelope_from for r in raws]
        acks = await followup.stage(session, rows=rows, envelopes=envelopes, links=links or {}, policy=policy, now=now)
    try:
        await session.commit()
    except IntegrityError:  # another process filed one of them between our update and commit
        await session.rollback()
        return None
    if acks and on_queued is not None:
        on_queued()
    filed = [
        FiledOut(
            raw_id=r.raw_id,
            message=message_out(row),
            opened=row.reason == Reason.new,
            reopened=row.reason == Reason.reopened,
        )
        for r, row in zip(raws, rows, strict=True)
    ]
    try:
        await ccr.publish_added(bus, ids=touch_ids, touches=touches, now=now)
        await bus.publish_events(TOPIC_EMAIL, [EmailFiled(message=f.message) for f in filed])
    except Exception as exc:
        log.warning("publish_failed", what="email.filed", error=repr(exc))
    for conv in placer.opened.values():  # after the commit: announced and given to routing
        await conversations.opened(session, bus, conversation=conv)
    return filed


async def file_raw(
    session: AsyncSession,
    bus: Bus,
    *,
    raw: RawIn,
    policy: followup.Policy | None = None,
    links: dict[str, list[followup.Link]] | None = None,
    on_queued: Callable[[], None] | None = None,
) -> FiledOut | None:
    """File one raw message; None when it was filed already (by another worker)."""
    got = await file_group(session, bus, raws=[raw], policy=policy, links=links, on_queued=on_queued)
    return got[0] if got else None
