"""Routing over the websocket with a live server: offers pushed to the agent, accept / decline and state
frames, refusals as error frames, supervisors' sockets see every routing event, a closed console goes
offline."""

from __future__ import annotations

from typing import Any

from contactcenter.auth.service import create_user
from contactcenter.routing import service as routing
from contactcenter.routing.models import AgentProfile
from contactcenter.types import Role
from tests.chat.conftest import Client, Live, customer, live, staff
from tests.conftest import PASSWORD

__all__ = ["live"]


async def event(c: Client, type_: str) -> dict[str, Any]:
    """The next routing event of this type on the socket (others, like state echoes, are skipped)."""
    while True:
        f = await c.next("routing", timeout=10)
        if f["event"]["type"] == type_:
            return dict(f["event"])


async def _user(live: Live, name: str, role: Role, *, manual: bool = False) -> int:
    async with live.app.state.db.session() as s:
        u = await create_user(s, username=name, display_name=name.title(), role=role, password=PASSWORD)
        if manual:
            prof = AgentProfile(user_id=u.id, skills={}, capacity=1.0, weights={}, auto_accept=False)
            await routing.put_profile(s, live.app.state.bus, profile=prof)
        return u.id


async def test_offer_pushed_then_accepted_over_the_socket(live: Live) -> None:
    uid = await _user(live, "olga", Role.agent, manual=True)
    await _user(live, "sam", Role.supervisor)
    async with staff(live, "sam") as sup:
        await _offered_accepted_away(live, sup, uid)
        # The console closed: the agent is offline at once (the supervisor's socket hears it).
        ev = await event(sup, "routing.agent_state")
        while ev["agent_id"] != uid or ev["state"] != "offline":
            ev = await event(sup, "routing.agent_state")
    view = await routing.of(live.app.state.bus).backend.agent(uid)
    assert view is not None and view.state.value == "offline"


async def _offered_accepted_away(live: Live, sup: Client, uid: int) -> None:
    async with staff(live, "olga") as agent, customer(live) as (cust, _):
        await cust.send({"type": "start", "name": "Ann", "topic": "Loans"})
        conv = (await cust.next("conversation"))["conversation"]["id"]
        offer = await event(agent, "routing.offer")
        assert (offer["contact_id"], offer["agent_id"]) == (conv, uid)
        # The supervisor's socket sees the offer too (the wallboard listens there).
        assert (await event(sup, "routing.offer"))["contact_id"] == conv
        await agent.send({"type": "offer_accept", "contact_id": conv})
        assigned = await agent.next("conversation", timeout=10)
        assert assigned["conversation"]["status"] == "assigned" and assigned["conversation"]["agent_id"] == uid
        # Accepting again is refused with an error frame; the socket stays usable.
        await agent.send({"type": "offer_accept", "contact_id": conv})
        err = await agent.next("error", ref=conv)
        assert err["code"] == "offer_withdrawn"
        await agent.send({"type": "agent_state", "state": "away", "reason": "break"})
        ev = await event(agent, "routing.agent_state")
        while ev["state"] != "away":
            ev = await event(agent, "routing.agent_state")
        assert ev["reason"] == "break"
        # Customers have no routing state.
        await cust.send({"type": "agent_state", "state": "available"})
        assert (await cust.next("error", ref="agent_state"))["code"] == "forbidden"


async def test_declined_over_the_socket_goes_to_the_next_agent(live: Live) -> None:
    first = await _user(live, "ann", Role.agent, manual=True)
    second = await _user(live, "bob", Role.agent, manual=True)
    async with staff(live, "ann") as a, staff(live, "bob") as b, customer(live) as (cust, _):
        await cust.send({"type": "start", "name": "Cy"})
        conv = (await cust.next("conversation"))["conversation"]["id"]
        assert (await event(a, "routing.offer"))["agent_id"] == first
        await a.send({"type": "offer_decline", "contact_id": conv})
        ev = await event(b, "routing.offer")
        assert (ev["contact_id"], ev["agent_id"]) == (conv, second)
        await b.send({"type": "offer_accept", "contact_id": "not-a-contact"})
        assert (await b.next("error", ref="not-a-contact"))["code"] == "offer_withdrawn"
