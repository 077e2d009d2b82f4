"""Websocket frames, protocol version 1: every frame is a JSON object with a "type" (docs/protocol.md)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from contactcenter.channels.chat.schemas import MAX_BODY, ConversationOut, MessageOut
from contactcenter.routing.events import AgentStateChanged, ContactTransferred, OfferEnded, OfferMade, QueueChanged
from contactcenter.validation import Text

PROTOCOL_VERSION = 1
MAX_FRAME_BYTES = 16_384
ConvId = Annotated[str, Field(min_length=1, max_length=36, pattern=r"^[0-9a-f-]+$")]
ClientId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]


class _Frame(BaseModel):
    model_config = ConfigDict(extra="forbid")


# Client -> server
class Hello(_Frame):
    type: Literal["hello"]
    v: Literal[1]
    token: Text | None = Field(default=None, max_length=1000)
    resume: dict[ConvId, Annotated[int, Field(ge=0)]] = Field(default_factory=dict, max_length=100)


class Ping(_Frame):
    type: Literal["ping"]
    t: float | None = None


class Start(_Frame):
    type: Literal["start"]
    name: Text | None = Field(default=None, max_length=120)
    email: Text | None = Field(default=None, max_length=320)
    topic: Text | None = Field(default=None, max_length=200)
    page_url: Text | None = Field(default=None, max_length=500)


class Send(_Frame):
    type: Literal["send"]
    conversation_id: ConvId
    client_id: ClientId
    body: Text = Field(default="", max_length=MAX_BODY)
    attachments: list[Annotated[Text, Field(max_length=36)]] = Field(default_factory=list, max_length=5)
    private: bool = False


class Ack(_Frame):
    type: Literal["ack"]
    conversation_id: ConvId
    seq: int = Field(ge=0)


class TypingIn(_Frame):
    type: Literal["typing"]
    conversation_id: ConvId
    state: bool


class CloseConversation(_Frame):
    type: Literal["close"]
    conversation_id: ConvId


class AgentStateIn(_Frame):
    """An agent sets their own routing state (as PUT /api/routing/me/state)."""

    type: Literal["agent_state"]
    state: Literal["available", "away", "wrap_up", "offline"]
    reason: Annotated[Text, Field(max_length=80)] = ""
    wrap_up_s: Annotated[int | None, Field(ge=1, le=3600)] = None


class OfferAnswer(_Frame):
    type: Literal["offer_accept", "offer_decline"]
    contact_id: ClientId


ClientFrame = Annotated[
    Hello | Ping | Start | Send | Ack | TypingIn | CloseConversation | AgentStateIn | OfferAnswer,
    Field(discriminator="type"),
]
client_frame: TypeAdapter[ClientFrame] = TypeAdapter(ClientFrame)


# Server -> client
class Welcome(_Frame):
    type: Literal["welcome"] = "welcome"
    v: int = PROTOCOL_VERSION
    role: str
    name: str
    heartbeat_s: float
    conversations: list[ConversationOut]


class Pong(_Frame):
    type: Literal["pong"] = "pong"
    t: float | None = None


class MessageFrame(_Frame):
    type: Literal["message"] = "message"
    message: MessageOut


class Sent(_Frame):
    type: Literal["sent"] = "sent"
    conversation_id: str
    client_id: str
    seq: int
    duplicate: bool


class ConversationFrame(_Frame):
    type: Literal["conversation"] = "conversation"
    conversation: ConversationOut


class TypingFrame(_Frame):
    type: Literal["typing"] = "typing"
    conversation_id: str
    sender: Literal["customer", "agent"]
    name: str
    state: bool


class ReadFrame(_Frame):
    type: Literal["read"] = "read"
    conversation_id: str
    reader: Literal["customer", "agent"]
    seq: int


class SuggestionsFrame(_Frame):
    """Agents only: the conversation's suggestions may have changed; fetch them again (docs/api.md)."""

    type: Literal["suggestions"] = "suggestions"
    conversation_id: str


class RoutingFrame(_Frame):
    """A routing event for this agent (offers, their state) or, for supervisors, any (the wallboard)."""

    type: Literal["routing"] = "routing"
    event: OfferMade | OfferEnded | AgentStateChanged | ContactTransferred | QueueChanged


class ErrorFrame(_Frame):
    type: Literal["error"] = "error"
    code: str
    detail: str
    ref: str | None = None


# Close codes (4000-4999 are ours).
CLOSE_BAD_FRAME = 4400
CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_HEARTBEAT = 4408
CLOSE_TOO_SLOW = 4409
CLOSE_RATE = 4429
CLOSE_TOO_BIG = 1009
