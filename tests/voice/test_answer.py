"""A call assigned to an agent who never answers: after CC_VOICE_ANSWER_TIMEOUT_S the agent is set away
("Missed a call") and the call goes back to its queue, where the next agent answers it; after
CC_VOICE_ANSWER_ATTEMPTS misses it ends as `no_answer`, the conversation closed and the call logged."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from contactcenter.ccr.models import Touch
from contactcenter.channels.voice import service
from contactcenter.channels.voice.answer import MISSED_REASON, AnswerWatch
from contactcenter.routing import presence
from contactcenter.settings import Settings
from tests.chat.conftest import Live, customer, staff
from tests.chat.test_chat_flow import make_agent
from tests.cobrowse.test_flow import pinging
from tests.email.helpers import until
from tests.voice.peers import near
from tests.voice.test_call import AGENT_HZ, CUSTOMER_HZ, OTHER_AGENT_HZ, answer, closed, peers, place_call


@pytest.fixture
def quick_answer(voice_settings: Settings) -> Settings:
    voice_settings.voice_answer_timeout_s = 1.0
    voice_settings.voice_answer_attempts = 2
    return voice_settings


async def test_a_call_nobody_answers_moves_to_the_next_agent(quick_answer: Settings, live: Live) -> None:
    slow = await make_agent(live.app, "hal")
    async with (
        staff(live, "hal") as hal,
        customer(live) as (cust, _t),
        pinging(hal, cust),
        peers(CUSTOMER_HZ, AGENT_HZ, OTHER_AGENT_HZ) as (cp, _hp, ip),
    ):
        cid = await place_call(cust, cp)
        assert (await hal.next("conversation", timeout=10))["conversation"]["agent_id"] == slow
        # Hal lets it ring: the call goes back to the queue, the customer hears it move, Hal is away.
        await cust.next("voice_state", state="transferring", timeout=10)
        view = await presence.view_agent(live.app.state.bus, agent_id=slow)
        assert (view.state.value, view.reason) == ("away", MISSED_REASON)
        assert cid not in view.held
        await make_agent(live.app, "ivy")
        async with staff(live, "ivy") as ivy, pinging(ivy):
            await answer(ivy, ip, cid)
            await cust.next("voice_state", state="connected", agent_name="Ivy")
            await cp.hears(near(OTHER_AGENT_HZ))
            assert service.calls[cid].stats.agents[-1] != slow
            await cust.send({"type": "voice_hangup", "conversation_id": cid})
            await closed(ivy, cid)


async def test_a_call_missed_every_time_ends_as_no_answer(quick_answer: Settings, live: Live) -> None:
    quick_answer.voice_answer_attempts = 1
    slow = await make_agent(live.app, "jo")
    async with (
        staff(live, "jo") as jo,
        customer(live) as (cust, _t),
        pinging(jo, cust),
        peers(CUSTOMER_HZ) as (cp,),
    ):
        cid = await place_call(cust, cp)
        await jo.next("conversation", timeout=10)
        ended = await cust.next("voice_state", state="ended", timeout=10)
        assert (ended["reason"], ended["ended_by"]) == ("no_answer", "system")
        await closed(cust, cid)

        async def freed() -> bool:  # routing frees the agent's room just after the close is announced
            return not (await presence.view_agent(live.app.state.bus, agent_id=slow)).held

        await until(freed)
        view = await presence.view_agent(live.app.state.bus, agent_id=slow)
        assert view.state.value == "away"  # and not offered the next call at once
    assert cid not in service.calls
    async with live.app.state.db.session() as s:
        touch = await s.scalar(
            select(Touch).where(Touch.conversation_id == cid, Touch.kind == "call").order_by(Touch.id.desc())
        )
    assert touch is not None and touch.payload["reason"] == "no_answer"


async def test_an_answered_call_is_left_alone(quick_answer: Settings, live: Live) -> None:
    agent_id = await make_agent(live.app, "kit")
    async with (
        staff(live, "kit") as kit,
        customer(live) as (cust, _t),
        pinging(kit, cust),
        peers(CUSTOMER_HZ, AGENT_HZ) as (cp, kp),
    ):
        cid = await place_call(cust, cp)
        await answer(kit, kp, cid)
        await kp.hears(near(CUSTOMER_HZ))
        # The answer timeout's check, run now (its timer may or may not have fired yet): nothing to do.
        app = live.app
        await AnswerWatch(app.state.db, app.state.bus, quick_answer).check(cid, agent_id, "general")
        await cp.hears(near(AGENT_HZ))
        view = await presence.view_agent(live.app.state.bus, agent_id=agent_id)
        assert view.state.value == "busy" and cid in view.held
        assert service.calls[cid].state == "connected"
        await cust.send({"type": "voice_hangup", "conversation_id": cid})
        await closed(kit, cid)
