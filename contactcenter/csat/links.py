"""The signed link a customer rates a conversation from without signing in (the email channel puts it in
its closing mail: `link_for`). itsdangerous signs the conversation id and an expiry with the app's secret
under a salt of its own, so no other signed token of the app fits here."""

from __future__ import annotations

from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer

from contactcenter.http import ApiError

SALT = "cc-csat-link"
PAGE = "/csat/"  # GET /csat/{token}: the page; the token alone says which conversation


def sign(secret: str, *, conversation_id: str, expires: int) -> str:
    """A token for the conversation's link (`expires`: Unix seconds)."""
    return str(URLSafeSerializer(secret, salt=SALT).dumps({"c": conversation_id, "e": expires}))


def read(secret: str, token: str, *, now: float) -> str:
    """The conversation id of a genuine token; 404 `link_invalid` if forged or altered, 410 `link_expired`."""
    try:
        data = URLSafeSerializer(secret, salt=SALT).loads(token[:500])
    except BadSignature:
        raise ApiError(404, "link_invalid", "this link is not valid") from None
    if not isinstance(data, dict) or not isinstance(data.get("c"), str) or not isinstance(data.get("e"), int):
        raise ApiError(404, "link_invalid", "this link is not valid")
    if data["e"] <= now:  # after the signature: a forged token learns nothing from the date
        raise ApiError(410, "link_expired", "this link has expired")
    return str(data["c"])


def link_for(secret: str, *, conversation_id: str, closed_at: datetime, rate_days: int) -> str:
    """The path of the page rating this conversation, valid as long as a rating is taken (CC_CSAT_RATE_DAYS
    after it closed). For the email channel's closing mail: prefix it with the app's public address."""
    expires = int((closed_at + timedelta(days=rate_days)).timestamp())
    return PAGE + sign(secret, conversation_id=conversation_id, expires=expires)
