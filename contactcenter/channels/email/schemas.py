"""Email's messages as the console and other capabilities see them."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


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


class ReplyIn(BaseModel):
    """An agent's reply. `to` defaults to the sender of the message replied to, `subject` to "Re: " and its
    subject, `in_reply_to` (an email message's id) to the conversation's latest received message. A line
    break in `to` or `subject` is refused (422 header_injection), never cleaned."""

    text: str = Field(min_length=1, max_length=50_000)
    subject: str | None = Field(default=None, max_length=500)
    to: str | None = Field(default=None, max_length=320)
    in_reply_to: int | None = None
    # Files uploaded for this conversation (POST /api/chat/attachments): ids of AttachmentRef.
    attachments: list[str] = Field(default_factory=list, max_length=10)


class NoteIn(BaseModel):
    """A note for the agents on the conversation; never sent, stops no clock."""

    text: str = Field(min_length=1, max_length=10_000)


class OutgoingOut(BaseModel):
    """What we wrote in an email conversation: a reply, an acknowledgement or a note, and how its sending
    goes (queued: waiting or being retried, `attempts` and `last_error` say why; sent; failed: refused)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    conversation_id: str
    kind: Literal["reply", "ack", "note", "survey"]
    agent_id: int | None
    agent_name: str
    message_id: str | None
    in_reply_to: str | None
    to_addr: str
    subject: str
    text: str
    attachments: list[AttachmentOut] = []
    status: Literal["queued", "sent", "failed", "note"]
    attempts: int
    last_error: str | None
    next_at: datetime
    created_at: datetime
    sent_at: datetime | None


class ClockOut(BaseModel):
    """A first-response clock: negative `seconds_left` is how long it is overdue."""

    conversation_id: str
    started_at: datetime
    due_at: datetime
    stopped_at: datetime | None
    seconds_left: int
    warning: bool  # running, due within CC_EMAIL_FIRST_RESPONSE_WARN_H, not yet overdue
    overdue: bool
    paused: bool = False  # running, and its queue is outside business hours (or on holiday) now
    agent_id: int | None
    agent_name: str | None
    customer_name: str
    topic: str | None
    status: str


class EmailDue(BaseModel):
    """Server frame to the conversation's agent and supervisors: a first answer is due soon, or overdue."""

    type: Literal["email_due"] = "email_due"
    conversation_id: str
    state: Literal["warning", "overdue"]
    due_at: datetime
    customer_name: str
    topic: str | None


class ImapStatusOut(BaseModel):
    """A polled mailbox (account@host:port/folder): UIDs stored up to `last_uid`, marked up to `done_uid`."""

    model_config = ConfigDict(from_attributes=True)

    mailbox: str
    uidvalidity: int
    last_uid: int
    done_uid: int
    stored: int
    polled_at: datetime | None
    last_error: str | None


class ThreadOut(BaseModel):
    """The console's email view of a conversation: its reference, received mail, what we wrote, the clock."""

    reference: str
    messages: list[EmailMessageOut]
    outgoing: list[OutgoingOut]
    clock: ClockOut | None
