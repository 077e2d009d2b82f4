"""The full analytics run as a job: on a schedule inside the server (`CC_ANALYTICS_EVERY_H`) or from the
CLI, never two at once on any number of processes (a lease row taken by one conditional UPDATE or INSERT).
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from datetime import datetime, timedelta

import structlog
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.analytics import service
from contactcenter.analytics.events import TOPIC_ANALYTICS, FiguresChanged
from contactcenter.analytics.figures import Config
from contactcenter.analytics.models import AnalyticsRun, JobLease
from contactcenter.analytics.schemas import RunOut
from contactcenter.analytics.service import Progress
from contactcenter.bus import Bus
from contactcenter.db import Database, utcnow

log = structlog.get_logger("analytics.jobs")

JOB = "analytics_full_run"
LEASE = timedelta(hours=2)  # far beyond a run's length (bench/analytics.py: minutes for a million lines)


def holder_name() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


async def claim(session: AsyncSession, *, holder: str, now: datetime | None = None) -> bool:
    """Take the lease if nobody holds it (or theirs lapsed); False if someone else runs the job."""
    now = now or utcnow()
    taken = await session.execute(
        update(JobLease)
        .where(JobLease.name == JOB, JobLease.until < now)
        .values(holder=holder, until=now + LEASE, started_at=now)
    )
    if getattr(taken, "rowcount", 0):
        await session.commit()
        return True
    if await session.get(JobLease, JOB) is not None:
        await session.rollback()
        return False
    session.add(JobLease(name=JOB, holder=holder, until=now + LEASE, started_at=now))
    try:
        await session.commit()
    except IntegrityError:  # another process inserted it at the same moment: theirs
        await session.rollback()
        return False
    return True


async def release(session: AsyncSession, *, holder: str) -> None:
    await session.execute(
        update(JobLease).where(JobLease.name == JOB, JobLease.holder == holder).values(until=utcnow())
    )
    await session.commit()


async def holder(session: AsyncSession) -> JobLease | None:
    """The lease while someone holds it, else None."""
    lease = await session.get(JobLease, JOB, populate_existing=True)
    return lease if lease is not None and lease.until > utcnow() else None


async def run_once(db: Database, bus: Bus, *, config: Config, progress: Progress | None = None) -> RunOut | None:
    """Run the full recompute under the lease, then tell every process its cached facts changed; None (and
    nothing done) when another run holds the lease."""
    me = holder_name()
    async with db.session() as s:
        if not await claim(s, holder=me):
            return None
    try:
        async with db.session() as s:
            if progress is None:
                run = await service.run_all(s, config=config)
            else:
                run = await service.run_all(s, config=config, progress=progress)
    finally:
        async with db.session() as s:
            await release(s, holder=me)
    # Every process drops its cached facts: tiers and next products changed for anyone.
    await bus.publish_event(TOPIC_ANALYTICS, FiguresChanged(customer_ids=[]))
    return run


async def due(session: AsyncSession, *, every: timedelta, now: datetime | None = None) -> bool:
    last = await session.scalar(select(func.max(AnalyticsRun.finished_at)))
    return last is None or last <= (now or utcnow()) - every


async def schedule(db: Database, bus: Bus, *, config: Config, every_h: float, check_s: float = 60.0) -> None:
    """Inside the server: run when the last run is older than `every_h` hours (the first process to see it
    takes the lease; the others find it held, then find the run done)."""
    every = timedelta(hours=every_h)
    while True:
        try:
            async with db.session() as s:
                is_due = await due(s, every=every)
            if is_due:
                run = await run_once(db, bus, config=config)
                if run is not None:
                    log.info("analytics_scheduled_run", customers=run.customers, order_lines=run.order_lines)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a failed run is retried at the next check, the server goes on
            log.warning("analytics_scheduled_run_failed", error=repr(exc))
        await asyncio.sleep(check_s)
