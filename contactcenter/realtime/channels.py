"""What a channel registers with the realtime hub: its client frames and handlers, and how a socket catches
up on one of its conversations. The hub and the frame dispatcher know channels only through this."""

from __future__ import annotations

import typing
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, Field, TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.conversations.schemas import Positions

if TYPE_CHECKING:
    from contactcenter.realtime.service import FrameContext

# (session, conversation, after, include_private) -> up to 500 (seq, frame JSON) after `after`, in order.
# The session is a `Database.reader()` one: read only (autocommit on PostgreSQL, where a hook may read
# straight from the driver: `db.driver_reads(session)`, decision 59).
CatchUp = Callable[[AsyncSession, str, int, bool], Awaitable[list[tuple[int, str]]]]
# (session, conversation ids) -> the log positions of those that have any. A reader session on a socket's
# hello, a writing one elsewhere (a hook checks `db.driver_reads(session)` before using the driver).
PositionsOf = Callable[[AsyncSession, Sequence[str]], Awaitable[Mapping[str, Positions]]]
Handle = Callable[["FrameContext", Any], Awaitable[None]]
# (conversation, by user id, by name, text) -> a line for everyone in the conversation, kept in its log (a
# supervisor joining or leaving a chat); channels without a log to write it in register none
Notice = Callable[[str, int, str, str], Awaitable[None]]
CATCH_UP_PAGE = 500


@dataclass(frozen=True)
class FrameSpec:
    model: type[BaseModel]  # a frame model whose `type` field is a Literal of its name(s)
    handle: Handle


@dataclass(frozen=True)
class ChannelHooks:
    name: str  # the conversations' channel value
    frames: Sequence[FrameSpec] = ()
    catch_up: CatchUp | None = None
    positions: PositionsOf | None = None
    notice: Notice | None = None


def frame_types(model: type[BaseModel]) -> tuple[str, ...]:
    """The `type` values a frame model accepts."""
    return tuple(str(v) for v in typing.get_args(model.model_fields["type"].annotation))


class Registry:
    """The client frames a hub's sockets accept (the core's and every registered channel's)."""

    def __init__(self, core: Sequence[type[BaseModel]]) -> None:
        self.core = list(core)
        self.handlers: dict[str, FrameSpec] = {}
        self.channels: dict[str, ChannelHooks] = {}
        self.parser: TypeAdapter[Any] = self._build()

    def add(self, hooks: ChannelHooks) -> None:
        """Register a channel; its frame types must not clash with any registered before."""
        taken = {t for m in self.core for t in frame_types(m)} | set(self.handlers)
        for spec in hooks.frames:
            clash = set(frame_types(spec.model)) & taken
            if clash:
                raise ValueError(f"frame type(s) {sorted(clash)} of channel {hooks.name!r} are already registered")
            taken |= set(frame_types(spec.model))
        self.channels[hooks.name] = hooks
        for spec in hooks.frames:
            for t in frame_types(spec.model):
                self.handlers[t] = spec
        self.parser = self._build()

    def _build(self) -> TypeAdapter[Any]:
        models = [*self.core, *{id(s.model): s.model for s in self.handlers.values()}.values()]
        if len(models) == 1:
            return TypeAdapter(models[0])
        union: Any = typing.Union[tuple(models)]  # noqa: UP007 - built at run time from the registered models
        annotated: Any = Annotated[union, Field(discriminator="type")]
        return TypeAdapter(annotated)

    def channel(self, name: str) -> ChannelHooks | None:
        return self.channels.get(name)
