"""Chat messages, attachments, canned replies and chat's websocket frames as they travel."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from contactcenter.realtime.schemas import ClientId, ConvId, Frame
from contactcenter.validation import Text


def _page_url(value: str) -> str:
    """The customer's page: an http(s) address (the widget sends origin + path) or a path of this site."""
    u = urlsplit(value)
    if value.startswith("/") and not value.startswith("//"):
        return value
    if u.scheme in ("http", "https") and u.netloc:
        return value
    raise ValueError("page_url must be an http(s) address or a path starting with /")


PageUrl = Annotated[Text, Field(max_length=500), AfterValidator(_page_url)]

LANG_MAX = 35  # RFC 5646 asks implementations to handle tags this long; real ones are far shorter


def _lang(value: str) -> str:
    """A BCP 47 tag in its usual case: "fr", "fr-CA", "zh-Hans-CN" (language lower, script title, region upper;
    everything after a singleton such as -u- or -x- lower)."""
    first, *rest = value.lower().split("-")
    out = [first]
    for p in rest:
        if len(p) == 1 or any(len(q) == 1 for q in out):
            out.append(p)
        elif len(p) == 4 and p.isalpha() and len(out) == 1:
            out.append(p.title())
        elif (len(p) == 2 and p.isalpha()) or (len(p) == 3 and p.isdigit()):
            out.append(p.upper())
        else:
            out.append(p)
    return "-".join(out)


# The customer's language as the widget chose it (data-lang, the page's lang, the browser's): shown to the agent.
LangTag = Annotated[
    str, Field(max_length=LANG_MAX, pattern=r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8}){0,7}$"), AfterValidator(_lang)
]

MAX_BODY = 4000


class SenderKind(enum.StrEnum):
    customer = "customer"
    agent = "agent"
    system = "system"


class AttachmentRef(BaseModel):
    id: str
    name: str
    type: str
    size: int


class MessageOut(BaseModel):
    conversation_id: str
    seq: int
    sender: SenderKind
    sender_name: str
    body: str
    private: bool = False
    attachments: list[AttachmentRef] = Field(default_factory=list)
    client_id: str
    at: datetime


class StartIn(BaseModel):
    name: Text | None = Field(default=None, max_length=120)
    email: Text | None = Field(default=None, max_length=320)
    topic: Text | None = Field(default=None, max_length=200)
    page_url: Text | None = Field(default=None, max_length=500)
    lang: LangTag | None = None


class CannedIn(BaseModel):
    shortcut: Text = Field(min_length=1, max_length=40, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    title: Text = Field(min_length=1, max_length=120)
    body: Text = Field(min_length=1, max_length=MAX_BODY)


class CannedOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    shortcut: str
    title: str
    body: str


class TranscriptIn(BaseModel):
    # Only an address the customer already holds (the pre-chat form's); omitted: that address.
    email: Text | None = Field(default=None, min_length=3, max_length=320)


# Websocket frames of the chat channel (registered with the realtime hub; docs/protocol.md).
class Start(Frame):
    type: Literal["start"]
    name: Text | None = Field(default=None, max_length=120)
    email: Text | None = Field(default=None, max_length=320)
    topic: Text | None = Field(default=None, max_length=200)
    page_url: PageUrl | None = None
    # The queue the site's widget names (data-queue); the default queue when absent.
    queue: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")] | None = None
    lang: LangTag | None = None


class Send(Frame):
    type: Literal["send"]
    conversation_id: ConvId
    client_id: ClientId
    body: Text = Field(default="", max_length=MAX_BODY)
    attachments: list[Annotated[Text, Field(max_length=36)]] = Field(default_factory=list, max_length=5)
    private: bool = False


class Ack(Frame):
    type: Literal["ack"]
    conversation_id: ConvId
    seq: int = Field(ge=0)


class TypingIn(Frame):
    type: Literal["typing"]
    conversation_id: ConvId
    state: bool


class MessageFrame(Frame):
    type: Literal["message"] = "message"
    message: MessageOut


class Sent(Frame):
    type: Literal["sent"] = "sent"
    conversation_id: str
    client_id: str
    seq: int
    duplicate: bool


class TypingFrame(Frame):
    type: Literal["typing"] = "typing"
    conversation_id: str
    sender: Literal["customer", "agent"]
    name: str
    state: bool


class ReadFrame(Frame):
    type: Literal["read"] = "read"
    conversation_id: str
    reader: Literal["customer", "agent"]
    seq: int
