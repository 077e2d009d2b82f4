"""The routing vocabulary shared by the core, both backends and the service: plain values, no logic
beyond the skill match."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

# Loads are sums of float weights: compare with a little slack so 4 x 0.25 fits in 1.0.
EPS = 1e-9


class Channel(StrEnum):
    voice = "voice"
    chat = "chat"
    callback = "callback"
    email = "email"


# How much of an agent's capacity (1.0) one contact of each channel takes: a call uses it all.
DEFAULT_WEIGHTS: Mapping[Channel, float] = {
    Channel.voice: 1.0,
    Channel.chat: 0.25,
    Channel.callback: 1.0,
    Channel.email: 0.1,
}


class State(StrEnum):
    available = "available"
    busy = "busy"  # shown, never set: an available agent holding contacts
    away = "away"
    wrap_up = "wrap_up"
    offline = "offline"


class RoutingError(Exception):
    """A refused routing request; `code` becomes the API error code."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code, self.detail = code, detail


@dataclass(frozen=True)
class QueueSpec:
    id: str
    skills: Mapping[str, int] = field(default_factory=dict)  # required skill -> minimum level


@dataclass(frozen=True)
class AgentSpec:
    id: int
    skills: Mapping[str, int] = field(default_factory=dict)  # skill -> level
    capacity: float = 1.0
    weights: Mapping[str, float] = field(default_factory=dict)  # per-agent overrides of DEFAULT_WEIGHTS
    auto_accept: bool = False  # offers are taken at once (no accept step, no timeout)

    def weight(self, channel: Channel) -> float:
        return float(self.weights.get(channel.value, DEFAULT_WEIGHTS[channel]))


@dataclass(frozen=True)
class ContactSpec:
    id: str
    queue: str
    channel: Channel
    priority: int = 0  # 0..9, higher is served first (value tier, overdue callback)


@dataclass(frozen=True)
class Offer:
    contact_id: str
    agent_id: int
    queue: str
    channel: Channel
    deadline: float
    accepted: bool = False  # true when the agent auto-accepts (or for the answer to an accept)


def qualifies(agent_skills: Mapping[str, int], required: Mapping[str, int]) -> bool:
    """An agent serves a queue when they have every required skill at its level or above."""
    return all(agent_skills.get(skill, -1) >= level for skill, level in required.items())
