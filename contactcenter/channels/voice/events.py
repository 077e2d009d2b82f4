"""What voice publishes on the bus: the hub's generic Push carrying a call's state to its customer, its agent
and the supervisors following the conversation; and the requests a web process forwards to the process that
bridges a call (decision 57), with their replies, each on the topic of the process it is for."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from contactcenter.bus import Event
from contactcenter.channels.voice.schemas import VoiceCall, VoiceState
from contactcenter.conversations.schemas import ConversationOut
from contactcenter.realtime.events import Audience, Push

# The processes that bridge calls, each present (bus presence, renewed) while it runs.
HOSTS = "voice-hosts"
Op = Literal["call", "answer", "hold", "mute", "hangup", "transfer", "monitor"]


def host_topic(host_id: str) -> str:
    return f"voice.host.{host_id}"


def reply_topic(client_id: str) -> str:
    return f"voice.reply.{client_id}"


def to_call(conversation_id: str, *, customer_id: int, agent_id: int | None, frame: BaseModel) -> Push:
    to = Audience(conversation_id=conversation_id, customer_id=customer_id, agent_id=agent_id, supervisors="following")
    return Push(to=to, frame=frame.model_dump_json())


class VoiceRequest(Event):
    """A voice frame, already checked by the web process that received it (who may do this to which
    conversation), for the process holding the call's media. `user_id`/`side`/`name`: the sender."""

    type: Literal["voice.request"] = "voice.request"
    id: str
    reply_to: str = ""  # a topic; empty when handled in the process itself
    op: Op
    conversation_id: str = ""
    user_id: int
    side: Literal["customer", "agent"]
    name: str = ""
    sdp: str | None = None
    on: bool = True
    mode: Literal["listen", "whisper", "barge"] = "listen"
    call: VoiceCall | None = None  # op "call": the customer's frame
    # op "transfer": routing's transfer as the agent asked it
    queue: str | None = None
    agent_id: int | None = None
    note: str = ""
    own_only: bool = True
    agent_name: str | None = None  # op "monitor": the call's agent, named in the state


class VoiceReply(Event):
    """What the request did: an error (`error` code and `detail`, for the sender's error frame) or the SDP
    answer for the sender's leg and the call's new state (for everyone on the call)."""

    type: Literal["voice.reply"] = "voice.reply"
    id: str
    error: str | None = None
    detail: str = ""
    sdp: str | None = None
    state: VoiceState | None = None
    conversation: ConversationOut | None = None  # op "call": the new conversation
