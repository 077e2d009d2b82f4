"""Shared ids, aliases and Protocols; no logic."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import NewType, Protocol

CustomerId = NewType("CustomerId", int)
UserId = NewType("UserId", int)
TouchId = NewType("TouchId", int)


class Clock(Protocol):
    def __call__(self) -> datetime: ...


class Role(enum.StrEnum):
    admin = "admin"
    supervisor = "supervisor"
    agent = "agent"
    planner = "planner"


STAFF_ROLES: frozenset[Role] = frozenset(Role)
