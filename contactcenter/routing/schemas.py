"""Bodies and answers of the routing API (docs/api.md) and its websocket frames (docs/protocol.md)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from contactcenter.routing.model import Channel, State
from contactcenter.validation import Text

Ident = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z0-9][a-z0-9_-]*$")]
SkillMap = Annotated[dict[Ident, Annotated[int, Field(ge=0, le=10)]], Field(max_length=30)]


class QueueIn(BaseModel):
    id: Ident
    name: Annotated[Text, Field(min_length=1, max_length=120)]
    skills: SkillMap = {}
    target_s: Annotated[int, Field(ge=1, le=3600)] = 30


class QueueOut(QueueIn):
    model_config = ConfigDict(from_attributes=True)


class ProfileIn(BaseModel):
    skills: SkillMap = {}
    capacity: Annotated[float, Field(gt=0, le=20)] = 1.0
    weights: dict[Channel, Annotated[float, Field(gt=0, le=20)]] = {}
    auto_accept: bool | None = None


class ProfileOut(ProfileIn):
    user_id: int


class StateIn(BaseModel):
    """What an agent (or a supervisor for them) sets; `busy` follows from the contacts held."""

    state: Literal["available", "away", "wrap_up", "offline"]
    reason: Annotated[Text, Field(max_length=80)] = ""
    wrap_up_s: Annotated[int | None, Field(ge=1, le=3600)] = None


class HeldOut(BaseModel):
    contact_id: str
    status: Literal["offered", "assigned"]


class AgentOut(BaseModel):
    agent_id: int
    name: str | None = None  # filled in on the wallboard
    state: State
    reason: str
    until: float | None
    load: float
    capacity: float
    held: list[HeldOut]


class EstimateOut(BaseModel):
    """Estimated wait: `expected_s` within [`low_s`, `high_s`]; null while nothing is known yet."""

    position: int
    agents: int
    expected_s: float | None
    low_s: float | None
    high_s: float | None


class ContactOut(BaseModel):
    contact_id: str
    queue: str
    channel: Channel
    status: Literal["queued", "offered", "assigned"]
    agent_id: int | None
    position: int
    waited_s: float
    estimate: EstimateOut | None = None


class TransferIn(BaseModel):
    queue: Ident | None = None
    agent_id: int | None = None
    note: Annotated[Text, Field(max_length=500)] = ""

    @model_validator(mode="after")
    def _one_target(self) -> TransferIn:
        if (self.queue is None) == (self.agent_id is None):
            raise ValueError("give exactly one of queue or agent_id")
        return self


class QueueStats(BaseModel):
    queue: str
    name: str
    waiting: int
    longest_wait_s: float
    answered: int
    answered_in_target: int
    service_level_pct: float | None
    abandoned: int
    target_s: int


class WallboardOut(BaseModel):
    queues: list[QueueStats]
    agents_by_state: dict[State, int]
    agents: list[AgentOut]
