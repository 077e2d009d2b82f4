"""Routing configuration that outlives a restart: queues and agents' routing profiles. The live state
(who waits, who holds what, offers) lives in the routing backend (memory or Redis), not in tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from contactcenter.db import Base, utcnow


class RoutingQueue(Base):
    __tablename__ = "routing_queues"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    # Required skill -> minimum level.
    skills: Mapped[dict[str, Any]]
    # Service level: answered within this many seconds counts as "in target" on the wallboard.
    target_s: Mapped[int] = mapped_column(default=30)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AgentProfile(Base):
    __tablename__ = "routing_agent_profiles"

    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"), primary_key=True)
    skills: Mapped[dict[str, Any]]
    capacity: Mapped[float] = mapped_column(Float, default=1.0)
    # Channel -> share of capacity one contact takes; missing channels use the defaults.
    weights: Mapped[dict[str, Any]]
    # None: the deployment's default (CC_ROUTING_AUTO_ACCEPT).
    auto_accept: Mapped[bool | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
