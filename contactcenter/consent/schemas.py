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
