"""Page views with consent (issue 17 item 2): batched beacons from the widget become web touches in the
CCR, one per page per batch (a page opened three times in a batch is one touch with the time added up), so
the agent sees the pages visited on the customer's timeline. Only with the visitor's "browsing" consent to
the current policy version; rate-limited per visitor. Each beacon also extends the visitor's browsing session
(engage/sessions.py), which the abandon report reads."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.auth.service import read_visitor
from contactcenter.bus import Bus
from contactcenter.ccr.schemas import Channel, Direction, TouchIn, TouchKind
from contactcenter.ccr.service import log_touches
from contactcenter.consent import service
from contactcenter.consent.schemas import PageView, PageViewsIn, PageViewsOut, Purpose
from contactcenter.db import utcnow
from contactcenter.engage import sessions
from contactcenter.http import ApiError, too_many
from contactcenter.settings import Settings

MAX_BEACON = 64_000  # bytes: 20 views of 2000-character addresses fit


def parse(raw: bytes) -> PageViewsIn:
    if len(raw) > MAX_BEACON:
        raise ApiError(413, "body_too_large", f"a beacon carries at most {MAX_BEACON} bytes")
    try:
        return PageViewsIn.model_validate_json(raw)
    except ValidationError as exc:
        detail = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
        raise ApiError(422, "invalid_request", detail) from exc


def _merge(views: list[PageView]) -> list[PageView]:
    by_url: dict[str, PageView] = {}
    for v in views:
        key = v.url.split("#", 1)[0]
        if key in by_url:
            old = by_url[key]
            by_url[key] = old.model_copy(
                update={"seconds": min(86_400, old.seconds + v.seconds), "at": max(old.at, v.at)}
            )
        else:
            by_url[key] = v.model_copy(update={"url": key})
    return list(by_url.values())


async def record(session: AsyncSession, bus: Bus, settings: Settings, *, body: PageViewsIn) -> PageViewsOut:
    window = (settings.visitor_token_hours + settings.visitor_renew_grace_hours) * 3600
    who = read_visitor(settings.secret_key.get_secret_value(), body.token, max_age_s=window)
    if who is None:
        raise ApiError(401, "not_authenticated", "a valid visitor token is required")
    answers = await service.latest(session, customer_id=who.customer_id)
    browsing = answers.get(Purpose.browsing)
    if browsing is None or not browsing.granted or browsing.version != settings.consent_policy_version:
        raise ApiError(403, "consent_required", "the visitor has not allowed page views under this policy")
    key = f"consent:pageviews:{who.customer_id}"
    if await bus.hit(key, 60, len(body.views)) > settings.pageviews_per_minute:
        raise too_many("too_many_page_views", "too many page views from this visitor", await bus.window_left(key))
    touches = []
    merged = _merge(body.views)
    for v in merged:
        parts = urlsplit(v.url)
        title = v.title.strip() or parts.path or "/"
        touches.append(
            TouchIn(
                customer_id=who.customer_id,
                channel=Channel.web,
                kind=TouchKind.page_view,
                direction=Direction.inbound,
                occurred_at=v.at,
                summary=f"Viewed {title}"[:500],
                payload={"path": parts.path[:500], "url": v.url, "title": title, "seconds": v.seconds},
            )
        )
    paths = [str(t.payload["path"]) for t in touches]
    # The visitor's browsing session, in the same transaction as the touches (log_touches commits).
    await sessions.note(session, settings, customer_id=who.customer_id, views=merged, paths=paths, now=utcnow())
    await log_touches(session, bus, touches=touches)
    return PageViewsOut(stored=len(touches))
