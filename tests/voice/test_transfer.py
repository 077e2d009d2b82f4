"""Transfer keeps the customer's leg: the first agent's leg ends, the customer hears the music, the second
agent answers and is heard; the recording has silence (not a gap) while nobody held the call. Closing the
conversation through the core's close frame ends the call too."""

from __future__ import annotations

from contactcenter.channels.voice import recording, service
from contactcenter.channels.voice.media import RATE
from contactcenter.settings import Settings
from tests.chat.conftest import Live, customer, staff
from tests.chat.test_chat_flow import make_agent
from tests.cobrowse.test_flow import pinging
from tests.voice.peers import near, silent
from tests.voice.test_call import AGENT_HZ, CUSTOMER_HZ, OTHER_AGENT_HZ, answer, closed, peers, place_call


async def test_transfer_to_another_agent_keeps_the_customer_leg(live: Live, voice_settings: Settings) -> None:
    first = await make_agent(live.app, "fay")
    async with (
        staff(live, "fay") as fay,
        customer(live) as (cust, _t),
        pinging(fay, cust),
        peers(CUSTOMER_HZ, AGENT_HZ, OTHER_AGENT_HZ) as (cp, fp, gp),
    ):
        cid = await place_call(cust, cp)
        await answer(fay, fp, cid)
        await cp.hears(near(AGENT_HZ))
        second = await make_agent(live.app, "gus")
        assert second != first
        async with staff(live, "gus") as gus, pinging(gus):
            await gus.next("routing")  # his console is online in routing (his state), so he can be named
            await fay.send({"type": "voice_transfer", "conversation_id": cid, "agent_id": second})
            await cust.next("voice_state", state="transferring")
            await cp.hears(lambda h: not silent(h) and not near(AGENT_HZ)(h))  # the music while it moves
            customer_leg = service.calls[cid].customer
            await answer(gus, gp, cid)
            await cust.next("voice_state", state="connected", agent_name="Gus")
            await cp.hears(near(OTHER_AGENT_HZ))
            await gp.hears(near(CUSTOMER_HZ))
            assert service.calls[cid].customer is customer_leg  # the same peer connection throughout
            assert service.calls[cid].stats.agents == [first, second]
            # Fay no longer holds it: her frames are refused.
            await fay.send({"type": "voice_hold", "conversation_id": cid, "on": True})
            assert (await fay.next("error"))["code"] in ("forbidden", "conversation_not_found")
            # Gus closes the conversation with the core's close frame: the call ends with it.
            await gus.send({"type": "close", "conversation_id": cid})
            ended = await cust.next("voice_state", state="ended")
            assert ended["reason"] == "closed"
            await closed(gus, cid)
    assert cid not in service.calls
    left, right = recording.channels(service.recording_path(voice_settings, cid))
    assert len(left) == len(right) > RATE // 2
