"""What an attempt's result means (delivered, retry when, dead) and which hosts a subscriber may name."""

from __future__ import annotations

import asyncio
import ipaddress
import random
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

RETRY_AFTER_MAX_S = 24 * 3600.0  # a receiver asking for more than a day is treated as asking for a day


@dataclass(frozen=True)
class Backoff:
    base_s: float
    max_s: float
    max_attempts: int

    def delay(self, attempt: int, *, retry_after: float | None = None, rnd: random.Random | None = None) -> float:
        """Seconds before the attempt after `attempt` (1-based): exponential with full jitter in its upper
        half, never earlier than the receiver's Retry-After."""
        ceiling = min(self.max_s, self.base_s * 2.0 ** (attempt - 1))
        r = rnd.random() if rnd is not None else random.random()
        wait = ceiling * (0.5 + 0.5 * r)
        if retry_after is not None:
            wait = max(wait, min(retry_after, RETRY_AFTER_MAX_S))
        return wait


def retryable(status: int) -> bool:
    """5xx, 408 and 429 are worth another try; every other non-2xx (4xx, 3xx: redirects are not followed)
    would fail the same way again."""
    return status >= 500 or status in (408, 429)


def retry_after_s(value: str | None, now: datetime) -> float | None:
    """The Retry-After header (delta-seconds or an HTTP date) as seconds from `now`; None when absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def parse_hosts(value: str) -> frozenset[str]:
    return frozenset(h.strip().lower().strip("[]") for h in value.split(",") if h.strip())


def _public(addr: str) -> bool:
    ip = ipaddress.ip_address(addr.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower().rstrip(".")


def refused_literal(url: str, allowed: frozenset[str]) -> str | None:
    """At registration: why the URL's host may not be named (loopback, private, link-local... written as an
    address or as localhost), unless the deployment allows that host. Names are checked when sending."""
    host = host_of(url)
    if host in allowed:
        return None
    if host == "localhost" or host.endswith(".localhost"):
        return f"{host} is this machine"
    try:
        ok = _public(host)
    except ValueError:
        return None  # a name: resolved and checked before every attempt
    return None if ok else f"{host} is not a public address"


async def refused_resolved(url: str, allowed: frozenset[str]) -> str | None:
    """Before an attempt: why the host's addresses may not be reached (any of them not public), or None."""
    host = host_of(url)
    if host in allowed:
        return None
    why = refused_literal(url, allowed)
    if why is not None:
        return why
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        return None  # unresolvable: the attempt fails and is retried like any connection error
    bad = sorted({str(info[4][0]) for info in infos if not _public(str(info[4][0]))})
    return f"{host} resolves to {', '.join(bad)}, not a public address" if bad else None
