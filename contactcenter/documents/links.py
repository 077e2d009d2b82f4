"""Signed, expiring document links: the push's id and an expiry with an HMAC of the app's secret. A link
alone is not enough: the customer fetching it must also be the push's customer (routes.py)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

from contactcenter.http import ApiError

_TOKEN = re.compile(r"^([0-9a-f-]{36})\.(\d{1,12})\.([A-Za-z0-9_-]{43})$")


def _mac(secret: str, push_id: str, expires: int) -> str:
    msg = f"document-link:{push_id}.{expires}".encode()  # its own prefix: no other signed token fits here
    digest = hmac.new(secret.encode(), msg, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign(secret: str, *, push_id: str, expires: int) -> str:
    return f"{push_id}.{expires}.{_mac(secret, push_id, expires)}"


def read(secret: str, token: str, *, now: float) -> str:
    """The push id of a genuine token; 404 `link_invalid` if forged or altered, 410 `link_expired`."""
    m = _TOKEN.match(token)
    if m is None or not hmac.compare_digest(m[3], _mac(secret, m[1], int(m[2]))):
        raise ApiError(404, "link_invalid", "this link is not valid")
    if int(m[2]) <= now:  # after the signature: a forged token learns nothing from the date
        raise ApiError(410, "link_expired", "this document link has expired; ask the agent to send it again")
    return m[1]
