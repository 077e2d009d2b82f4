"""Parsing a stored raw mail (stdlib email, policy.default) into what the console shows: never raises; a
message it cannot read is flagged `unreadable` and its raw bytes stay the record. Run it off the loop
(`parse_async`): big mail must not stall the SMTP server and the sockets."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses

import nh3

from contactcenter.channels.chat.files import clean_name, sniff

MAX_PARTS = 200
_ID = re.compile(r"<[^<>\s]+>")
_QUOTE_HEAD = re.compile(r"^(On .{0,200}wrote:|-+ ?Original Message ?-+|From: .+)$", re.IGNORECASE)


@dataclass
class Attachment:
    name: str
    type: str  # sniffed from the bytes; application/octet-stream when not a known type
    size: int


@dataclass
class Parsed:
    message_id: str | None = None
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    subject: str = ""
    from_addr: str = ""
    from_name: str = ""
    text: str = ""
    html: str = ""  # sanitised by nh3
    attachments: list[Attachment] = field(default_factory=list)
    automatic: bool = False  # never acknowledge it (auto-replies, lists, bounces)
    unreadable: bool = False
    defects: list[str] = field(default_factory=list)


def ids(value: str | None) -> list[str]:
    return _ID.findall(value or "")


def strip_quote(text: str) -> tuple[str, str]:
    """(the new part, the quoted part): cut at the first "On ... wrote:" / "Original Message" line or at a
    run of '>' lines that lasts to the end."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        s = line.strip()
        if (_QUOTE_HEAD.match(s) and i > 0) or (
            s.startswith(">") and all(not x.strip() or x.lstrip().startswith(">") for x in lines[i:])
        ):
            return "\n".join(lines[:i]).rstrip(), "\n".join(lines[i:])
    return text.rstrip(), ""


def _automatic(msg: EmailMessage) -> bool:
    auto = str(msg.get("Auto-Submitted", "no")).strip().lower()
    prec = str(msg.get("Precedence", "")).strip().lower()
    return (
        auto != "no"
        or prec in ("bulk", "list", "junk")
        or any(k.lower().startswith("list-") for k in msg.keys())
        or str(msg.get("Return-Path", "")).strip() == "<>"
        or msg.get_content_type() == "multipart/report"
    )


def parse(raw: bytes) -> Parsed:
    out = Parsed()
    try:
        msg = BytesParser(policy=policy.default).parsebytes(raw)
        assert isinstance(msg, EmailMessage)
        out.defects = [type(d).__name__ for d in msg.defects]
        mid = ids(str(msg.get("Message-ID", "")))
        out.message_id = mid[0] if mid else None
        out.in_reply_to = ids(str(msg.get("In-Reply-To", "")))
        out.references = ids(str(msg.get("References", "")))
        out.subject = str(msg.get("Subject", ""))[:500]
        found = getaddresses([str(msg.get("From", ""))])
        if found:
            out.from_name, out.from_addr = found[0][0][:120], found[0][1].strip().lower()[:320]
        out.automatic = _automatic(msg)
        for n, part in enumerate(msg.walk()):
            if n >= MAX_PARTS:
                out.defects.append("too_many_parts")
                break
            if part.is_multipart():
                continue
            got = part.get_payload(decode=True)
            payload = got if isinstance(got, bytes) else b""
            if part.get_content_disposition() == "attachment" or part.get_filename():
                name = clean_name(part.get_filename() or "attachment")
                out.attachments.append(Attachment(name, sniff(payload) or "application/octet-stream", len(payload)))
                continue
            ctype = part.get_content_type()
            charset = part.get_content_charset() or "utf-8"
            try:
                text = payload.decode(charset, errors="replace")
            except LookupError:
                text = payload.decode("utf-8", errors="replace")
            if ctype == "text/plain" and not out.text:
                out.text = text
            elif ctype == "text/html" and not out.html:
                out.html = nh3.clean(text)
    except Exception as exc:  # the raw bytes remain; the console shows them as text
        out.unreadable = True
        out.defects.append(repr(exc)[:200])
    return out


async def parse_async(raw: bytes) -> Parsed:
    return await asyncio.to_thread(parse, raw)
