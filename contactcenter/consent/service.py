"""Recording and reading visitors' consent. An answer equal to the latest one for the same purpose and
version adds nothing, so a visitor sending the same answer again and again (a loop, a flood, all at once)
stores one row."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.consent.models import VisitorConsent
from contactcenter.consent.schemas import Answer, ConsentIn, ConsentOut, Purpose
from contactcenter.db import utcnow
from contactcenter.http import ApiError


async def latest(session: AsyncSession, *, customer_id: int) -> dict[Purpose, VisitorConsent]:
    newest = (
        select(func.max(VisitorConsent.id))
        .where(VisitorConsent.customer_id == customer_id)
        .group_by(VisitorConsent.purpose)
        .scalar_subquery()
    )
    rows = await session.scalars(select(VisitorConsent).where(VisitorConsent.id.in_(newest)))
    return {Purpose(r.purpose): r for r in rows}


def _out(found: dict[Purpose, VisitorConsent], version: str) -> ConsentOut:
    answers = [Answer(purpose=p, granted=r.granted, version=r.version, at=r.at) for p, r in sorted(found.items())]
    current = all(p in found and found[p].version == version for p in Purpose)
    return ConsentOut(version=version, current=current, answers=answers)


async def read(session: AsyncSession, *, customer_id: int, version: str) -> ConsentOut:
    return _out(await latest(session, customer_id=customer_id), version)


async def record(
    session: AsyncSession, *, customer_id: int, visitor_id: str, data: ConsentIn, version: str
) -> ConsentOut:
    """The visitor's answer to the current policy; an answer to another version is refused (the widget
    showed an old text: it must ask again)."""
    if data.version != version:
        raise ApiError(409, "policy_changed", f"the policy is now version {version!r}: ask the visitor again")
    for _ in range(5):
        try:
            return await _record(session, customer_id=customer_id, visitor_id=visitor_id, data=data, version=version)
        except IntegrityError:  # another answer of this visitor got in first: read again
            await session.rollback()
    raise ApiError(409, "consent_busy", "answers from this visitor are being recorded; try again")


async def _record(
    session: AsyncSession, *, customer_id: int, visitor_id: str, data: ConsentIn, version: str
) -> ConsentOut:
    found = await latest(session, customer_id=customer_id)
    now = utcnow()
    for purpose, granted in ((Purpose.storage, data.storage), (Purpose.browsing, data.browsing)):
        old = found.get(purpose)
        if old is not None and old.version == version and old.granted == granted:
            continue
        row = VisitorConsent(
            customer_id=customer_id,
            visitor_id=visitor_id,
            purpose=purpose,
            version=version,
            granted=granted,
            at=now,
            after_id=old.id if old is not None else 0,
        )
        session.add(row)
        await session.flush()
        found[purpose] = row
    await session.commit()
    return _out(found, version)
