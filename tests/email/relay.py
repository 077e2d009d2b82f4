"""A real SMTP relay for the outbound tests: an aiosmtpd server on the test's loop (loopback), which keeps
what it receives and can refuse the first messages with a code of the test's choosing."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


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
    login: tuple[str, str] | None = None  # AUTH offered, checked against these (plain text: loopback, tests)
    logged_in: list[str] = field(default_factory=list)

    def _auth(self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and self.login == (data.login.decode(), data.password.decode())
        if ok:
            self.logged_in.append(data.login.decode())
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers the 535 itself

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
        auth: dict[str, Any] = {}
        if self.login is not None:
            auth = {"authenticator": self._auth, "auth_require_tls": False}  # offered; a sign-in is checked
        self.server = await loop.create_server(
            lambda: SMTP(self, hostname="relay.test", decode_data=False, **auth), host="127.0.0.1", port=self.port
        )

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None
