"""Replies of the operations routes."""

from __future__ import annotations

from pydantic import BaseModel


class Health(BaseModel):
    status: str


class Ready(BaseModel):
    status: str
    database: bool
    bus: bool
    bus_backend: str
