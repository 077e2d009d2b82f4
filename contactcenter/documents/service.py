"""The document library (add, list and search, edit, remove) and pushes: the conversation's agent shows a
document to its customer, who fetches it through a signed link with their own visitor token; each push
and each first opening is a CCR touch, every receipt reaches the agent at once."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.bus import Bus
from contactcenter.ccr import service as ccr
from contactcenter.ccr.schemas import Channel, Direction, TouchIn, TouchKind
from contactcenter.channels.chat.files import clean_name
from contactcenter.conversations.schemas import ConversationOut
from contactcenter.db import utcnow
from contactcenter.documents import files, links
from contactcenter.documents.events import to_agent, to_customer
from contactcenter.documents.models import Document, DocumentPush
from contactcenter.documents.schemas import (
    DocumentFrame,
    DocumentOut,
    DocumentView,
    PushOut,
    ReceiptFrame,
    TurnFrame,
)
from contactcenter.http import ApiError
from contactcenter.realtime.events import TOPIC_REALTIME

LINK_PATH = "/api/documents/pushed/"
LIST_MAX = 200


def _search_text(title: str, tags: list[str]) -> str:
    return " ".join([title, *tags]).lower()[:1200]


def _tags(tags: list[str]) -> list[str]:
    return sorted({t.strip() for t in tags if t.strip()})


async def add(
    session: AsyncSession, *, title: str, tags: list[str], filename: str, data: bytes, uploaded_by: int,
    max_bytes: int,
) -> DocumentOut:  # fmt: skip
    """Check an upload by its bytes and keep it in the library."""
    ctype = files.check(data, max_bytes=max_bytes)
    tags = _tags(tags)
    row = Document(
        id=str(uuid.uuid4()), title=title, search=_search_text(title, tags), tags=tags,
        filename=clean_name(filename), content_type=ctype, size=len(data), data=data, uploaded_by=uploaded_by,
    )  # fmt: skip
    session.add(row)
    await session.commit()
    return DocumentOut.model_validate(row)


async def listing(session: AsyncSession, *, q: str | None, tag: str | None) -> list[DocumentOut]:
    """The library, newest first, by words of the title or tags and by one exact tag."""
    stmt = select(Document).where(Document.removed.is_(False))
    for word in (q or "").lower().split()[:8]:
        escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(Document.search.like(f"%{escaped}%", escape="\\"))
    rows = list(await session.scalars(stmt.order_by(Document.created_at.desc()).limit(LIST_MAX if not tag else 5000)))
    if tag:  # JSON containment differs per backend; the library is small enough to filter here
        rows = [r for r in rows if tag in r.tags][:LIST_MAX]
    return [DocumentOut.model_validate(r) for r in rows]


async def get(session: AsyncSession, *, document_id: str) -> Document:
    row = await session.get(Document, document_id) if len(document_id) <= 36 else None
    if row is None or row.removed:
        raise ApiError(404, "document_not_found", "no such document")
    return row


async def edit(session: AsyncSession, *, document_id: str, title: str | None, tags: list[str] | None) -> DocumentOut:
    row = await get(session, document_id=document_id)
    row.title = title if title is not None else row.title
    row.tags = _tags(tags) if tags is not None else row.tags
    row.search = _search_text(row.title, row.tags)
    await session.commit()
    return DocumentOut.model_validate(row)


async def remove(session: AsyncSession, *, document_id: str) -> None:
    """Unlisted and no longer pushed; links already sent stop working too (fetch checks `removed`)."""
    row = await get(session, document_id=document_id)
    row.removed = True
    await session.commit()


def _touch_channel(conv: ConversationOut) -> Channel:
    return Channel(conv.channel) if conv.channel in Channel.__members__ else Channel.web


def link_of(secret: str, push: DocumentPush) -> str:
    expires = int(push.expires_at.timestamp())
    return LINK_PATH + links.sign(secret, push_id=push.id, expires=expires)


async def push(
    session: AsyncSession, bus: Bus, *, conv: ConversationOut, agent_id: int, document_id: str, secret: str,
    link_s: float,
) -> PushOut:  # fmt: skip
    """Show a document to the conversation's customer: the push and its touch in one commit, then the frames."""
    if conv.agent_id != agent_id:
        raise ApiError(403, "not_your_conversation", "only the conversation's agent pushes documents")
    if conv.status == "closed":
        raise ApiError(409, "conversation_closed", "the conversation is closed")
    doc = await get(session, document_id=document_id)
    now = utcnow()
    row = DocumentPush(
        id=str(uuid.uuid4()), document_id=doc.id, conversation_id=conv.id, customer_id=conv.customer_id,
        agent_id=agent_id, pushed_at=now, expires_at=now + timedelta(seconds=link_s), page_seconds={},
    )  # fmt: skip
    session.add(row)
    touch = TouchIn(
        customer_id=conv.customer_id, channel=_touch_channel(conv), kind=TouchKind.document_push,
        direction=Direction.outbound, agent_id=agent_id, conversation_id=conv.id, occurred_at=now,
        summary=f"Document shown: {doc.title}"[:500],
        payload={"push_id": row.id, "document_id": doc.id, "title": doc.title, "content_type": doc.content_type},
    )  # fmt: skip
    await ccr.log_touch(session, bus, touch=touch)  # commits the push with it
    out = PushOut.model_validate(row)
    frame = DocumentFrame(
        conversation_id=conv.id, push_id=row.id, title=doc.title, content_type=doc.content_type, size=doc.size,
        url=link_of(secret, row), expires_at=row.expires_at,
    )  # fmt: skip
    receipt = ReceiptFrame(conversation_id=conv.id, title=doc.title, event="pushed", push=out)
    await bus.publish_events(TOPIC_REALTIME, [to_customer(conv, frame), to_agent(conv, receipt)])
    return out


async def fetch(session: AsyncSession, *, secret: str, token: str, customer_id: int, now: datetime) -> Document:
    """The document behind a link, for the push's own customer only (anyone else: the same 404)."""
    push_id = links.read(secret, token, now=now.timestamp())
    row = await session.get(DocumentPush, push_id)
    if row is None or row.customer_id != customer_id:
        raise ApiError(404, "link_invalid", "this link is not valid")
    doc = await session.get(Document, row.document_id)
    if doc is None or doc.removed:
        raise ApiError(410, "document_removed", "this document is no longer available")
    return doc


async def viewed(
    session: AsyncSession, bus: Bus, *, conv: ConversationOut, customer_id: int, view: DocumentView
) -> PushOut:
    """A receipt from the customer's viewer; the first opening is a touch of its own."""
    row = await session.get(DocumentPush, view.push_id)
    if row is None or row.customer_id != customer_id or row.conversation_id != conv.id:
        raise ApiError(404, "push_not_found", "no such document for you")
    doc = await session.get(Document, row.document_id)
    title = doc.title if doc is not None else ""
    now = utcnow()
    first_open = False
    if view.event == "opened":
        first_open = row.opened_at is None
        row.opened_at = row.opened_at or now
        row.page_count = view.page_count or row.page_count
    elif view.event == "page" and view.page is not None and view.seconds is not None:
        if row.page_count is not None and view.page > row.page_count:
            raise ApiError(422, "invalid_page", "no such page")
        seconds = dict(row.page_seconds)
        key = str(view.page)
        seconds[key] = round(seconds.get(key, 0.0) + view.seconds, 1)
        row.page_seconds = seconds
    elif view.event == "closed":
        row.closed_at = now
    if first_open:
        touch = TouchIn(
            customer_id=row.customer_id, channel=_touch_channel(conv), kind=TouchKind.document_push,
            direction=Direction.inbound, agent_id=row.agent_id, conversation_id=conv.id, occurred_at=now,
            summary=f"Document opened: {title}"[:500], payload={"push_id": row.id, "document_id": row.document_id},
        )  # fmt: skip
        await ccr.log_touch(session, bus, touch=touch)
    else:
        await session.commit()
    out = PushOut.model_validate(row)
    receipt = ReceiptFrame(conversation_id=conv.id, title=title, event=view.event, push=out)
    await bus.publish_events(TOPIC_REALTIME, [to_agent(conv, receipt)])
    return out


async def turn(
    session: AsyncSession, bus: Bus, *, conv: ConversationOut, agent_id: int, push_id: str, page: int
) -> None:
    """The conversation's agent turns a shown document for both (the customer's receipts follow)."""
    row = await session.get(DocumentPush, push_id)
    if row is None or row.conversation_id != conv.id or conv.agent_id != agent_id:
        raise ApiError(404, "push_not_found", "no such document in your conversation")
    if row.page_count is not None and page > row.page_count:
        raise ApiError(422, "invalid_page", "no such page")
    frame = TurnFrame(conversation_id=conv.id, push_id=row.id, page=page)
    await bus.publish_events(TOPIC_REALTIME, [to_customer(conv, frame)])


async def pushes(session: AsyncSession, *, conversation_id: str) -> list[PushOut]:
    """A conversation's pushes with their receipts, oldest first."""
    q = (
        select(DocumentPush, Document.title)
        .join(Document, Document.id == DocumentPush.document_id)
        .where(DocumentPush.conversation_id == conversation_id)
        .order_by(DocumentPush.pushed_at)
    )
    rows = (await session.execute(q)).all()
    return [PushOut.model_validate(p).model_copy(update={"title": title}) for p, title in rows]


async def shown_to(
    session: AsyncSession, *, conv: ConversationOut, customer_id: int, secret: str, now: datetime
) -> list[DocumentFrame]:
    """What was pushed to this customer in the conversation and can still be opened (for the widget's shelf
    after a page change): the same links as the frames carried."""
    if conv.customer_id != customer_id:
        raise ApiError(404, "conversation_not_found", "no such conversation for you")
    q = (
        select(DocumentPush, Document)
        .join(Document, Document.id == DocumentPush.document_id)
        .where(DocumentPush.conversation_id == conv.id, DocumentPush.customer_id == customer_id)
        .where(DocumentPush.expires_at > now, Document.removed.is_(False))
        .order_by(DocumentPush.pushed_at)
    )
    return [
        DocumentFrame(
            conversation_id=conv.id,
            push_id=p.id,
            title=d.title,
            content_type=d.content_type,
            size=d.size,
            url=link_of(secret, p),
            expires_at=p.expires_at,
        )
        for p, d in (await session.execute(q)).all()
    ]


async def conversation_of(session: AsyncSession, *, push_id: str, customer_id: int | None = None) -> str | None:
    """The conversation of a push (made to this customer, when given: None for anyone else's or a guessed id)."""
    row = await session.get(DocumentPush, push_id)
    if row is None or (customer_id is not None and row.customer_id != customer_id):
        return None
    return row.conversation_id
