"""What the chat channel publishes on the real-time topic, after each commit: the realtime hub's generic
events (realtime/events.py) carrying chat's frames."""

from __future__ import annotations

from typing import Literal

from contactcenter.channels.chat.schemas import MessageFrame, MessageOut, ReadFrame, TypingFrame
from contactcenter.realtime.events import Audience, Item, Push, ReadMoved


def message_posted(message: MessageOut, *, customer_id: int, agent_id: int | None) -> Item:
    """A stored message, for its conversation's sockets (private notes: agents and supervisors only)."""
    return Item(
        to=Audience(conversation_id=message.conversation_id, customer_id=customer_id, agent_id=agent_id),
        seq=message.seq,
        private=message.private,
        frame=MessageFrame(message=message).model_dump_json(),
    )


def read_up_to(
    conversation_id: str, *, customer_id: int, agent_id: int | None, reader: Literal["customer", "agent"], seq: int
) -> ReadMoved:
    frame = ReadFrame(conversation_id=conversation_id, reader=reader, seq=seq)
    return ReadMoved(
        to=Audience(conversation_id=conversation_id, customer_id=customer_id, agent_id=agent_id),
        reader=reader,
        seq=seq,
        frame=frame.model_dump_json(),
    )


def typing(
    conversation_id: str,
    *,
    customer_id: int,
    agent_id: int | None,
    sender: Literal["customer", "agent"],
    name: str,
    state: bool,
) -> Push:
    """Typing goes to the other side only (and to no supervisor): throwaway, at-most-once."""
    frame = TypingFrame(conversation_id=conversation_id, sender=sender, name=name, state=state)
    to = (
        Audience(conversation_id=conversation_id, agent_id=agent_id, supervisors="none")
        if sender == "customer"
        else Audience(conversation_id=conversation_id, customer_id=customer_id, supervisors="none")
    )
    return Push(to=to, owner_check=True, frame=frame.model_dump_json())
