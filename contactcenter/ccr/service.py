"""The customer contact repository: customers, identities, touches, timeline, search, merge.

Every capability logs touches through `log_touch` / `log_touches` (or `add_touch` inside its own
transaction followed by `publish_touches` after its commit). Events go out only after the commit.
"""

from __future__ import annotations

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.bus import Bus
from contactcenter.ccr import touches
from contactcenter.ccr.events import TOPIC_TOUCHES, CustomersMerged, customer_topic
from contactcenter.ccr.identity import looks_like_phone, normalize_email, normalize_identity, normalize_phone
from contactcenter.ccr.models import Customer, CustomerIdentity, CustomerMerge, Touch
from contactcenter.ccr.schemas import (
    CustomerCreate,
    CustomerOut,
    IdentityKind,
    IdentityOut,
    MergeOut,
)
from contactcenter.http import ApiError

# Touch writing and reading live in touches.py (the hot path); other capabilities call them through here.
MAX_PAGE = touches.MAX_PAGE
add_touch = touches.add_touch
publish_touches = touches.publish_touches
log_touch = touches.log_touch
log_touches = touches.log_touches
add_touches = touches.add_touches
insert_touches_sqlite3 = touches.insert_touches_sqlite3
insert_touches_asyncpg = touches.insert_touches_asyncpg
publish_added = touches.publish_added
timeline = touches.timeline
encode_cursor = touches.encode_cursor
decode_cursor = touches.decode_cursor


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
        contact_email=c.contact_email,
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


def holding_ids(customer_id: int) -> Select[int]:
    """The customer and every customer merged into it: whose rows (orders, ...) belong to it now.

    A merge re-points earlier merges at the new target, so one level covers every chain."""
    return select(Customer.id).where(or_(Customer.id == customer_id, Customer.merged_into_id == customer_id))


async def merged_map(session: AsyncSession) -> dict[int, int]:
    """{merged customer: the customer now holding it} for every merged customer (one level: see holding_ids)."""
    rows = await session.execute(
        select(Customer.id, Customer.merged_into_id).where(Customer.merged_into_id.is_not(None))
    )
    return {cid: into for cid, into in rows if into is not None}


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
    merged = CustomersMerged(source_id=source_id, target_id=target_id).model_dump_json()
    # The touches topic too: every process's suggestions runtime holds facts of both customers.
    await bus.publish_many([(customer_topic(target_id), merged), (TOPIC_TOUCHES, merged)])
    return MergeOut(source_id=source_id, target_id=target_id, moved_identities=moved_ids, moved_touches=moved_touches)


VISITOR_NAME = "Website visitor"


async def fill_from_contact(
    session: AsyncSession, *, customer_id: int, name: str | None, email: str | None, region: str
) -> None:
    """What a visitor typed (name, email) completes an anonymous record inside the caller's transaction.
    It never overwrites a known name and never fails the contact. The email is kept as an unverified contact
    detail (customers.contact_email), never as an identity: anyone can type anyone's address, so it must not
    find, merge or block another customer (a staff-entered or channel-proven identity always wins)."""
    customer = await session.get(Customer, customer_id)
    if customer is None:
        return
    if name and name.strip() and customer.display_name == VISITOR_NAME:
        customer.display_name = name.strip()[:120]
    if not email:
        return
    try:
        customer.contact_email = normalize_identity(IdentityKind.email, email, region=region)
    except ApiError:
        return


async def contact_addresses(session: AsyncSession, *, customer_id: int) -> list[str]:
    """The addresses this customer holds: the one typed in the pre-chat form first, then email identities."""
    typed = await session.scalar(select(Customer.contact_email).where(Customer.id == customer_id))
    held = await session.scalars(
        select(CustomerIdentity.value)
        .where(CustomerIdentity.customer_id == customer_id, CustomerIdentity.kind == IdentityKind.email.value)
        .order_by(CustomerIdentity.id)
    )
    return list(dict.fromkeys([*([typed] if typed else []), *held]))
