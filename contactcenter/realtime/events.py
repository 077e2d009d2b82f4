"""What travels on the real-time topic: frames addressed to an audience, which every process's hub pushes
to its own sockets. Channels publish these; the hub knows no channel.

Each event carries its frame already serialised (`frame`: the JSON of a typed frame model), so a hub
forwards it without parsing it and one event reaches many sockets as the same text.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from contactcenter.bus import Event

# One topic for every real-time event: each process's hub fans out to its own sockets by the ids inside.
TOPIC_REALTIME = "rt.events"


class Audience(BaseModel):
    """Whose sockets hear it: the conversation's customer, its agent, and supervisors' sockets."""

    conversation_id: str
    customer_id: int | None = None
    agent_id: int | None = None
    # Supervisors and admins: every event ("all"), only those of conversations their socket follows
    # ("following"), or none.
    supervisors: Literal["all", "following", "none"] = "all"


class Item(Event):
    """Position `seq` of a conversation's log (a chat message): delivered in order, exactly once, gaps filled
    from the channel's catch-up hook. `private` items never reach customers."""

    type: Literal["rt.item"] = "rt.item"
    to: Audience
    seq: int
    private: bool = False
    frame: str


class Push(Event):
    """A frame with no place in a log (typing, a hint to fetch again). With `owner_check`, a socket that has
    since heard the conversation went to someone else drops it."""

    type: Literal["rt.push"] = "rt.push"
    to: Audience
    owner_check: bool = False
    frame: str


class ReadMoved(Event):
    """A side's read position moved: every socket of the audience hears it but the reader's sockets that
    acknowledged that far themselves."""

    type: Literal["rt.read"] = "rt.read"
    to: Audience
    reader: Literal["customer", "agent"]
    seq: int
    frame: str


RealtimeEvent = Item | Push | ReadMoved
