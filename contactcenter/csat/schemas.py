"""CSAT's bodies, replies and the one frame it pushes (docs/api.md "Customer satisfaction", docs/protocol.md)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from contactcenter.csat.models import MAX_COMMENT
from contactcenter.realtime.schemas import ConvId, Frame
from contactcenter.validation import Text


class ScoreIn(BaseModel):
    """A rating as the signed link's page or API sends it: 1 (very poor) to 5 (very good), a comment maybe."""

    model_config = ConfigDict(extra="forbid")
    score: int = Field(ge=1, le=5, strict=True)
    comment: Text = Field(default="", max_length=MAX_COMMENT)


class RatingIn(ScoreIn):
    """POST /api/csat/ratings: the widget's answer, for one of the visitor's own conversations."""

    conversation_id: ConvId


class RatingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    conversation_id: str
    channel: str
    queue: str
    score: int
    comment: str | None
    rated_at: datetime


class AskOut(BaseModel):
    """Where a conversation's rating stands, for its customer (the widget, the link's page)."""

    conversation_id: str
    channel: str
    agent_name: str | None
    closed_at: datetime | None
    open_until: datetime | None  # after this no rating is taken
    score: int | None  # None: not rated yet
    rated_at: datetime | None
    declined_at: datetime | None = None  # the customer said "No thanks": not asked again


class CsatAsk(Frame):
    """Server -> customer: their conversation closed; the widget shows the rating prompt."""

    type: Literal["csat_ask"] = "csat_ask"
    conversation_id: str
    channel: str
    agent_name: str | None


class Period(StrEnum):
    today = "today"  # since 00:00 UTC
    week = "7d"  # the last 7 x 24 hours


class Figures(BaseModel):
    """Ratings given in the period: how many, their average, the share of 4s and 5s (in percent)."""

    key: str  # the agent's id as text, or the queue
    name: str
    count: int
    average: float
    satisfied_pct: float
    declined: int = 0  # asks answered "No thanks" in the period (not in the count or the average)


class StatsOut(BaseModel):
    period: Period
    since: datetime
    overall: Figures
    agents: list[Figures]
    queues: list[Figures]
