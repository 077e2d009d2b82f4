"""The delivery worker: claims due deliveries, sends one signed attempt each, records how it went."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import httpx
import structlog

from contactcenter.db import Database, utcnow
from contactcenter.types import Clock
from contactcenter.webhooks import policy, service, signing
from contactcenter.webhooks.service import Claimed, Result

log = structlog.get_logger("webhooks")
USER_AGENT = "contactcenter-webhooks/1"


class Deliverer:
    """One per process. `clock` is injectable so tests move time instead of sleeping through backoffs."""

    def __init__(
        self,
        db: Database,
        *,
        timeout_s: float,
        backoff: policy.Backoff,
        allowed: frozenset[str],
        clock: Clock = utcnow,
        batch: int = 20,
    ) -> None:
        self.db, self.backoff, self.allowed, self.clock, self.batch = db, backoff, allowed, clock, batch
        self.timeout_s = timeout_s
        # Longer than any attempt can take: a held delivery falls due again only if its worker died.
        self.lease_s = 2 * timeout_s + 30
        self._client: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        # Made at the first attempt: building its TLS context costs every app start (every test's app) 50-100 ms.
        if self._client is None:
            # No redirects (the receiver's answer is judged as it is), no proxy settings from the environment.
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(self.timeout_s),
                follow_redirects=False,
                trust_env=False,
                headers={"user-agent": USER_AGENT},
                limits=httpx.Limits(max_connections=self.batch, max_keepalive_connections=self.batch),
            )
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def run_once(self) -> int:
        """Claim and attempt what is due now; returns how many deliveries were attempted."""
        async with self.db.write_gate(), self.db.session() as s:
            claimed = await service.claim(s, now=self.clock(), lease_s=self.lease_s, limit=self.batch)
        if not claimed:
            return 0
        results: Sequence[Result] = await asyncio.gather(*(self.attempt(c) for c in claimed))
        async with self.db.write_gate(), self.db.session() as s:
            for c, r in zip(claimed, results, strict=True):
                await service.record(s, claimed=c, result=r, now=self.clock(), backoff=self.backoff)
        return len(claimed)

    async def attempt(self, c: Claimed) -> Result:
        """One signed POST; never raises."""
        why = await policy.refused_resolved(c.url, self.allowed)
        if why is not None:
            return Result(duration_ms=0, error=f"not sent: {why}"[:300], fatal=True)
        stamp = int(self.clock().timestamp())
        headers = signing.headers(c.secret, msg_id=c.msg_id, timestamp=stamp, body=c.payload)
        start = time.perf_counter()

        def took() -> int:
            return round((time.perf_counter() - start) * 1000)

        try:
            # Streamed and closed unread: a receiver's answer body is never needed, however big it is.
            async with self.client.stream("POST", c.url, content=c.payload.encode(), headers=headers) as r:
                code, retry_after = r.status_code, r.headers.get("retry-after")
        except httpx.TimeoutException:
            return Result(duration_ms=took(), error=f"timed out after {self.timeout_s:g} s")
        except httpx.HTTPError as exc:
            return Result(duration_ms=took(), error=f"{type(exc).__name__}: {exc}"[:300])
        error = None if 200 <= code < 300 else f"HTTP {code}"
        return Result(duration_ms=took(), status_code=code, error=error, retry_after=retry_after)
