"""Websocket frames of the core, protocol version 1: every frame is a JSON object with a "type"
(docs/protocol.md). Channels add their own frames (realtime/channels.py)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from contactcenter.conversations.schemas import ConversationOut
from contactcenter.routing.events import AgentStateChanged, ContactTransferred, OfferEnded, OfferMade, QueueChanged
from contactcenter.validation import Text

PROTOCOL_VERSION = 1
MAX_FRAME_BYTES = 16_384
ConvId = Annotated[str, Field(min_length=1, max_length=36, pattern=r"^[0-9a-f-]+$")]
ClientId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]


class Frame(BaseModel):
    """Base of every websocket frame (channels' too): unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


# Client -> server
class Hello(Frame):
    type: Literal["hello"]
    v: Literal[1]
    token: Text | None = Field(default=None, max_length=1000)
    resume: dict[ConvId, Annotated[int, Field(ge=0)]] = Field(default_factory=dict, max_length=100)


class Ping(Frame):
    type: Literal["ping"]
    t: float | None = None


class CloseConversation(Frame):
    """Close a conversation of any channel; agents give a wrap-up outcome (GET /api/conversations/outcomes)."""

    type: Literal["close"]
    conversation_id: ConvId
    outcome: Annotated[Text, Field(min_length=1, max_length=40)] | None = None
    note: Annotated[Text, Field(max_length=500)] = ""


class AgentStateIn(Frame):
    """An agent sets their own routing state (as PUT /api/routing/me/state)."""

    type: Literal["agent_state"]
    state: Literal["available", "away", "wrap_up", "offline"]
    reason: Annotated[Text, Field(max_length=80)] = ""
    wrap_up_s: Annotated[int | None, Field(ge=1, le=3600)] = None


class OfferAnswer(Frame):
    type: Literal["offer_accept", "offer_decline"]
    contact_id: ClientId


MonitorMode = Literal["listen", "whisper", "barge"]


class Monitor(Frame):
    """A supervisor follows a conversation's log live (`on`), or stops; its agent is told. `listen` is
    read-only, `whisper` adds private notes to the agent, `barge` joins the conversation (the customer is told)."""

    type: Literal["monitor"]
    conversation_id: ConvId
    on: bool = True
    mode: MonitorMode = "listen"


# The core's client frames; channels register theirs with the hub's Registry.
CORE_FRAMES = (Hello, Ping, CloseConversation, AgentStateIn, OfferAnswer, Monitor)


# Server -> client
class Welcome(Frame):
    type: Literal["welcome"] = "welcome"
    v: int = PROTOCOL_VERSION
    role: str
    name: str
    heartbeat_s: float
    conversations: list[ConversationOut]


class Pong(Frame):
    type: Literal["pong"] = "pong"
    t: float | None = None


class ConversationFrame(Frame):
    type: Literal["conversation"] = "conversation"
    conversation: ConversationOut


class RoutingFrame(Frame):
    """A routing event for this agent (offers, their state) or, for supervisors, any (the wallboard)."""

    type: Literal["routing"] = "routing"
    event: OfferMade | OfferEnded | AgentStateChanged | ContactTransferred | QueueChanged


class ErrorFrame(Frame):
    type: Literal["error"] = "error"
    code: str
    detail: str
    ref: str | None = None
    # Seconds to wait before trying again (refusals by a limit: `too_many_chats`, `busy`); else absent.
    retry_after: float | None = None


# Close codes (4000-4999 are ours).
CLOSE_BAD_FRAME = 4400
CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_HEARTBEAT = 4408
CLOSE_TOO_SLOW = 4409
CLOSE_RATE = 4429
CLOSE_TOO_BIG = 1009


class Monitored(Frame):
    """To a conversation's agent: a supervisor started (or stopped) following it."""

    type: Literal["monitored"] = "monitored"
    conversation_id: str
    supervisor_id: int
    supervisor_name: str
    on: bool
    mode: MonitorMode = "listen"
