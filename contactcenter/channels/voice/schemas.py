"""Voice's websocket frames (docs/protocol.md): a call's SDP offers and answers, hold, mute, transfer and
hang-up, and the call's state as both sides see it."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from contactcenter.channels.chat.schemas import LangTag, PageUrl
from contactcenter.realtime.schemas import ConvId, Frame
from contactcenter.routing.schemas import Ident
from contactcenter.validation import Text

# An audio-only offer with its candidates is 2-5 KB; the frame limit is 16 KB.
Sdp = Annotated[Text, Field(min_length=10, max_length=12_000)]
CallState = Literal["waiting", "connected", "held", "transferring", "ended"]


# Client -> server
class VoiceCall(Frame):
    """The customer calls: a new voice conversation, routed, with the customer's SDP offer."""

    type: Literal["voice_call"]
    sdp: Sdp
    name: Text | None = Field(default=None, max_length=120)
    topic: Text | None = Field(default=None, max_length=200)
    page_url: PageUrl | None = None
    queue: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")] | None = None
    lang: LangTag | None = None


class VoiceAnswer(Frame):
    """The assigned agent answers with their SDP offer (the server answers it)."""

    type: Literal["voice_answer"]
    conversation_id: ConvId
    sdp: Sdp


class VoiceHold(Frame):
    type: Literal["voice_hold"]
    conversation_id: ConvId
    on: bool


class VoiceMute(Frame):
    """A side mutes (or unmutes) its own microphone for the other side."""

    type: Literal["voice_mute"]
    conversation_id: ConvId
    on: bool


class VoiceHangup(Frame):
    type: Literal["voice_hangup"]
    conversation_id: ConvId


class VoiceTransfer(Frame):
    """The agent hands the call to a queue or an agent: their leg ends, the customer's stays (hold music)."""

    type: Literal["voice_transfer"]
    conversation_id: ConvId
    queue: Ident | None = None
    agent_id: int | None = None
    note: Annotated[Text, Field(max_length=500)] = ""


class VoiceMonitor(Frame):
    """A supervisor on a live call (supervise.py): `sdp` (their offer) starts their leg; without it, an
    existing leg changes `mode`; `on: false` ends it."""

    type: Literal["voice_monitor"]
    conversation_id: ConvId
    sdp: Sdp | None = None
    mode: Literal["listen", "whisper", "barge"] = "listen"
    on: bool = True


# Server -> client
class VoiceSdp(Frame):
    """The server's SDP answer to a leg's offer."""

    type: Literal["voice_sdp"] = "voice_sdp"
    conversation_id: str
    leg: Literal["customer", "agent", "supervisor"]
    sdp: str


class VoiceState(Frame):
    type: Literal["voice_state"] = "voice_state"
    conversation_id: str
    state: CallState
    customer_muted: bool = False
    agent_muted: bool = False
    recording: bool = False
    agent_name: str | None = None
    joined_by: str | None = None  # a supervisor the customer hears too (barge)
    ended_by: str | None = None
    reason: str | None = None
