"""The agent's outcome of one attempt: reached and wrong number end the callback; no answer and busy bring it
back after CC_CALLBACK_RETRY_DELAY_S until CC_CALLBACK_MAX_ATTEMPTS, then it ends with a note. The request,
the attempt's touch and the conversation's close are one transaction."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.bus import Bus
from contactcenter.ccr import service as ccr
from contactcenter.ccr.schemas import Direction, TouchKind
from contactcenter.channels.callback.schemas import CallbackOut, Outcome, OutcomeIn, Status
from contactcenter.channels.callback.service import hours, out, publish, row_of, touch
from contactcenter.conversations import service as conversations
from contactcenter.conversations.schemas import OutcomeOut
from contactcenter.http import ApiError
from contactcenter.settings import Settings

LABELS = {
    Outcome.reached: "Reached",
    Outcome.no_answer: "No answer",
    Outcome.busy: "Busy",
    Outcome.wrong_number: "Wrong number",
}
ALLOWED = [OutcomeOut(code=o.value, label=label) for o, label in LABELS.items()]
RETRIED = (Outcome.no_answer, Outcome.busy)


async def record(
    session: AsyncSession,
    bus: Bus,
    *,
    callback_id: str,
    data: OutcomeIn,
    agent_id: int,
    any_agent: bool,
    settings: Settings,
    now: datetime,
) -> CallbackOut:
    """Record the outcome of the attempt the agent holds (`any_agent`: supervisors, for anyone's)."""
    row = await row_of(session, callback_id=callback_id)
    if row.status != Status.open.value or row.conversation_id is None:
        raise ApiError(409, "callback_not_open", f"this callback is {row.status}: no attempt is under way")
    conv = await conversations.get(session, conversation_id=row.conversation_id)
    if conv.status != "assigned" or conv.agent_id is None:
        raise ApiError(409, "callback_not_started", "no agent has taken this attempt yet")
    if not any_agent and conv.agent_id != agent_id:
        raise ApiError(403, "not_your_callback", "this attempt is another agent's")
    # Started when its agent got it (the conversation's record), or now if that is unknown.
    row.started_at = row.started_at or min(conv.assigned_at or now, now)
    row.last_outcome = data.outcome.value
    left = settings.callback_max_attempts - row.attempts
    label = LABELS[data.outcome]
    if data.outcome in RETRIED and left > 0:
        row.status, row.due_at = Status.booked.value, now + timedelta(seconds=settings.callback_retry_delay_s)
        then = f"{row.due_at.astimezone(hours(settings).zone):%H:%M}"
        summary = f"Callback attempt {row.attempts}: {label}; trying again at {then}"
    else:
        row.status = Status.reached.value if data.outcome is Outcome.reached else Status.failed.value
        row.closed_at = now
        if data.outcome in RETRIED:
            row.note = f"{label} after {row.attempts} attempts; closed"
        elif data.outcome is Outcome.wrong_number:
            row.note = "wrong number"
        summary = f"Callback attempt {row.attempts}: {label}" + (f" ({row.note})" if row.note else "")
    if data.note:
        row.note = (f"{row.note}; " if row.note else "") + data.note[:400]
    t = await ccr.add_touch(
        session,
        touch=touch(
            row,
            kind=TouchKind.call,
            direction=Direction.outbound,
            summary=summary,
            now=now,
            agent_id=conv.agent_id,
            outcome=data.outcome.value,
            attempt=row.attempts,
            note=data.note or None,
        ),
    )
    # Commits the request, its touch and the conversation's close together.
    await conversations.close(
        session, bus, conversation_id=conv.id, by="agent", outcome=data.outcome.value, note=data.note, allowed=ALLOWED
    )
    await publish(bus, [t])
    return out(row)
