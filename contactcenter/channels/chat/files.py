"""Chat attachments: the bytes decide the type (never the name or the client's header), with a size cap."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.channels.chat.models import ChatAttachment
from contactcenter.channels.chat.schemas import AttachmentRef
from contactcenter.db import utcnow
from contactcenter.http import ApiError

_SIGNATURES: list[tuple[bytes, str]] = [
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
]
ALLOWED = "PNG, JPEG, GIF, WebP images and PDF documents"


def sniff(data: bytes) -> str | None:
    """The content type the bytes really are, among the allowed ones."""
    for magic, ctype in _SIGNATURES:
        if data.startswith(magic):
            return ctype
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def clean_name(name: str) -> str:
    base = re.sub(r"[^\w.\- ]+", "_", name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]).strip(" .") or "file"
    return base[:200]


async def store(
    session: AsyncSession,
    *,
    conversation_id: str,
    uploader_kind: str,
    uploader_id: int,
    filename: str,
    data: bytes,
    max_bytes: int,
) -> AttachmentRef:
    """Check and keep an uploaded file for one conversation."""
    if not data:
        raise ApiError(422, "empty_file", "the file is empty")
    if len(data) > max_bytes:
        raise ApiError(413, "file_too_large", f"files are at most {max_bytes // 1_048_576} MB")
    ctype = sniff(data)
    if ctype is None:
        raise ApiError(415, "unsupported_type", f"only {ALLOWED} can be sent")
    row = ChatAttachment(
        id=str(uuid.uuid4()),
        conversation_id=conversation_id,
        uploader_kind=uploader_kind,
        uploader_id=uploader_id,
        filename=clean_name(filename),
        content_type=ctype,
        size=len(data),
        data=data,
    )
    session.add(row)
    await session.commit()
    return AttachmentRef(id=row.id, name=row.filename, type=ctype, size=row.size)


async def load(session: AsyncSession, *, attachment_id: str) -> ChatAttachment:
    row = None if "\x00" in attachment_id else await session.get(ChatAttachment, attachment_id)
    if row is None:
        raise ApiError(404, "attachment_not_found", "no such attachment")
    return row


@dataclass(frozen=True)
class Quota:
    files: int
    bytes: int


async def _used(session: AsyncSession, *where: ColumnElement[bool]) -> tuple[int, int]:
    n, total = (
        await session.execute(select(func.count(), func.coalesce(func.sum(ChatAttachment.size), 0)).where(*where))
    ).one()
    return int(n), int(total)


async def check_quota(
    session: AsyncSession,
    *,
    customer_id: int,
    conversation_id: str | None,
    size: int,
    per_visitor: Quota,
    per_conversation: Quota,
) -> None:
    """Refuse a visitor's upload of `size` bytes past their quota of the last 24 hours or, when known, the
    conversation's (413 upload_quota). Sent or not, every stored upload counts."""
    mine = ChatAttachment.uploader_kind == "customer", ChatAttachment.uploader_id == customer_id
    since = ChatAttachment.created_at >= utcnow() - timedelta(hours=24)
    checks = [(await _used(session, *mine, since), per_visitor, "you have uploaded too many files today")]
    if conversation_id is not None:
        used = await _used(session, *mine, ChatAttachment.conversation_id == conversation_id)
        checks.append((used, per_conversation, "this chat has too many files already"))
    for (n, total), quota, detail in checks:
        if n + 1 > quota.files or total + size > quota.bytes:
            raise ApiError(413, "upload_quota", detail)


async def sweep_unsent(session: AsyncSession, *, older_than_s: float) -> int:
    """Delete uploads that no sent message references, older than `older_than_s`; returns how many."""
    cutoff = utcnow() - timedelta(seconds=older_than_s)
    res = await session.execute(
        delete(ChatAttachment).where(ChatAttachment.sent.is_(False), ChatAttachment.created_at < cutoff)
    )
    await session.commit()
    return int(res.rowcount)  # type: ignore[attr-defined]
