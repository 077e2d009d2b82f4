"""Chat messages, conversations, attachments and canned replies as they travel."""

from __future__ import annotations

import enum
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from contactcenter.validation import Text

MAX_BODY = 4000


class SenderKind(enum.StrEnum):
    customer = "customer"
    agent = "agent"
    system = "system"


class ConversationStatus(enum.StrEnum):
    queued = "queued"
    assigned = "assigned"
    closed = "closed"


class AttachmentRef(BaseModel):
    id: str
    name: str
    type: str
    size: int


class MessageOut(BaseModel):
    conversation_id: str
    seq: int
    sender: SenderKind
    sender_name: str
    body: str
    private: bool = False
    attachments: list[AttachmentRef] = Field(default_factory=list)
    client_id: str
    at: datetime


class ConversationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    customer_id: int
    channel: str
    queue: str
    status: ConversationStatus
    agent_id: int | None
    agent_name: str | None = None
    customer_name: str
    topic: str | None
    page_url: str | None
    last_seq: int
    customer_read_seq: int
    agent_read_seq: int
    created_at: datetime
    closed_at: datetime | None


class StartIn(BaseModel):
    name: Text | None = Field(default=None, max_length=120)
    email: Text | None = Field(default=None, max_length=320)
    topic: Text | None = Field(default=None, max_length=200)
    page_url: Text | None = Field(default=None, max_length=500)


class CannedIn(BaseModel):
    shortcut: Text = Field(min_length=1, max_length=40, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    title: Text = Field(min_length=1, max_length=120)
    body: Text = Field(min_length=1, max_length=MAX_BODY)


class CannedOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    shortcut: str
    title: str
    body: str


class TranscriptIn(BaseModel):
    email: Text = Field(min_length=3, max_length=320)
