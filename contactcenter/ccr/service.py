"""The customer contact repository: customers, identities, touches, timeline, search, merge.

Every capability logs touches through `log_touch` / `log_touches` (or `add_touch` inside its own
transaction followed by `publish_touches` after its commit). Events go out only after the commit.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import Table, and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.bus import Bus
from contactcenter.ccr.events import TOPIC_TOUCHES, CustomersMerged, TouchLogged, customer_topic
from contactcenter.ccr.identity import looks_like_phone, normalize_email, normalize_identity, normalize_phone
from contactcenter.ccr.models import Customer, CustomerIdentity, CustomerMerge, Touch
from contactcenter.ccr.schemas import (
    Channel,
    CustomerCreate,
    CustomerOut,
    IdentityKind,
    IdentityOut,
    MergeOut,
    TimelinePage,
    TouchIn,
    TouchOut,
)
from contactcenter.db import utcnow
from contactcenter.http import ApiError

MAX_PAGE = 200


async def _customer_out(session: AsyncSession, c: Customer) -> CustomerOut:
    idents = await session.scalars(
        select(CustomerIdentity).where(CustomerIdentity.customer_id == c.id).order_by(CustomerIdentity.id)
    )
    return CustomerOut(
        id=c.id,
        display_name=c.display_name,
        segment=c.segment,
        profile=c.profile,
        merged_into_id=c.merged_into_id,
        created_at=c.created_at,
        identities=[IdentityOut.model_validate(i) for i in idents],
    )


async def create_customer(session: AsyncSession, *, data: CustomerCreate, region: str) -> CustomerOut:
    """Create a customer with identities; 409 if one of the identities belongs to someone already."""
    values = [(i.kind, normalize_identity(i.kind, i.value, region=region)) for i in data.identities]
    customer = Customer(display_name=data.display_name.strip(), segment=data.segment, profile={})
    session.add(customer)
    await session.flush()
    for kind, value in values:
        session.add(CustomerIdentity(customer_id=customer.id, kind=kind.value, value=value))
    try:
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        raise ApiError(409, "identity_taken", "one of these identities belongs to another customer") from exc
    return await _customer_out(session, customer)


async def get_customer(session: AsyncSession, *, customer_id: int) -> CustomerOut:
    """One customer with identities; 404 when missing."""
    c = await session.get(Customer, customer_id)
    if c is None:
        raise ApiError(404, "customer_not_found", f"no customer {customer_id}")
    return await _customer_out(session, c)


async def live_customer_id(session: AsyncSession, *, customer_id: int) -> int:
    """Follow merges to the customer that now holds this one's history; 404 when missing."""
    seen = 0
    while True:
        merged_into = await session.scalar(select(Customer.merged_into_id).where(Customer.id == customer_id))
        exists = merged_into is not None or await session.get(Customer, customer_id) is not None
        if not exists:
            raise ApiError(404, "customer_not_found", f"no customer {customer_id}")
        if merged_into is None or seen > 10:
            return customer_id
        customer_id, seen = merged_into, seen + 1


async def find_by_identity(session: AsyncSession, *, kind: IdentityKind, value: str, region: str) -> int | None:
    """The customer holding this identity, if any."""
    norm = normalize_identity(kind, value, region=region)
    return await session.scalar(
        select(CustomerIdentity.customer_id).where(CustomerIdentity.kind == kind.value, CustomerIdentity.value == norm)
    )


async def resolve_customer(
    session: AsyncSession, *, kind: IdentityKind, value: str, display_name: str, region: str
) -> tuple[int, bool]:
    """The customer behind an identity, created when unknown; returns (customer id, created)."""
    norm = normalize_identity(kind, value, region=region)
    stmt = select(CustomerIdentity.customer_id).where(
        CustomerIdentity.kind == kind.value, CustomerIdentity.value == norm
    )
    found = await session.scalar(stmt)
    if found is not None:
        return await live_customer_id(session, customer_id=found), False
    try:
        async with session.begin_nested():
            customer = Customer(display_name=display_name[:120] or "Visitor", profile={})
            session.add(customer)
            await session.flush()
            session.add(CustomerIdentity(customer_id=customer.id, kind=kind.value, value=norm))
        await session.commit()
        return customer.id, True
    except IntegrityError:
        # Another request created it between our read and write: use theirs.
        found = await session.scalar(stmt)
        if found is None:
            raise
        return found, False


async def add_identity(
    session: AsyncSession, *, customer_id: int, kind: IdentityKind, value: str, region: str
) -> CustomerOut:
    """Attach one more identity to a customer; 409 when another customer has it."""
    await get_customer(session, customer_id=customer_id)
    norm = normalize_identity(kind, value, region=region)
    session.add(CustomerIdentity(customer_id=customer_id, kind=kind.value, value=norm))
    try:
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        raise ApiError(409, "identity_taken", f"{kind.value} {norm} belongs to another customer") from exc
    return await get_customer(session, customer_id=customer_id)


async def search_customers(session: AsyncSession, *, q: str, region: str, limit: int = 20) -> list[CustomerOut]:
    """Customers by email, phone or name (case-insensitive substring), live ones only."""
    q = q.strip()
    ids: list[int] = []
    if "@" in q:
        try:
            ids = list(
                await session.scalars(
                    select(CustomerIdentity.customer_id).where(
                        CustomerIdentity.kind == "email", CustomerIdentity.value == normalize_email(q)
                    )
                )
            )
        except ApiError:
            ids = list(
                await session.scalars(
                    select(CustomerIdentity.customer_id)
                    .where(CustomerIdentity.kind == "email", CustomerIdentity.value.contains(q.lower()))
                    .limit(limit)
                )
            )
    elif looks_like_phone(q):
        try:
            phone = normalize_phone(q, region)
        except ApiError:
            phone = None
        if phone:
            ids = list(
                await session.scalars(
                    select(CustomerIdentity.customer_id).where(
                        CustomerIdentity.kind == "phone", CustomerIdentity.value == phone
                    )
                )
            )
    if not ids:
        pattern = "%" + q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        ids = list(
            await session.scalars(
                select(Customer.id)
                .where(func.lower(Customer.display_name).like(pattern, escape="\\"), Customer.merged_into_id.is_(None))
                .order_by(Customer.display_name)
                .limit(limit)
            )
        )
    rows = await session.scalars(select(Customer).where(Customer.id.in_(ids[:limit])).order_by(Customer.display_name))
    return [await _customer_out(session, c) for c in rows]


def _touch_row(t: TouchIn, now: datetime) -> dict[str, object]:
    return {
        "customer_id": t.customer_id,
        "channel": t.channel.value,
        "kind": t.kind.value,
        "direction": t.direction.value,
        "occurred_at": t.occurred_at or now,
        "agent_id": t.agent_id,
        "conversation_id": t.conversation_id,
        "summary": t.summary,
        "payload": t.payload,
    }


async def add_touch(session: AsyncSession, *, touch: TouchIn) -> Touch:
    """Stage a touch inside the caller's transaction; call publish_touches after the commit."""
    row = Touch(**_touch_row(touch, utcnow()))
    session.add(row)
    await session.flush()
    return row


async def publish_touches(bus: Bus, touches: Sequence[Touch | TouchOut]) -> None:
    """Announce committed touches: one topic for every touch, one per customer."""
    for t in touches:
        ev = TouchLogged(
            touch_id=t.id,
            customer_id=t.customer_id,
            channel=t.channel,
            kind=t.kind,
            occurred_at=t.occurred_at,
            summary=t.summary,
            conversation_id=t.conversation_id,
        )
        data = ev.model_dump_json()
        await bus.publish(TOPIC_TOUCHES, data)
        await bus.publish(customer_topic(t.customer_id), data)


async def log_touch(session: AsyncSession, bus: Bus, *, touch: TouchIn) -> TouchOut:
    """Store one touch, commit, then publish it."""
    row = await add_touch(session, touch=touch)
    await session.commit()
    out = TouchOut.model_validate(row)
    await publish_touches(bus, [out])
    return out


async def log_touches(session: AsyncSession, bus: Bus, *, touches: Sequence[TouchIn]) -> list[int]:
    """Store many touches in one transaction (bulk insert), commit, then publish each."""
    if not touches:
        return []
    now = utcnow()
    rows = [_touch_row(t, now) for t in touches]
    # Core insert on the table, not the ORM bulk path: the ORM leaves out None values, then runs one
    # statement per run of rows with the same set of keys (and was below 1,500 touches/s on SQLite).
    table = cast(Table, Touch.__table__)
    if session.get_bind().dialect.name == "sqlite":
        # SQLite: one prepared single-row INSERT run per row (executemany) is far cheaper than multi-row
        # VALUES ... RETURNING, and with sort_by_parameter_order SQLAlchemy would send one row per statement.
        # From its first row to the commit our transaction holds SQLite's write lock, and a rowid table
        # without AUTOINCREMENT gives each new row max(id) + 1: the batch has the consecutive ids ending at
        # last_insert_rowid(). The count checks that (it could only fail once ids reach 2**63 - 1).
        await session.execute(insert(table), rows)
        last_id = func.last_insert_rowid()
        check = select(last_id, func.count()).select_from(table).where(table.c.id > last_id - len(rows))
        last, found = (await session.execute(check)).one()
        if found != len(rows):
            raise RuntimeError(f"SQLite did not give {len(rows)} touches consecutive ids")
        ids = list(range(last - len(rows) + 1, last + 1))
    else:
        stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        ids = list(await session.scalars(stmt, rows))
    await session.commit()
    # Same events as publish_touches, built straight from the validated inputs: a TouchOut per row
    # only to read six attributes back cost as much as the insert's own Python work.
    for touch_id, t in zip(ids, touches, strict=True):
        data = TouchLogged(
            touch_id=touch_id,
            customer_id=t.customer_id,
            channel=t.channel.value,
            kind=t.kind.value,
            occurred_at=t.occurred_at or now,
            summary=t.summary,
            conversation_id=t.conversation_id,
        ).model_dump_json()
        await bus.publish(TOPIC_TOUCHES, data)
        await bus.publish(customer_topic(t.customer_id), data)
    return ids


def encode_cursor(t: datetime, touch_id: int) -> str:
    return base64.urlsafe_b64encode(f"{t.isoformat()}|{touch_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        ts, _, tid = raw.partition("|")
        when = datetime.fromisoformat(ts)
        if when.tzinfo is None:
            raise ValueError("naive")
        return when, int(tid)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise ApiError(400, "invalid_cursor", "cursor is not one this server issued") from exc


async def timeline(
    session: AsyncSession,
    *,
    customer_id: int,
    limit: int = 50,
    cursor: str | None = None,
    channels: Sequence[Channel] = (),
    since: datetime | None = None,
    until: datetime | None = None,
) -> TimelinePage:
    """A customer's touches, newest first, one page at a time."""
    limit = max(1, min(limit, MAX_PAGE))
    # Core on the table, plain dicts rather than ORM instances: a read-only page needs no identity map or
    # change tracking, and one validation call for the whole page is cheaper than one per touch.
    table = cast(Table, Touch.__table__)
    t = table.c
    conds = [t.customer_id == customer_id]
    if channels:
        conds.append(t.channel.in_([c.value for c in channels]))
    if since:
        conds.append(t.occurred_at >= since)
    if until:
        conds.append(t.occurred_at < until)
    if cursor:
        at, tid = decode_cursor(cursor)
        conds.append(or_(t.occurred_at < at, and_(t.occurred_at == at, t.id < tid)))
    # Without filters this walks ix_touches_customer_time (customer_id, occurred_at, id) backwards: no sort.
    stmt = select(table).where(*conds).order_by(t.occurred_at.desc(), t.id.desc()).limit(limit + 1)
    result = await session.execute(stmt)
    keys = list(result.keys())
    rows = [dict(zip(keys, r, strict=True)) for r in result]
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = encode_cursor(rows[-1]["occurred_at"], rows[-1]["id"]) if more and rows else None
    return TimelinePage.model_validate({"items": rows, "next_cursor": nxt})


async def merge_customers(
    session: AsyncSession, bus: Bus, *, source_id: int, target_id: int, actor_id: int, reason: str
) -> MergeOut:
    """Move the source's identities and touches to the target, keep the source as a pointer, audit it."""
    if source_id == target_id:
        raise ApiError(422, "same_customer", "cannot merge a customer into itself")
    found = {
        c.id: c
        for c in await session.scalars(
            select(Customer).where(Customer.id.in_([source_id, target_id])).with_for_update()
        )
    }
    for cid in (source_id, target_id):
        if cid not in found:
            raise ApiError(404, "customer_not_found", f"no customer {cid}")
        if found[cid].merged_into_id is not None:
            raise ApiError(409, "already_merged", f"customer {cid} was merged into {found[cid].merged_into_id}")
    moved_ids = (
        await session.execute(
            update(CustomerIdentity).where(CustomerIdentity.customer_id == source_id).values(customer_id=target_id)
        )
    ).rowcount  # type: ignore[attr-defined]
    moved_touches = (
        await session.execute(update(Touch).where(Touch.customer_id == source_id).values(customer_id=target_id))
    ).rowcount  # type: ignore[attr-defined]
    await session.execute(update(Customer).where(Customer.merged_into_id == source_id).values(merged_into_id=target_id))
    found[source_id].merged_into_id = target_id
    session.add(
        CustomerMerge(
            source_id=source_id,
            target_id=target_id,
            actor_id=actor_id,
            reason=reason,
            moved_identities=moved_ids,
            moved_touches=moved_touches,
        )
    )
    await session.commit()
    await bus.publish_event(customer_topic(target_id), CustomersMerged(source_id=source_id, target_id=target_id))
    return MergeOut(source_id=source_id, target_id=target_id, moved_identities=moved_ids, moved_touches=moved_touches)


VISITOR_NAME = "Website visitor"


async def fill_from_contact(
    session: AsyncSession, *, customer_id: int, name: str | None, email: str | None, region: str
) -> None:
    """What a visitor typed (name, email) completes an anonymous record inside the caller's transaction.
    It never overwrites a known name, never takes another customer's email, and never fails the contact."""
    customer = await session.get(Customer, customer_id)
    if customer is None:
        return
    if name and name.strip() and customer.display_name == VISITOR_NAME:
        customer.display_name = name.strip()[:120]
    if not email:
        return
    try:
        norm = normalize_identity(IdentityKind.email, email, region=region)
    except ApiError:
        return
    try:
        async with session.begin_nested():
            session.add(CustomerIdentity(customer_id=customer_id, kind=IdentityKind.email.value, value=norm))
            await session.flush()
    except IntegrityError:
        return  # someone else's address: an agent can merge the two after checking
