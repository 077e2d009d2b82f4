"""Bodies and replies of the consent routes."""

from __future__ import annotations

import enum
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class Purpose(enum.StrEnum):
    # Remember the visitor on this device (the widget's localStorage / sessionStorage).
    storage = "storage"
    # Pages visited sent to the contact center and shown to advisers (web touches in the CCR).
    browsing = "browsing"


class Policy(BaseModel):
    version: str
    purposes: list[Purpose]
    url: str | None


class ConsentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str = Field(min_length=1, max_length=40)
    storage: bool
    browsing: bool


class Answer(BaseModel):
    purpose: Purpose
    granted: bool
    version: str
    at: datetime


class ConsentOut(BaseModel):
    version: str  # the policy's current version
    current: bool  # every purpose answered under the current version
    answers: list[Answer]  # the latest answer per purpose, whatever its version


class PageView(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=2000, pattern=r"^https?://")
    title: str = Field(default="", max_length=200)
    at: datetime
    seconds: int = Field(default=0, ge=0, le=86_400)  # time the page was visible


class PageViewsIn(BaseModel):
    """A beacon (navigator.sendBeacon: no headers, so the visitor token travels in the body)."""

    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=1, max_length=1000)
    views: list[PageView] = Field(min_length=1, max_length=20)


class PageViewsOut(BaseModel):
    stored: int
