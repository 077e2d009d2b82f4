"""Pydantic bodies and replies of the customer contact repository."""

from __future__ import annotations

import enum
import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from contactcenter.validation import Text

MAX_PAYLOAD_BYTES = 16_384


class Channel(enum.StrEnum):
    web = "web"
    chat = "chat"
    callback = "callback"
    voice = "voice"
    email = "email"
    face_to_face = "face_to_face"
    system = "system"


class TouchKind(enum.StrEnum):
    """The categories touches are stored and queried by."""

    message = "message"
    call = "call"
    email = "email"
    callback_request = "callback_request"
    page_view = "page_view"
    document_push = "document_push"
    cobrowse = "cobrowse"
    note = "note"
    order = "order"
    conversation = "conversation"
    rating = "rating"  # a customer's satisfaction rating of a conversation (csat/)
    system = "system"


class Direction(enum.StrEnum):
    inbound = "in"
    outbound = "out"
    internal = "internal"


class IdentityKind(enum.StrEnum):
    email = "email"
    phone = "phone"
    visitor = "visitor"
    external = "external"


class IdentityIn(BaseModel):
    kind: IdentityKind
    value: Text = Field(min_length=1, max_length=320)


class IdentityOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kind: IdentityKind
    value: str


class CustomerCreate(BaseModel):
    display_name: Text = Field(min_length=1, max_length=120)
    segment: Text | None = Field(default=None, max_length=40)
    identities: list[IdentityIn] = Field(default_factory=list, max_length=20)


class CustomerOut(BaseModel):
    id: int
    display_name: str
    segment: str | None
    profile: dict[str, Any]
    merged_into_id: int | None
    created_at: datetime
    identities: list[IdentityOut]
    # What a visitor typed in the pre-chat form: unverified, never an identity (docs/security.md).
    contact_email: str | None = None


def _check_payload(v: dict[str, Any]) -> dict[str, Any]:
    # NaN and infinities are not JSON: PostgreSQL refuses them and the SQLite bulk path would store null.
    if len(json.dumps(v, default=str, allow_nan=False)) > MAX_PAYLOAD_BYTES:
        raise ValueError(f"payload larger than {MAX_PAYLOAD_BYTES} bytes")
    return v


class TouchIn(BaseModel):
    """What a capability logs; the service fills the time when it is not given."""

    customer_id: int = Field(gt=0)
    channel: Channel
    kind: TouchKind
    direction: Direction = Direction.inbound
    occurred_at: datetime | None = None
    agent_id: int | None = None
    conversation_id: Text | None = Field(default=None, max_length=64)
    summary: Text = Field(max_length=500)
    payload: dict[str, Any] = Field(default_factory=dict)

    _payload = field_validator("payload")(_check_payload)


class TouchOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    customer_id: int
    channel: Channel
    kind: TouchKind
    direction: Direction
    occurred_at: datetime
    agent_id: int | None
    conversation_id: str | None
    summary: str
    payload: dict[str, Any]


class TimelinePage(BaseModel):
    items: list[TouchOut]
    next_cursor: str | None


class NoteIn(BaseModel):
    """A face-to-face note typed by an agent."""

    summary: Text = Field(min_length=1, max_length=500)
    body: Text = Field(default="", max_length=8000)
    occurred_at: datetime | None = None


class MergeIn(BaseModel):
    source_id: int = Field(gt=0)
    target_id: int = Field(gt=0)
    reason: Text = Field(min_length=1, max_length=500)


class MergeOut(BaseModel):
    source_id: int
    target_id: int
    moved_identities: int
    moved_touches: int
