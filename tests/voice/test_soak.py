"""Calls one after another leave nothing behind: after them, this process holds no live call, no peer
connection object, no voice task and no open recording, as before the first (issue 13: "after 100 calls, peer
connections, tasks and memory are back at their starting level"; 20 here, on each backend)."""

from __future__ import annotations

import asyncio
import gc

from aiortc import RTCPeerConnection
from sqlalchemy import func, select

from contactcenter.channels.voice import service
from contactcenter.channels.voice.models import CallHost
from tests.chat.conftest import Live, customer, staff
from tests.chat.test_chat_flow import make_agent
from tests.cobrowse.test_flow import pinging
from tests.voice.peers import near
from tests.voice.test_call import AGENT_HZ, CUSTOMER_HZ, answer, closed, peers, place_call

CALLS = 20


def peer_connections() -> int:
    gc.collect()
    return sum(isinstance(o, RTCPeerConnection) for o in gc.get_objects())


def voice_tasks() -> list[str]:
    return sorted(n for t in asyncio.all_tasks() if (n := t.get_name()).startswith("voice-"))


async def test_calls_leave_no_peer_connection_task_or_file_behind(live: Live) -> None:
    await make_agent(live.app, "sam")
    before, tasks_before = peer_connections(), voice_tasks()  # the host's lease and listeners run throughout
    async with staff(live, "sam") as agent, pinging(agent):
        for i in range(CALLS):
            async with customer(live) as (cust, _t), peers(CUSTOMER_HZ, AGENT_HZ) as (cp, ap):
                cid = await place_call(cust, cp)
                await answer(agent, ap, cid)
                await cp.hears(near(AGENT_HZ), frames=3)
                side = cust if i % 2 else agent  # hang-ups from both sides
                await side.send({"type": "voice_hangup", "conversation_id": cid})
                await agent.next("voice_state", state="ended", conversation_id=cid, timeout=10)
                await closed(agent, cid)  # the end's last step: the call is done with
                del cp, ap
    assert service.calls == {}
    assert voice_tasks() == tasks_before
    assert peer_connections() == before
    async with live.app.state.db.session() as s:
        reasons = list(await s.scalars(select(CallHost.reason).where(CallHost.ended_at.is_not(None))))
        still_open = await s.scalar(select(func.count()).select_from(CallHost).where(CallHost.ended_at.is_(None)))
    assert reasons == ["hangup"] * CALLS and still_open == 0  # every call's ownership row closed by its end
    recordings = live.app.state.settings.voice_recordings_dir
    assert len(list(recordings.glob("*.wav"))) == CALLS and list(recordings.glob("*.part")) == []
