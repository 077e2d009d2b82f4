"""A call whose bridging process is gone (its lease ran out: killed, or stalled that long) is ended once, by
whichever process claims it first (decision 57): both sides hear `worker_lost`, the conversation closes,
the agent is free, one touch says so. Two processes reaping at once log it once; the host that was only
slow and ends the call itself afterwards logs nothing more. On each backend."""

from __future__ import annotations

import asyncio

from sqlalchemy import select, update

from contactcenter.ccr.models import Touch
from contactcenter.channels.voice import service
from contactcenter.channels.voice.lines import LOST, Lines
from contactcenter.channels.voice.models import CallHost
from tests.chat.conftest import Live, customer, staff
from tests.chat.test_chat_flow import make_agent
from tests.cobrowse.test_flow import pinging
from tests.voice.peers import near
from tests.voice.test_call import AGENT_HZ, CUSTOMER_HZ, answer, closed, peers, place_call


async def test_a_call_of_a_process_gone_is_ended_once_for_both_sides(live: Live) -> None:
    await make_agent(live.app, "gail")
    db, bus, settings = live.app.state.db, live.app.state.bus, live.app.state.settings
    async with (
        staff(live, "gail") as agent,
        customer(live) as (cust, _t),
        pinging(agent, cust),
        peers(CUSTOMER_HZ, AGENT_HZ) as (cp, ap),
    ):
        cid = await place_call(cust, cp)
        await answer(agent, ap, cid)
        await cp.hears(near(AGENT_HZ))
        # As if the call had been bridged by a process that holds no lease any more.
        async with db.session() as s:
            await s.execute(update(CallHost).where(CallHost.conversation_id == cid).values(host_id="gone"))
            await s.commit()
        web_a, web_b = Lines(db, bus, settings, None), Lines(db, bus, settings, None)
        await asyncio.gather(web_a.reap(), web_b.reap())  # two web processes notice at the same moment
        for side in (cust, agent):
            ended = await side.next("voice_state", state="ended", conversation_id=cid, timeout=10)
            assert (ended["reason"], ended["ended_by"]) == (LOST, "system")
        await closed(agent, cid)
        # The media here was still up (a host that was only slow): it hears the close and ends it too.
        async with asyncio.timeout(10):
            while cid in service.calls:  # noqa: ASYNC110 - the call's own end task: nothing to wait on
                await asyncio.sleep(0.02)

    async with db.session() as s:
        touches = list(await s.scalars(select(Touch).where(Touch.conversation_id == cid, Touch.kind == "call")))
        row = await s.get(CallHost, cid)
    ends = [t.payload for t in touches if "reason" in t.payload]
    assert [p["reason"] for p in ends] == [LOST], ends  # once, and not the host's own end after it
    assert row is not None and row.reason == LOST

    # The agent is free: the next call reaches them.
    async with (
        staff(live, "gail") as agent,
        customer(live) as (cust, _t),
        pinging(agent, cust),
        peers(CUSTOMER_HZ, AGENT_HZ) as (cp, ap),
    ):
        cid2 = await place_call(cust, cp)
        await answer(agent, ap, cid2)
        await cp.hears(near(AGENT_HZ))
        await cust.send({"type": "voice_hangup", "conversation_id": cid2})
        await agent.next("voice_state", state="ended", conversation_id=cid2, timeout=10)
