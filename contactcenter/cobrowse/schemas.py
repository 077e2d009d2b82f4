"""Co-browse's frames (docs/protocol.md) and bodies. Events are rrweb's, kept as JSON values: the server
scans their strings and relays them; it does not interpret the DOM."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from contactcenter.realtime.schemas import ConvId, Frame

SessionId = Annotated[str, Field(min_length=1, max_length=36, pattern=r"^[0-9a-f-]+$")]
State = Literal["requested", "on", "ended"]
Control = Literal["off", "asked", "on"]  # remote control, the second consent
FULL_SNAPSHOT = 2  # rrweb EventType.FullSnapshot
META = 4  # rrweb EventType.Meta: {"href", "width", "height"}
MAX_EVENTS = 500  # per frame or request


class RrwebEvent(BaseModel):
    """One rrweb event; unknown fields are dropped, not relayed."""

    model_config = ConfigDict(extra="ignore")
    type: Annotated[int, Field(ge=0, le=6)]
    data: dict[str, Any]
    timestamp: Annotated[int, Field(ge=0)]


# Client -> server
class CobrowseRequest(Frame):
    """The agent asks to see the customer's page (again: a fresh snapshot for a late or returning agent)."""

    type: Literal["cobrowse_request"]
    conversation_id: ConvId


class CobrowseAccept(Frame):
    """The customer consents (and, on each page of the site afterwards, says it is recording again)."""

    type: Literal["cobrowse_accept"]
    conversation_id: ConvId
    session_id: SessionId


class CobrowseStop(Frame):
    """Either side ends the session (a customer declining a request too)."""

    type: Literal["cobrowse_stop"]
    conversation_id: ConvId


class CobrowseEventsIn(Frame):
    """A batch of the customer's recorded events; batches too big for a frame go over HTTP instead."""

    type: Literal["cobrowse_events"]
    conversation_id: ConvId
    events: list[RrwebEvent] = Field(min_length=1, max_length=MAX_EVENTS)


Coord = Annotated[float, Field(ge=0, le=1_000_000)]


class CobrowsePointer(Frame):
    """The agent's pointer (`pointer`: x, y) or highlight box (`highlight`: x, y, w, h) on the customer's
    page, in the page's CSS pixels from its top left corner; `clear` takes both away."""

    type: Literal["cobrowse_pointer"]
    conversation_id: ConvId
    kind: Literal["pointer", "highlight", "clear"]
    x: Coord = 0
    y: Coord = 0
    w: Coord = 0
    h: Coord = 0


class CobrowseControlRequest(Frame):
    """The agent asks for control (clicks and scrolls on the customer's page): a second, separate consent."""

    type: Literal["cobrowse_control_request"]
    conversation_id: ConvId


class CobrowseControlGrant(Frame):
    """The customer allows the agent who asked to click and scroll."""

    type: Literal["cobrowse_control_grant"]
    conversation_id: ConvId
    session_id: SessionId


class CobrowseControlRevoke(Frame):
    """Control ends: the customer takes it back (or says No to the question), or the agent lets go."""

    type: Literal["cobrowse_control_revoke"]
    conversation_id: ConvId


class CobrowseControlRefused(Frame):
    """The customer's widget did not carry out the agent's click: it landed on a field, a masked or blocked
    part or the widget (`unsafe`), or outside what the customer sees (`outside`). The agent is told."""

    type: Literal["cobrowse_control_refused"]
    conversation_id: ConvId
    session_id: SessionId
    reason: Literal["unsafe", "outside"]


class CobrowseControl(Frame):
    """The agent, with control: `click` at (x, y) of the customer's page (CSS pixels from its top left), or
    `scroll` the page (or the element that is rrweb's node `node`) to (x, y). There is no key frame."""

    type: Literal["cobrowse_control"]
    conversation_id: ConvId
    kind: Literal["click", "scroll"]
    x: Coord = 0
    y: Coord = 0
    node: Annotated[int, Field(ge=1, le=2**31 - 1)] | None = None


class EventsBody(BaseModel):
    """POST /api/cobrowse/events: a batch (a full snapshot, typically) bigger than a websocket frame."""

    model_config = ConfigDict(extra="forbid")
    conversation_id: ConvId
    events: list[RrwebEvent] = Field(min_length=1, max_length=MAX_EVENTS)


# Server -> client
class StateFrame(Frame):
    type: Literal["cobrowse_state"] = "cobrowse_state"
    conversation_id: str
    session_id: str
    state: State
    by: Literal["customer", "agent"] | None = None  # who ended it
    control: Control = "off"  # remote control: asked (the customer is asked), on (the agent may click/scroll)


class EventsFrame(Frame):
    """Relayed events, scanned (to the agent only)."""

    type: Literal["cobrowse_events"] = "cobrowse_events"
    conversation_id: str
    session_id: str
    events: list[dict[str, Any]]


class PointerFrame(Frame):
    """To the customer: where the agent points or what they highlight (shown by the widget, never recorded)."""

    type: Literal["cobrowse_pointer"] = "cobrowse_pointer"
    conversation_id: str
    session_id: str
    kind: Literal["pointer", "highlight", "clear"]
    x: float
    y: float
    w: float
    h: float


class ControlFrame(Frame):
    """To the customer, while control is on: a click or scroll the widget carries out on safe targets only."""

    type: Literal["cobrowse_control"] = "cobrowse_control"
    conversation_id: str
    session_id: str
    kind: Literal["click", "scroll"]
    x: float
    y: float
    node: int | None = None


class SnapshotNeeded(Frame):
    """To the customer: an agent joined or came back; record.takeFullSnapshot() and send it."""

    type: Literal["cobrowse_snapshot_needed"] = "cobrowse_snapshot_needed"
    conversation_id: str
    session_id: str


class WarningFrame(Frame):
    """To the agent: something was withheld (`redacted`: found by the scan; `too_big`: over a limit;
    `control_refused`: the customer's page did not carry out a click)."""

    type: Literal["cobrowse_warning"] = "cobrowse_warning"
    conversation_id: str
    session_id: str
    code: Literal["redacted", "too_big", "control_refused"]
    detail: str
    kinds: list[str] = Field(default_factory=list)


class SessionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    conversation_id: str
    customer_id: int
    agent_id: int
    state: State
    degraded: bool
    requested_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    ended_by: str | None
    pages: list[str]
    redactions: int
    control: Control = "off"
    control_agent_id: int | None = None


class Accepted(BaseModel):
    """POST /api/cobrowse/events's answer: how many events were relayed and what the scan withheld."""

    relayed: int
    redacted: list[str]
