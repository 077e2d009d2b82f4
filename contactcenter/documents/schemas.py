"""Documents' bodies, replies and websocket frames (docs/api.md, docs/protocol.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from contactcenter.realtime.schemas import ConvId, Frame

DocId = Annotated[str, Field(min_length=36, max_length=36, pattern=r"^[0-9a-f-]+$")]
Tag = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[\w][\w .-]*$")]
MAX_TAGS = 20
MAX_PAGES = 10_000


class DocumentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    title: str
    tags: list[str]
    filename: str
    content_type: str
    size: int
    uploaded_by: int
    created_at: datetime


class DocumentEdit(BaseModel):
    """PATCH /api/documents/{id}: a new title or tags."""

    model_config = ConfigDict(extra="forbid")
    title: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    tags: list[Tag] | None = Field(default=None, max_length=MAX_TAGS)


class PushOut(BaseModel):
    """A push and its receipts, as the agent reads them."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    document_id: str
    conversation_id: str
    agent_id: int
    pushed_at: datetime
    expires_at: datetime
    opened_at: datetime | None
    closed_at: datetime | None
    page_count: int | None
    page_seconds: dict[str, float]
    title: str = ""  # the document's, in lists


class Table(BaseModel):
    """A sheet (CSV or XLSX) as rows of text, for the widget's table."""

    rows: list[list[str]]
    truncated: bool


# Client -> server
class DocumentPushIn(Frame):
    """The conversation's agent shows a library document to its customer."""

    type: Literal["document_push"]
    conversation_id: ConvId
    document_id: DocId


class DocumentView(Frame):
    """The customer's receipts: opened (with the page count), a page viewed for some seconds, closed."""

    type: Literal["document_view"]
    push_id: DocId
    event: Literal["opened", "page", "closed"]
    page: Annotated[int, Field(ge=1, le=MAX_PAGES)] | None = None
    seconds: Annotated[float, Field(ge=0, le=3600)] | None = None
    page_count: Annotated[int, Field(ge=1, le=MAX_PAGES)] | None = None


class DocumentTurnIn(Frame):
    """The agent turns a shown PDF to a page, for both of them."""

    type: Literal["document_turn"]
    push_id: DocId
    page: Annotated[int, Field(ge=1, le=MAX_PAGES)]


# Server -> client
class TurnFrame(Frame):
    """To the customer: the agent turned the document to this page."""

    type: Literal["document_turn"] = "document_turn"
    conversation_id: str
    push_id: str
    page: int


class DocumentFrame(Frame):
    """To the customer: a document to show now (fetch `url` with the visitor token; it expires)."""

    type: Literal["document"] = "document"
    conversation_id: str
    push_id: str
    title: str
    content_type: str
    size: int
    url: str
    expires_at: datetime


class ReceiptFrame(Frame):
    """To the agent: a push's state after it was sent, opened, a page viewed or closed."""

    type: Literal["document_receipt"] = "document_receipt"
    conversation_id: str
    title: str
    event: Literal["pushed", "opened", "page", "closed"]
    push: PushOut
