"""Inbound SMTP: an aiosmtpd handler on the app's event loop. Recipients outside the accepted domains get
550, mail over the size limit 552 (aiosmtpd), and a message gets 250 only once its raw bytes are committed;
a sender cut off mid-DATA never reaches handle_DATA, so nothing is stored."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from typing import Any

import structlog
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import insert

from contactcenter.channels.email.models import EmailRaw
from contactcenter.db import Database, utcnow

log = structlog.get_logger("email.smtp")
GROUP = 64  # raw messages per commit at most


def accepted_domains(setting: str) -> frozenset[str]:
    return frozenset(d.strip().lower() for d in setting.split(",") if d.strip())


class Handler:
    def __init__(self, db: Database, domains: frozenset[str], on_stored: Callable[[], None] | None = None) -> None:
        self.db, self.domains, self.on_stored = db, domains, on_stored
        self._pending: list[tuple[dict[str, Any], asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def _store(self, row: dict[str, Any]) -> None:
        """Return once the row is committed (raise if it was not). Mails arriving while a commit runs are
        committed together by the next one (group commit): one transaction per group, not per mail."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((row, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write(), name="email-smtp-store")
        await asyncio.shield(done)  # a sender that hangs up does not cancel the others' commit

    async def _write(self) -> None:
        while self._pending:
            group, self._pending = self._pending[:GROUP], self._pending[GROUP:]
            try:
                async with self.db.write_gate(), self.db.session() as s:
                    # one executemany, no ORM unit of work (it cost more than the insert itself)
                    await s.execute(insert(EmailRaw), [row for row, _ in group])
                    await s.commit()
            except Exception as exc:
                for _, done in group:
                    if not done.done():
                        done.set_exception(exc)
                continue
            for _, done in group:
                if not done.done():
                    done.set_result(None)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        domain = address.rpartition("@")[2].lower()
        if domain not in self.domains:
            return "550 5.7.1 Relaying denied: not a domain of this contact center"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        data: Any = envelope.original_content or envelope.content or b""
        raw = bytes(data)
        peer = session.peer[0] if isinstance(session.peer, tuple) else str(session.peer or "")
        row = {
            "mail_from": (envelope.mail_from or "")[:320],
            "rcpt_to": {"to": list(envelope.rcpt_tos)},
            "peer": str(peer)[:100],
            "size": len(raw),
            "sha256": hashlib.sha256(raw).hexdigest(),
            "data": raw,
            "received_at": utcnow(),
            "state": "new",
        }
        try:
            await self._store(row)
        except Exception as exc:  # not stored: the sender keeps it and retries (4xx)
            log.warning("email_store_failed", error=repr(exc))
            return "451 4.3.0 Temporarily unable to store the message"
        if self.on_stored is not None:  # wake the ingest worker: the row is committed
            self.on_stored()
        return "250 OK stored"


async def start_server(
    db: Database,
    *,
    host: str,
    port: int,
    domains: str,
    max_bytes: int,
    on_stored: Callable[[], None] | None = None,
) -> asyncio.Server:
    """An aiosmtpd server on the running loop; `hostname=` given so no connection calls getfqdn()."""
    handler = Handler(db, accepted_domains(domains), on_stored)
    loop = asyncio.get_running_loop()
    return await loop.create_server(
        lambda: SMTP(handler, hostname="contactcenter.local", data_size_limit=max_bytes, decode_data=False),
        host=host,
        port=port,
    )
