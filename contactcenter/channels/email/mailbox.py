"""The IMAP side of the poller (imap.py): blocking imapclient calls, each run in a thread. It only reads
(BODY.PEEK, so reading sets no flag) until the poller has stored what it read; then `finish` marks those
messages seen, or deletes them, as configured."""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from imapclient import IMAPClient  # type: ignore[import-untyped]

After = Literal["seen", "delete", "keep"]


@dataclass(frozen=True)
class ImapConfig:
    host: str
    port: int
    ssl: bool
    starttls: bool
    username: str
    password: str
    folder: str
    timeout_s: float

    @property
    def key(self) -> str:
        """The mailbox's name in the cursor table (one cursor per account and folder)."""
        return f"{self.username}@{self.host}:{self.port}/{self.folder}"[:300]


class Mailbox:
    def __init__(self, cfg: ImapConfig) -> None:
        self.cfg = cfg
        self.client: IMAPClient | None = None

    def open(self) -> int:
        """Log in and select the folder; its UIDVALIDITY (a change means every UID was renumbered)."""
        c = self.cfg
        context = ssl.create_default_context()
        self.client = IMAPClient(c.host, port=c.port, ssl=c.ssl, ssl_context=context, timeout=c.timeout_s)
        if c.starttls and not c.ssl:
            self.client.starttls(context)
        self.client.login(c.username, c.password)
        selected = self.client.select_folder(c.folder)
        return int(selected[b"UIDVALIDITY"])

    def sizes(self, after: int, upto: int | None = None) -> list[tuple[int, int]]:
        """(uid, size) of the messages with a UID above `after` (and at most `upto`), oldest first."""
        assert self.client is not None
        found = self.client.search(["UID", f"{after + 1}:{upto if upto is not None else '*'}"])
        # "n:*" always includes the newest message, even when its UID is below n (RFC 3501): filter.
        uids = sorted(u for u in found if u > after and (upto is None or u <= upto))
        if not uids:
            return []
        got = self.client.fetch(uids, ["RFC822.SIZE"])
        return [(u, int(got[u][b"RFC822.SIZE"])) for u in uids if u in got]

    def fetch(self, uids: Sequence[int]) -> dict[int, bytes]:
        """The raw bytes of each message; PEEK, so the server sets no \\Seen flag."""
        assert self.client is not None
        if not uids:
            return {}
        got = self.client.fetch(list(uids), ["BODY.PEEK[]"])
        return {u: bytes(v[b"BODY[]"]) for u, v in got.items() if b"BODY[]" in v}

    def finish(self, uids: Sequence[int], after: After) -> None:
        """What is done on the server to messages already stored: nothing, \\Seen, or deleted."""
        assert self.client is not None
        if not uids or after == "keep":
            return
        if after == "seen":
            self.client.add_flags(list(uids), [b"\\Seen"], silent=True)
            return
        self.client.add_flags(list(uids), [b"\\Deleted"], silent=True)
        if self.client.has_capability("UIDPLUS"):
            self.client.uid_expunge(list(uids))  # only ours: a message another client marked stays
        else:
            self.client.expunge()

    def close(self) -> None:
        if self.client is None:
            return
        try:
            self.client.logout()
        except Exception:  # the connection may be gone already; nothing was left half-done on it
            self.client.shutdown()
        self.client = None
