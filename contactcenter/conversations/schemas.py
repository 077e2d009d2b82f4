"""Conversations as they travel: to consoles, widgets, other capabilities and the API."""

from __future__ import annotations

import enum
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from contactcenter.validation import Text


class ConversationStatus(enum.StrEnum):
    queued = "queued"
    assigned = "assigned"
    closed = "closed"


class ConversationOut(BaseModel):
    """A conversation. `last_seq` and the read positions are its channel's log positions (0 for a channel
    without one): the realtime hub fills them in from the channel before a socket sees the conversation."""

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
    lang: str | None = None
    created_at: datetime
    assigned_at: datetime | None = None
    closed_at: datetime | None
    outcome: str | None = None
    outcome_note: str | None = None
    priority: int = 0  # routing priority 0-9 (the channel's ask plus the customer's value tier)
    last_seq: int = 0
    customer_read_seq: int = 0
    agent_read_seq: int = 0


class Positions(BaseModel):
    """A channel's log positions for one conversation."""

    last_seq: int = 0
    customer_read_seq: int = 0
    agent_read_seq: int = 0


class OpenIn(BaseModel):
    """What a channel says when a contact arrives."""

    customer_id: int
    channel: str = Field(min_length=1, max_length=16)
    customer_name: str = Field(max_length=120)
    queue: str | None = Field(default=None, max_length=40)
    topic: str | None = Field(default=None, max_length=200)
    page_url: str | None = Field(default=None, max_length=500)
    lang: str | None = Field(default=None, max_length=35)


class WrapUpIn(BaseModel):
    """Closing a conversation from the console: an outcome code (GET /api/conversations/outcomes) and a note."""

    outcome: Text = Field(min_length=1, max_length=40)
    note: Text = Field(default="", max_length=500)


class OutcomeOut(BaseModel):
    code: str
    label: str


class OutcomeCount(BaseModel):
    outcome: str
    count: int
