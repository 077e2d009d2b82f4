"""Staff users, password hashing (argon2), sessions, login rate limit and signed visitor tokens."""

from __future__ import annotations

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
from contactcenter.http import ApiError
from contactcenter.types import Role

_hasher = PasswordHasher()
# Verified against when the username is unknown, so timing does not reveal which usernames exist.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


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


async def authenticate(session: AsyncSession, *, username: str, password: str) -> StaffUser | None:
    """The active user with these credentials, or None."""
    user = await session.scalar(select(StaffUser).where(StaffUser.username == username.lower()))
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    return user


def _login_keys(client_ip: str, username: str) -> tuple[str, str]:
    return f"login:u:{username.lower()}", f"login:ip:{client_ip}"


async def check_login_rate(bus: Bus, *, client_ip: str, username: str, per_user: int, per_ip: int) -> None:
    """Refuse a login once this username or this address failed too often in the last minute."""
    by_user, by_ip = _login_keys(client_ip, username)
    if await bus.hit(by_user, 60, amount=0) >= per_user or await bus.hit(by_ip, 60, amount=0) >= per_ip:
        raise ApiError(429, "too_many_attempts", "too many failed logins; wait a minute and try again")


async def count_failed_login(bus: Bus, *, client_ip: str, username: str) -> None:
    """Only failures count, so a whole floor signing in behind one address at shift start is not refused."""
    for key in _login_keys(client_ip, username):
        await bus.hit(key, 60)


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
    await bus.publish_event(TOPIC_STAFF, StaffLoggedOut(user_id=user_id))


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
