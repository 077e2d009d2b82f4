"""What the email channel publishes after each commit."""

from __future__ import annotations

from typing import Literal

from contactcenter.bus import Event
from contactcenter.channels.email.schemas import EmailMessageOut, OutgoingOut

TOPIC_EMAIL = "email.events"


class EmailFiled(Event):
    """An inbound mail is stored in its conversation (a wake-up: the database is the record)."""

    type: Literal["email.filed"] = "email.filed"
    message: EmailMessageOut


class EmailSent(Event):
    """A reply or acknowledgement reached the relay (committed as sent)."""

    type: Literal["email.sent"] = "email.sent"
    outgoing: OutgoingOut
