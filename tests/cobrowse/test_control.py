"""Remote control during co-browse (issue 15 item 5) over real websockets, on both backends: a second,
separate consent; the agent's clicks and scrolls reach the customer only while it is given. The attacks:
control without consent, while only asked, from another agent or a supervisor, from the customer, forged
consent, after it was taken back, after the session ended, and a flood."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, MutableMapping
from typing import Any

import structlog
from sqlalchemy import select
from structlog.testing import capture_logs

from contactcenter.auth.service import create_user
from contactcenter.ccr.models import Touch
from contactcenter.cobrowse.frames import CONTROL_BURST
from contactcenter.cobrowse.models import CobrowseSession
from contactcenter.settings import Settings
from contactcenter.types import Role
from tests.chat.conftest import Client, Live, customer, staff
from tests.chat.test_chat_flow import make_agent
from tests.cobrowse.test_flow import pinging
from tests.conftest import PASSWORD


@contextlib.contextmanager
def info_logs() -> Iterator[list[MutableMapping[str, Any]]]:
    """What is logged, info lines included (the app's level, configured when it starts, may filter them
    before any processor)."""
    before = structlog.get_config()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.INFO))
    try:
        with capture_logs() as logs:
            yield logs
    finally:
        structlog.configure(**before)


def click(cid: str, x: float = 40, y: float = 50, **extra: Any) -> dict[str, Any]:
    return {"type": "cobrowse_control", "conversation_id": cid, "kind": "click", "x": x, "y": y, **extra}


async def refused(c: Client, frame: dict[str, Any]) -> str:
    """Send `frame`, return the error code it got; the socket stays open (a ping is answered)."""
    await c.send(frame)
    code = str((await c.next("error"))["code"])
    await c.send({"type": "ping", "t": 7})
    await c.next("pong", t=7)
    return code


async def control_is(cust: Client, agent: Client, value: str) -> None:
    for c in (cust, agent):
        await c.next("cobrowse_state", control=value)


async def shared_with_control(agent: Client, cust: Client) -> tuple[str, str]:
    """A chat whose page is shared and whose agent was given control: (conversation id, session id)."""
    await cust.send({"type": "start", "topic": "Loans"})
    cid = (await cust.next("conversation"))["conversation"]["id"]
    await agent.next("conversation", timeout=5)
    await agent.send({"type": "cobrowse_request", "conversation_id": cid})
    sid = (await cust.next("cobrowse_state", state="requested"))["session_id"]
    await cust.send({"type": "cobrowse_accept", "conversation_id": cid, "session_id": sid})
    await agent.next("cobrowse_state", state="on")
    await agent.send({"type": "cobrowse_control_request", "conversation_id": cid})
    await cust.next("cobrowse_state", control="asked")
    await cust.send({"type": "cobrowse_control_grant", "conversation_id": cid, "session_id": sid})
    await control_is(cust, agent, "on")
    return cid, sid


async def test_control_needs_its_own_consent_and_ends_when_taken_back(settings: Settings, live: Live) -> None:
    await make_agent(live.app, "cora")
    await make_agent(live.app, "dave")
    async with live.app.state.db.session() as s:
        await create_user(s, username="sam", display_name="Sam", role=Role.supervisor, password=PASSWORD)
    async with (
        staff(live, "cora") as agent,
        customer(live) as (cust, _),
        customer(live) as (other, _other),
        pinging(agent, cust, other),
    ):
        await cust.send({"type": "start", "topic": "Cards"})
        cid = (await cust.next("conversation"))["conversation"]["id"]
        await agent.next("conversation", timeout=5)
        ask = {"type": "cobrowse_control_request", "conversation_id": cid}
        # Nothing to control before the page is shared.
        assert await refused(agent, ask) == "cobrowse_off"
        assert await refused(agent, click(cid)) == "cobrowse_off"
        await agent.send({"type": "cobrowse_request", "conversation_id": cid})
        sid = (await cust.next("cobrowse_state", state="requested"))["session_id"]
        assert await refused(agent, click(cid)) == "cobrowse_off"
        await cust.send({"type": "cobrowse_accept", "conversation_id": cid, "session_id": sid})
        on = await agent.next("cobrowse_state", state="on")
        assert on["control"] == "off"  # sharing the page gives no control

        # Shared, but no second consent: refused.
        assert await refused(agent, click(cid)) == "cobrowse_no_control"
        grant = {"type": "cobrowse_control_grant", "conversation_id": cid, "session_id": sid}
        assert await refused(cust, grant) == "cobrowse_control_not_asked"  # nobody asked
        # The customer cannot ask for the agent nor send control frames; the agent cannot consent.
        assert await refused(cust, ask) == "forbidden"
        assert await refused(cust, click(cid)) == "forbidden"
        with info_logs() as logs:
            await agent.send(ask)
            await control_is(cust, agent, "asked")
            assert await refused(agent, click(cid)) == "cobrowse_no_control"  # asked is not given
            assert await refused(agent, grant) == "forbidden"
            assert await refused(other, grant) == "conversation_not_found"  # another visitor forging it

            await cust.send(grant)
            await control_is(cust, agent, "on")
        assert [e["event"] for e in logs if e["event"].startswith("cobrowse_control")] == [
            "cobrowse_control_asked",
            "cobrowse_control_granted",
        ]
        await agent.send(click(cid, 120.5, 900))
        got = await cust.next("cobrowse_control", kind="click")
        assert (got["x"], got["y"], got["session_id"], got["node"]) == (120.5, 900, sid, None)
        scroll = {"type": "cobrowse_control", "conversation_id": cid, "kind": "scroll", "x": 0, "y": 640, "node": 42}
        await agent.send(scroll)
        got = await cust.next("cobrowse_control", kind="scroll")
        assert (got["y"], got["node"]) == (640, 42)
        # No typing: there is no key frame, and nothing but click and scroll is a control frame.
        assert await refused(agent, {"type": "cobrowse_control", "conversation_id": cid, "kind": "key",
                                     "key": "a"}) == "invalid_frame"  # fmt: skip
        assert await refused(agent, click(cid, -1)) == "invalid_frame"

        # Another agent, and a supervisor (who may watch any conversation), do not get the customer's consent.
        async with staff(live, "dave") as dave:
            assert await refused(dave, click(cid)) == "conversation_not_found"
            assert await refused(dave, ask) == "conversation_not_found"
        async with staff(live, "sam") as sam:
            assert await refused(sam, click(cid)) == "not_your_conversation"
            assert await refused(sam, ask) == "not_your_conversation"

        # A flood on one of the agent's sockets: refused past the limit, the socket stays open.
        async with staff(live, "cora") as cora2:
            n = int(CONTROL_BURST) + 15
            for i in range(n):
                await cora2.send(click(cid, i))
            await cora2.send({"type": "ping", "t": 9})
            await cora2.next("pong", t=9)
            limited = [f for f in cora2.frames if f["type"] == "error" and f["code"] == "rate_limited"]
            assert limited and all("clicks and scrolls" in f["detail"] for f in limited)
            assert len(limited) < n

        # The customer takes control back: the next click is refused, sharing goes on.
        with info_logs() as logs:
            await cust.send({"type": "cobrowse_control_revoke", "conversation_id": cid})
            await control_is(cust, agent, "off")
        assert [e["by"] for e in logs if e["event"] == "cobrowse_control_revoked"] == ["customer"]
        assert await refused(agent, click(cid)) == "cobrowse_no_control"
        assert await refused(cust, grant) == "cobrowse_control_not_asked"  # an old consent cannot be replayed
        # Asked again and declined (No): still refused.
        await agent.send(ask)
        await control_is(cust, agent, "asked")
        await cust.send({"type": "cobrowse_control_revoke", "conversation_id": cid})
        await control_is(cust, agent, "off")
        assert await refused(agent, click(cid)) == "cobrowse_no_control"
        # Given again, then the agent lets go.
        await agent.send(ask)
        await cust.next("cobrowse_state", control="asked")
        await cust.send(grant)
        await control_is(cust, agent, "on")
        await agent.send({"type": "cobrowse_control_revoke", "conversation_id": cid})
        await control_is(cust, agent, "off")
        assert await refused(agent, click(cid)) == "cobrowse_no_control"

        # Given a third time; the session ends: control ends with it, and a new session starts without it.
        await agent.send(ask)
        await cust.next("cobrowse_state", control="asked")
        await cust.send(grant)
        await control_is(cust, agent, "on")
        await cust.send({"type": "cobrowse_stop", "conversation_id": cid})
        ended = await agent.next("cobrowse_state", state="ended")
        assert ended["control"] == "off"
        assert await refused(agent, click(cid)) == "cobrowse_off"
        assert await refused(cust, grant) == "cobrowse_not_found"
        await agent.send({"type": "cobrowse_request", "conversation_id": cid})
        sid2 = (await cust.next("cobrowse_state", state="requested"))["session_id"]
        await cust.send({"type": "cobrowse_accept", "conversation_id": cid, "session_id": sid2})
        assert (await agent.next("cobrowse_state", state="on"))["control"] == "off"
        assert await refused(agent, click(cid)) == "cobrowse_no_control"
        assert not [f for f in other.frames if f["type"].startswith("cobrowse")]
        delivered = [f for f in cust.frames if f["type"] == "cobrowse_control"]
        assert all(f["session_id"] == sid for f in delivered)

    async with live.app.state.db.session() as s:
        row = await s.get(CobrowseSession, sid)
        touch = (await s.scalars(select(Touch).where(Touch.conversation_id == cid, Touch.kind == "cobrowse"))).one()
    assert row is not None and row.control == "off" and row.control_grants == 3
    assert touch.payload["control_grants"] == 3 and touch.payload["control_s"] >= 0
    assert "had control 3 time(s)" in touch.summary


async def test_control_ends_with_the_conversation(settings: Settings, live: Live) -> None:
    await make_agent(live.app, "cora")
    async with staff(live, "cora") as agent, customer(live) as (cust, _), pinging(agent, cust):
        cid, sid = await shared_with_control(agent, cust)
        await agent.send(click(cid))
        await cust.next("cobrowse_control")
        await agent.send({"type": "close", "conversation_id": cid, "outcome": "resolved"})
        while (await agent.next("conversation"))["conversation"]["status"] != "closed":
            pass
        # Refused either way: the conversation is closed, and the close also ends the session (just after it).
        ended = ("cobrowse_off", "cobrowse_not_found")
        assert await refused(agent, click(cid)) in ended
        grant = {"type": "cobrowse_control_grant", "conversation_id": cid, "session_id": sid}
        assert await refused(cust, grant) in ended
