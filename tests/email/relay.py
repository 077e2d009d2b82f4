"""A real SMTP relay for the outbound tests: an aiosmtpd server on the test's loop (loopback), which keeps
what it receives and can refuse the first messages with a code of the test's choosing."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    def message(self) -> EmailMessage:
        msg = BytesParser(policy=policy.default).parsebytes(self.data)
        assert isinstance(msg, EmailMessage)
        return msg


@dataclass
class Sink:
    refuse: int = 0  # how many messages to refuse before accepting
    code: str = "451 4.3.0 Try again later"
    received: list[Received] = field(default_factory=list)
    refused: int = 0
    port: int = 0
    server: asyncio.Server | None = None

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.refused < self.refuse:
            self.refused += 1
            return self.code
        data: Any = envelope.original_content or envelope.content or b""
        self.received.append(Received(envelope.mail_from or "", list(envelope.rcpt_tos), bytes(data)))
        return "250 OK"

    async def start(self, port: int | None = None) -> None:
        self.port = port or self.port
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(
            lambda: SMTP(self, hostname="relay.test", decode_data=False), host="127.0.0.1", port=self.port
        )

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None
