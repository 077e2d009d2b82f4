"""The plug-in point: a channel registered from a test module, with no change to realtime, routing or
suggestions code, gets its conversations offered, delivered, resumed and closed like chat's."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import websockets
from sqlalchemy import select

from contactcenter.ccr.models import Touch
from contactcenter.settings import Settings
from tests.chat.conftest import Client, Live, customer, serve, staff
from tests.chat.test_chat_flow import make_agent
from tests.conversations.echo_channel import EchoCapability


def lines(c: Client, conversation_id: str) -> list[tuple[int, str]]:
    return [
        (f["seq"], f["text"]) for f in c.frames if f["type"] == "echo_line" and f["conversation_id"] == conversation_id
    ]


async def closed_frame(c: Client) -> dict[str, Any]:
    while (f := (await c.next("conversation"))["conversation"])["status"] != "closed":
        pass
    return f


async def say(c: Client, conversation_id: str, text: str) -> None:
    await c.send({"type": "echo_say", "conversation_id": conversation_id, "text": text})


async def test_a_channel_from_outside_the_package_is_offered_delivered_resumed_and_closed(settings: Settings) -> None:
    echo = EchoCapability()
    async with serve(settings, extra=[echo]) as live:
        await make_agent(live.app, "erin")
        async with customer(live) as (cust, _):
            async with staff(live, "erin") as agent:
                await cust.send({"type": "echo_open"})
                opened = (await cust.next("conversation"))["conversation"]
                cid = opened["id"]
                assert (opened["channel"], opened["queue"]) == ("echo", "general")
                # Routed like any other contact: the online agent gets it (auto-accept).
                assigned = await agent.next("conversation", timeout=10)
                assert (assigned["conversation"]["id"], assigned["conversation"]["status"]) == (cid, "assigned")
                await say(cust, cid, "one")
                await agent.next("echo_line")
                assert lines(agent, cid) == [(1, "one")]
            # The agent is away while the customer says two more; on return it resumes after line 1 only.
            await say(cust, cid, "two")
            await say(cust, cid, "three")
            await cust.next("echo_line", seq=3)
            async with staff(live, "erin", resume={cid: 1}) as back:
                welcome = back.frames[-1]
                assert [(c["id"], c["last_seq"]) for c in welcome["conversations"]] == [(cid, 3)]
                await back.next("echo_line", seq=3)
                assert lines(back, cid) == [(2, "two"), (3, "three")]
                # Closed with a wrap-up outcome through the core's frame; both sides hear it.
                await back.send({"type": "close", "conversation_id": cid, "outcome": "resolved", "note": "sorted"})
                assert (await closed_frame(back))["outcome"] == "resolved"
                assert (await closed_frame(cust))["outcome_note"] == "sorted"
        assert echo.closed == [cid]
        async with live.app.state.db.session() as s:
            touches = list(await s.scalars(select(Touch).where(Touch.conversation_id == cid)))
        assert [(t.channel, t.summary) for t in touches] == [
            ("web", "Echo closed by agent after 3 lines: Resolved (sorted)")
        ]
        assert touches[0].payload["outcome"] == "resolved"


async def raw(live: Live, token: str, *frames: dict[str, Any] | str) -> tuple[list[dict[str, Any]], int | None]:
    """Send frames after hello, then a ping; the frames until the pong (or the close) and the close code."""
    got: list[dict[str, Any]] = []
    async with websockets.connect(live.ws_url) as ws:
        await ws.send(json.dumps({"type": "hello", "v": 1, "token": token, "resume": {}}))
        for f in (*frames, {"type": "ping", "t": 1}):
            await ws.send(f if isinstance(f, str) else json.dumps(f))
        try:
            while (f := json.loads(await ws.recv()))["type"] != "pong":
                got.append(f)
        except websockets.ConnectionClosed as exc:
            return got, exc.rcvd.code if exc.rcvd else None
    return got, None


async def test_bad_frames_for_a_channel_get_clear_errors_and_the_socket_stays_usable(settings: Settings) -> None:
    async with serve(settings, extra=[EchoCapability()]) as live:
        async with customer(live) as (cust, token):
            await cust.send({"type": "echo_open"})
            cid = (await cust.next("conversation"))["conversation"]["id"]
            # A handler that raises: an error frame naming the conversation; the same socket still answers.
            got, code = await raw(live, token, {"type": "echo_boom", "conversation_id": cid})
            assert code is None and [(f["code"], f["ref"]) for f in got if f["type"] == "error"] == [("internal", cid)]
            # A queue that does not exist: refused by the core, nothing opened.
            got, code = await raw(live, token, {"type": "echo_open", "queue": "nowhere"})
            errors = [f for f in got if f["type"] == "error"]
            assert code is None and [e["code"] for e in errors] == ["queue_not_found"]
            assert [f["conversation"]["id"] for f in got if f["type"] == "conversation"] == [cid]  # the open one
            # A field the channel's frame does not have: invalid_frame, with what it refers to.
            got, code = await raw(live, token, {"type": "echo_say", "conversation_id": cid, "text": 1, "x": 2})
            assert code is None and [(f["code"], f["ref"]) for f in got if f["type"] == "error"] == [
                ("invalid_frame", cid)
            ]
    # Without the channel registered its frames are not protocol frames at all.
    async with serve(settings) as live:
        async with customer(live) as (_, token):
            got, code = await raw(live, token, {"type": "echo_open"})
            assert code == 4400 and got[-1]["code"] == "bad_frame"


async def test_a_capability_adds_its_part_to_the_widget_without_editing_the_widget(settings: Settings) -> None:
    async with serve(settings, extra=[EchoCapability()]) as live, httpx.AsyncClient(base_url=live.base) as http:
        body = (await http.get("/widget.js")).text
    # Served inside the widget's one function, after registerPart is defined and before widget.js starts the
    # parts; the core's parts (documents') are registered the same way.
    at = body.index('registerPart({ name: "echo"')
    assert body.index("function registerPart(") < at < body.index("const parts = WIDGET_PARTS.map(")
    assert body.index('registerPart({ name: "documents"') < body.index("const parts = WIDGET_PARTS.map(")
    assert body.count('name: "echo"') == 1


def test_the_widgets_own_script_names_no_capabilitys_part() -> None:
    """Every part (calls, invitations, documents, co-browse, CSAT) plugs in through registerPart: the widget's
    own script calls none of them by name and knows no channel but chat."""
    source = (Path(__file__).resolve().parents[2] / "web" / "widget" / "widget.js").read_text()
    for name in ("makeVoice", "makeInvite", "makeDocuments", "makeCsat", "makeCobrowse", "INVITE_CSS", "voice"):
        assert name not in source, name
