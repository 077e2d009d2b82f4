"""Staff users, password hashing (argon2), sessions, login rate limit and signed visitor tokens."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.auth.events import TOPIC_STAFF, StaffLoggedIn, StaffLoggedOut
from contactcenter.auth.models import StaffSession, StaffUser
from contactcenter.bus import Bus
from contactcenter.db import utcnow
from contactcenter.http import ApiError, too_many
from contactcenter.types import Role

_hasher = PasswordHasher()
# Verified against when the username is unknown, so timing does not reveal which usernames exist.
_DUMMY_HASH = _hasher.hash("not-a-real-password")
LOGIN_WINDOW_S = 60


@dataclass(frozen=True)
class StaffPrincipal:
    user_id: int
    username: str
    display_name: str
    role: Role
    csrf_token: str


@dataclass(frozen=True)
class VisitorPrincipal:
    visitor_id: str
    customer_id: int


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_user(
    session: AsyncSession, *, username: str, display_name: str, role: Role, password: str
) -> StaffUser:
    """Create a staff user; refuses a taken username."""
    user = StaffUser(
        username=username.lower(), display_name=display_name, role=role.value, password_hash=_hasher.hash(password)
    )
    session.add(user)
    try:
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        raise ApiError(409, "username_taken", f"user {username!r} exists") from exc
    return user


def verify_password(stored: str, password: str) -> bool:
    """Whether `password` matches the argon2 hash `stored` (blocking, ~0.2 s: call it in a thread)."""
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


async def authenticate(
    session: AsyncSession, *, username: str, password: str, slots: asyncio.Semaphore | None = None
) -> StaffUser | None:
    """The active user with these credentials, or None. The hash (~0.2 s of CPU) is checked in a thread, at
    most `slots` at once, so a burst of logins neither freezes the process's sockets nor takes every core."""
    user = await session.scalar(select(StaffUser).where(StaffUser.username == username.lower()))
    # Give the connection back while waiting for a slot: a burst must not hold the whole pool.
    await session.close()
    async with slots or asyncio.Semaphore(1):
        ok = await asyncio.to_thread(verify_password, user.password_hash if user else _DUMMY_HASH, password)
    if not ok or user is None or not user.active:
        return None
    return user


def _login_keys(client_ip: str, username: str) -> tuple[str, str]:
    return f"login:u:{username.lower()}:ip:{client_ip}", f"login:ip:{client_ip}"


async def take_login_attempt(bus: Bus, *, client_ip: str, username: str, per_pair: int, per_ip: int) -> None:
    """Count an attempt before its password is checked (the bus counter is atomic, across processes too), so
    concurrent attempts cannot all slip under the limit; refuse it past the limit of its (username, address) or
    its address. Per pair, not per username: a stranger failing on an agent's name does not lock the agent out."""
    pair, by_ip = _login_keys(client_ip, username)
    n_pair = await bus.hit(pair, LOGIN_WINDOW_S)
    n_ip = await bus.hit(by_ip, LOGIN_WINDOW_S)
    if n_pair > per_pair or n_ip > per_ip:
        left = await bus.window_left(pair if n_pair > per_pair else by_ip)
        raise too_many("rate_limited", "too many login attempts; wait a minute and try again", left or LOGIN_WINDOW_S)


async def login_succeeded(bus: Bus, *, client_ip: str, username: str) -> None:
    """A success clears its pair and is given back to its address: only failures add up, so a whole floor
    signing in behind one address at shift start is not refused."""
    pair, by_ip = _login_keys(client_ip, username)
    left = await bus.hit(pair, LOGIN_WINDOW_S, amount=0)
    if left > 0:
        await bus.hit(pair, LOGIN_WINDOW_S, amount=-left)
    await bus.hit(by_ip, LOGIN_WINDOW_S, amount=-1)


async def start_session(session: AsyncSession, bus: Bus, *, user: StaffUser, hours: int) -> tuple[str, str]:
    """Create a login session; returns (cookie token, csrf token)."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    now = utcnow()
    # Expired sessions of this user go now, so the table does not grow forever.
    await session.execute(delete(StaffSession).where(StaffSession.user_id == user.id, StaffSession.expires_at < now))
    session.add(
        StaffSession(
            token_hash=hash_token(token),
            user_id=user.id,
            csrf_token=csrf,
            created_at=now,
            expires_at=now + timedelta(hours=hours),
        )
    )
    await session.commit()
    await bus.publish_event(TOPIC_STAFF, StaffLoggedIn(user_id=user.id, role=user.role))
    return token, csrf


async def principal_for_token(session: AsyncSession, *, token: str) -> StaffPrincipal | None:
    """The staff member behind a session cookie, if the session is live."""
    row = (
        await session.execute(
            select(StaffSession, StaffUser)
            .join(StaffUser, StaffUser.id == StaffSession.user_id)
            .where(StaffSession.token_hash == hash_token(token))
        )
    ).first()
    if row is None:
        return None
    sess, user = row
    if sess.expires_at <= utcnow() or not user.active:
        return None
    return StaffPrincipal(user.id, user.username, user.display_name, Role(user.role), sess.csrf_token)


async def end_session(session: AsyncSession, bus: Bus, *, token: str, user_id: int) -> None:
    """Log out: the session row goes, the cookie is useless after."""
    await session.execute(delete(StaffSession).where(StaffSession.token_hash == hash_token(token)))
    await session.commit()
    await bus.publish_event(TOPIC_STAFF, StaffLoggedOut(user_id=user_id, session=hash_token(token)))


async def set_active(session: AsyncSession, bus: Bus, *, user_id: int, active: bool) -> StaffUser:
    """Deactivate (every session ends, open sockets close) or reactivate a staff user."""
    user = await session.get(StaffUser, user_id)
    if user is None:
        raise ApiError(404, "user_not_found", f"no staff user {user_id}")
    user.active = active
    if not active:
        await session.execute(delete(StaffSession).where(StaffSession.user_id == user_id))
    await session.commit()
    if not active:
        await bus.publish_event(TOPIC_STAFF, StaffLoggedOut(user_id=user_id))
    return user


async def live_sessions(session: AsyncSession, *, token_hashes: set[str]) -> set[str]:
    """Which of these sessions are still live (not ended, not expired, their user active)."""
    if not token_hashes:
        return set()
    rows = await session.execute(
        select(StaffSession.token_hash, StaffSession.expires_at, StaffUser.active)
        .join(StaffUser, StaffUser.id == StaffSession.user_id)
        .where(StaffSession.token_hash.in_(token_hashes))
    )
    now = utcnow()  # compared here, as principal_for_token does, not in SQL: one rule for both dialects
    return {h for h, expires_at, active in rows if active and expires_at > now}


async def display_name(session: AsyncSession, *, user_id: int) -> str | None:
    """A staff member's display name (shown to customers), or None for an unknown id."""
    return await session.scalar(select(StaffUser.display_name).where(StaffUser.id == user_id))


async def list_users(session: AsyncSession) -> list[StaffUser]:
    """Every staff user, by username."""
    return list((await session.scalars(select(StaffUser).order_by(StaffUser.username))).all())


class _Signer(TimestampSigner):
    # The issue time can be given (tests sign tokens issued in the past instead of waiting).
    issued_at: int | None = None

    def get_timestamp(self) -> int:
        return self.issued_at if self.issued_at is not None else super().get_timestamp()


def _visitor_serializer(secret: str, issued_at: int | None = None) -> URLSafeTimedSerializer:
    signer = type("_At", (_Signer,), {"issued_at": issued_at})
    return URLSafeTimedSerializer(secret, salt="cc-visitor", signer=signer)


def sign_visitor(secret: str, *, visitor_id: str, customer_id: int, issued_at: int | None = None) -> str:
    """A signed token the widget keeps; it proves which visitor (and customer) it is, and when it was issued."""
    return _visitor_serializer(secret, issued_at).dumps({"v": visitor_id, "c": customer_id})


def read_visitor(secret: str, token: str, *, max_age_s: float) -> VisitorPrincipal | None:
    """The visitor a token was issued to, or None when forged or older than `max_age_s`."""
    try:
        data = _visitor_serializer(secret).loads(token, max_age=int(max_age_s))
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("v"), str) or not isinstance(data.get("c"), int):
        return None
    return VisitorPrincipal(visitor_id=data["v"], customer_id=data["c"])
