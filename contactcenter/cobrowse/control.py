"""Remote control during co-browse (docs/cobrowse.md): a second consent, separate from sharing the page.
The conversation's agent asks, the customer allows (or says No), either ends it at any moment, and it ends
with the session. Only while it is on, and only for the agent it was given to, are the agent's clicks and
scrolls relayed to the customer's widget, which carries them out on safe targets only (never into a field).

Every refusal reads the session afresh (no cache): control taken back in another process is refused here
at once."""

from __future__ import annotations

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.bus import Bus
from contactcenter.cobrowse.schemas import (
    CobrowseControl,
    CobrowseControlRefused,
    ControlFrame,
    SessionOut,
    WarningFrame,
)
from contactcenter.cobrowse.service import By, _forget, _live, _state, _tell
from contactcenter.conversations.schemas import ConversationOut
from contactcenter.db import Database, utcnow
from contactcenter.http import ApiError

log = structlog.get_logger("cobrowse")


def _off() -> ApiError:
    return ApiError(409, "cobrowse_off", "co-browsing is not on for this conversation")


async def ask(session: AsyncSession, bus: Bus, *, conv: ConversationOut, agent_id: int) -> SessionOut:
    """The conversation's agent asks for control; the customer's widget asks them, separately."""
    if conv.agent_id != agent_id:
        raise ApiError(403, "not_your_conversation", "only the conversation's agent asks for control")
    row = await _live(session, conv.id)
    if row is None or row.state != "on" or conv.status == "closed":
        raise _off()
    if not (row.control == "on" and row.control_agent_id == agent_id):
        row.end_control(utcnow())  # control given to someone else (before a transfer) is not inherited
        row.control, row.control_agent_id = "asked", agent_id
        await session.commit()
        _forget(conv.id)
        log.info("cobrowse_control_asked", conversation_id=conv.id, session_id=row.id, agent_id=agent_id)
    await _tell(bus, conv, "both", _state(row))
    return SessionOut.model_validate(row)


async def grant(
    session: AsyncSession, bus: Bus, *, conv: ConversationOut, customer_id: int, session_id: str
) -> SessionOut:
    """The customer allows the agent who asked (only an open question can be answered)."""
    row = await _live(session, conv.id)
    if row is None or row.id != session_id or conv.customer_id != customer_id:
        raise ApiError(404, "cobrowse_not_found", "no co-browse session for this conversation")
    if row.state != "on" or conv.status == "closed":
        raise _off()
    if row.control != "on":
        if row.control != "asked" or row.control_agent_id != conv.agent_id:
            raise ApiError(409, "cobrowse_control_not_asked", "the agent has not asked for control")
        row.control, row.control_since = "on", utcnow()
        row.control_grants += 1
        await session.commit()
        _forget(conv.id)
        log.info("cobrowse_control_granted", conversation_id=conv.id, session_id=row.id,
                 agent_id=row.control_agent_id)  # fmt: skip
    await _tell(bus, conv, "both", _state(row))
    return SessionOut.model_validate(row)


async def revoke(session: AsyncSession, bus: Bus, *, conv: ConversationOut, by: By) -> SessionOut | None:
    """Control ends (the customer takes it back or declines; the agent lets go); sharing the page goes on."""
    row = await _live(session, conv.id)
    if row is None:
        return None
    if row.control != "off":
        was = row.control
        row.end_control(utcnow())
        await session.commit()
        _forget(conv.id)
        log.info("cobrowse_control_revoked", conversation_id=conv.id, session_id=row.id, by=by, was=was,
                 control_s=row.control_s)  # fmt: skip
    await _tell(bus, conv, "both", _state(row))
    return SessionOut.model_validate(row)


async def act(db: Database, bus: Bus, *, conv: ConversationOut, agent_id: int, frame: CobrowseControl) -> None:
    """Relay the agent's click or scroll to the customer, only while they have control."""
    if conv.agent_id != agent_id:
        raise ApiError(403, "not_your_conversation", "only the conversation's agent has control")
    async with db.session() as s:
        row = await _live(s, conv.id)
    if row is None or row.state != "on" or conv.status == "closed":
        raise _off()
    if row.control != "on" or row.control_agent_id != agent_id:
        raise ApiError(409, "cobrowse_no_control", "the customer has not given you control of their page")
    out = ControlFrame(
        conversation_id=conv.id, session_id=row.id, kind=frame.kind, x=frame.x, y=frame.y, node=frame.node
    )
    await _tell(bus, conv, "customer", out)


async def follow_agent(session: AsyncSession, bus: Bus, *, conv: ConversationOut) -> SessionOut | None:
    """The conversation changed hands (transferred, requeued): the customer gave control to one person, so it
    ends, and both sides (the new agent's console included) are told it is off."""
    row = await _live(session, conv.id, lock=True)  # two processes hear the change: one ends it
    if row is None or row.control == "off" or row.control_agent_id == conv.agent_id:
        return None
    was, held_by = row.control, row.control_agent_id
    row.end_control(utcnow())
    await session.commit()
    _forget(conv.id)
    log.info("cobrowse_control_revoked", conversation_id=conv.id, session_id=row.id, by="transfer", was=was,
             agent_id=held_by, control_s=row.control_s)  # fmt: skip
    await _tell(bus, conv, "both", _state(row))
    return SessionOut.model_validate(row)


REFUSED = {
    "unsafe": "Your click was not carried out: it landed on a form field, a masked or blocked part of the page, "
    "or the chat widget; the customer fills those in themselves",
    "outside": "Your click was not carried out: that point is outside what the customer sees; scroll first",
}


async def refused(
    db: Database, bus: Bus, *, conv: ConversationOut, customer_id: int, frame: CobrowseControlRefused
) -> None:
    """The customer's widget refused a click: the agent who has control hears why (nothing is stored)."""
    async with db.session() as s:
        row = await _live(s, conv.id)
    if row is None or row.id != frame.session_id or conv.customer_id != customer_id:
        raise ApiError(404, "cobrowse_not_found", "no co-browse session for this conversation")
    if row.control != "on" or row.control_agent_id != conv.agent_id:
        return  # control ended meanwhile: nobody to tell
    warning = WarningFrame(
        conversation_id=conv.id, session_id=row.id, code="control_refused", detail=REFUSED[frame.reason]
    )
    await _tell(bus, conv, "agent", warning)
