"""At start-up: warn while a demo account still opens with its published password."""

from __future__ import annotations

import asyncio

import structlog
from sqlalchemy import select

from contactcenter.auth.models import StaffUser
from contactcenter.auth.service import verify_password
from contactcenter.db import Database
from contactcenter.demo import data
from contactcenter.demo.seed import demo_password

log = structlog.get_logger("demo")


async def demo_accounts_open(db: Database) -> list[str]:
    """Active demo users whose password is still the demo one (checked in a thread: argon2 is slow)."""
    names = [u for u, _, _ in data.DEMO_STAFF]
    async with db.session() as s:
        rows = (
            await s.execute(
                select(StaffUser.username, StaffUser.password_hash).where(
                    StaffUser.username.in_(names), StaffUser.active
                )
            )
        ).all()
    found = []
    for username, stored in rows:
        if await asyncio.to_thread(verify_password, stored, demo_password(username)):
            found.append(username)
    return sorted(found)


async def warn_demo_accounts(db: Database) -> None:
    """Log demo_accounts_present (a warning) once, when any demo account opens with its public password."""
    try:
        found = await demo_accounts_open(db)
    except Exception as exc:  # a warning's check must never stop the server
        log.warning("demo_account_check_failed", error=repr(exc))
        return
    if found:
        log.warning(
            "demo_accounts_present",
            usernames=found,
            hint="their passwords are public (<username>-demo-pass): deactivate them or change their passwords",
        )
