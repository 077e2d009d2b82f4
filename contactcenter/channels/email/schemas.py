"""Email's messages as the console and other capabilities see them."""

from __future__ import annotations

import enum
from datetime import datetime

from pydantic import BaseModel, ConfigDict


class Reason(enum.StrEnum):
    """Why a message is in its conversation (shown beside it in the console)."""

    in_reply_to = "in-reply-to"
    references = "references"
    subject = "subject"
    new = "new"
    reopened = "reopened"
    split_off = "split"


class AttachmentOut(BaseModel):
    name: str
    type: str  # sniffed from the bytes
    size: int


class EmailMessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    conversation_id: str
    customer_id: int
    message_id: str | None
    in_reply_to: str | None
    subject: str
    from_addr: str
    from_name: str
    text: str
    html: str  # sanitised by nh3; still render it sandboxed
    display_text: str  # the new part of the text, the quoted reply stripped
    attachments: list[AttachmentOut]
    automatic: bool
    unreadable: bool
    reason: Reason
    received_at: datetime


class FiledOut(BaseModel):
    """What ingesting one raw message did."""

    raw_id: int
    message: EmailMessageOut
    opened: bool  # a new conversation
    reopened: bool  # a closed one waits again
