"""The outbox worker: claims due outbound mail (outbox.py), hands each to the relay with aiosmtplib, and
records how it went. A sent row becomes a touch on the customer's timeline (and a reply stops the first-
response clock) in the transaction that marks it sent.

Exactly once, as far as SMTP allows: a row is held by one worker (its lease) and is sendable only while
"queued"; a crash after the relay's 250 and before our commit sends it again when the lease ends, with the
same bytes and Message-ID, so the customer's client shows it once (decision 42)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass

import aiosmtplib
import structlog
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.bus import Bus
from contactcenter.ccr import service as ccr
from contactcenter.ccr.schemas import Channel, Direction, TouchIn, TouchKind
from contactcenter.channels.email import clock, outbox
from contactcenter.channels.email.events import TOPIC_EMAIL, EmailSent
from contactcenter.channels.email.models import EmailOut
from contactcenter.channels.email.schemas import OutgoingOut
from contactcenter.db import Database, utcnow
from contactcenter.types import Clock

AUTOMATIC = ("ack", "survey")
log = structlog.get_logger("email.sender")


@dataclass(frozen=True)
class Relay:
    host: str
    port: int
    starttls: bool = False
    username: str = ""
    password: str = ""
    timeout_s: float = 30.0


@dataclass(frozen=True)
class Outcome:
    error: str | None = None  # None: the relay took it
    permanent: bool = False  # a 5xx: sending it again would be refused again


def _permanent(exc: Exception) -> bool:
    """A 5xx about this message (its recipient or its content): sending it again would be refused again.
    A refusal of us (sign-in, sender, greeting) is the relay's setting: retried until it is fixed."""
    code = _code(exc)
    mine = isinstance(
        exc, (aiosmtplib.SMTPRecipientsRefused, aiosmtplib.SMTPRecipientRefused, aiosmtplib.SMTPDataError)
    )
    return mine and code is not None and 500 <= code < 600


def _code(exc: Exception) -> int | None:
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) and exc.recipients:
        return int(exc.recipients[0].code)
    code = getattr(exc, "code", None)
    return int(code) if isinstance(code, int) else None


class Sender:
    """One per process; `clock` injectable so tests can move time instead of sleeping through backoffs."""

    def __init__(
        self,
        db: Database,
        bus: Bus,
        relay: Relay,
        *,
        helo: str,
        envelope_from: str,
        retry_s: float,
        retry_max_s: float,
        poll_s: float,
        clock_fn: Clock = utcnow,
        batch: int = 10,
    ) -> None:
        self.db, self.bus, self.relay, self.helo, self.envelope_from = db, bus, relay, helo, envelope_from
        self.retry_s, self.retry_max_s, self.poll_s = retry_s, retry_max_s, poll_s
        self.now, self.batch = clock_fn, batch
        self.lease_s = 2 * relay.timeout_s + 30  # longer than any attempt: held rows fall due only if we died
        self.wake = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self.attempts = 0

    def start(self) -> None:
        self.wake.set()  # the backlog first
        self.task = asyncio.create_task(self._run(), name="email-sender")

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
            self.task = None

    def notify(self) -> None:
        self.wake.set()

    async def _run(self) -> None:
        while True:
            self.wake.clear()
            try:
                n = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database is away: rows stay queued; look again at the next poll
                log.warning("email_sender_failed", error=repr(exc))
                n = 0
            if n == 0:
                # asyncio.timeout, not wait_for: on 3.11 wait_for swallows a cancel that lands just as the
                # event is set, and stop() then waits for ever (tests/test_cancel.py)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.poll_s):
                        await self.wake.wait()

    async def run_once(self) -> int:
        """Claim and attempt what is due now; returns how many were attempted."""
        async with self.db.write_gate(), self.db.session() as s:
            claimed = await outbox.claim(s, now=self.now(), lease_s=self.lease_s, limit=self.batch)
        if not claimed:
            return 0
        results: Sequence[Outcome] = await asyncio.gather(*(self.attempt(c) for c in claimed))
        self.attempts += len(claimed)
        for c, r in zip(claimed, results, strict=True):
            async with self.db.write_gate(), self.db.session() as s:
                if r.error is None:
                    await self._sent(s, c)
                else:
                    log.warning("email_send_failed", out_id=c.id, error=r.error, permanent=r.permanent)
                    await outbox.record_failure(
                        s, claimed=c, error=r.error, permanent=r.permanent, now=self.now(),
                        base_s=self.retry_s, max_s=self.retry_max_s,
                    )  # fmt: skip
        return len(claimed)

    async def attempt(self, c: outbox.Claimed) -> Outcome:
        """One SMTP transaction; never raises. Automatic mail (acknowledgements, rating requests) goes with a
        null envelope sender (RFC 3834): a bounce of one is never answered by anybody."""
        r = self.relay
        sender = "" if c.kind in AUTOMATIC else self.envelope_from
        try:
            # The client itself, not aiosmtplib.send: that refuses the null sender an acknowledgement needs.
            client = aiosmtplib.SMTP(
                hostname=r.host,
                port=r.port,
                start_tls=r.starttls,
                username=r.username or None,
                password=r.password or None,
                timeout=r.timeout_s,
                local_hostname=self.helo,  # else it asks for the host's name, blocking
            )
            async with client:
                await client.sendmail(sender, [c.to_addr], c.data)
        except (aiosmtplib.SMTPException, OSError) as exc:
            return Outcome(f"{type(exc).__name__}: {exc}"[:300], permanent=_permanent(exc))
        return Outcome()

    async def _sent(self, s: AsyncSession, c: outbox.Claimed) -> None:
        now = self.now()
        done = await s.execute(
            update(EmailOut)
            .where(EmailOut.id == c.id, EmailOut.status == "queued")
            .values(status="sent", sent_at=now, attempts=c.attempts + 1, last_error=None)
            .execution_options(synchronize_session=False)
        )
        if done.rowcount != 1:  # type: ignore[attr-defined]
            await s.rollback()
            return
        row = await s.get(EmailOut, c.id, populate_existing=True)
        assert row is not None
        what = {"ack": "Acknowledgement sent", "survey": "Rating request sent"}.get(row.kind, "Email reply sent")
        touch = await ccr.add_touch(
            s,
            touch=TouchIn(
                customer_id=row.customer_id,
                channel=Channel.email,
                kind=TouchKind.email,
                direction=Direction.outbound,
                occurred_at=now,
                agent_id=row.agent_id,
                conversation_id=row.conversation_id,
                summary=f"{what}: {row.subject}"[:500],
                payload={"email_out_id": row.id, "to": row.to_addr, "kind": row.kind},
            ),
        )
        if row.kind == "reply":  # only a person's reply stops the clock
            await clock.stop(s, conversation_id=row.conversation_id, out_id=row.id, at=now)
        await s.commit()
        out = OutgoingOut.model_validate(row)
        try:
            await ccr.publish_touches(self.bus, [touch])
            await self.bus.publish_event(TOPIC_EMAIL, EmailSent(outgoing=out))
        except Exception as exc:
            log.warning("publish_failed", what="email.sent", error=repr(exc))
