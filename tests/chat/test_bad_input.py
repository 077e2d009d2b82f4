"""Bad input on the chat websocket: each gets the documented error or close code and never touches stored data."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import os
import socket
import time
from typing import Any

import httpx
import pytest
import websockets
from sqlalchemy import func, select

from contactcenter.auth.service import sign_visitor
from contactcenter.channels.chat import service as chat
from contactcenter.channels.chat.batch import PostIn, post_messages
from contactcenter.channels.chat.models import ChatMessage
from contactcenter.channels.chat.schemas import SenderKind
from contactcenter.conversations import service as conversations
from contactcenter.conversations.schemas import ConversationOut
from contactcenter.types import Role
from tests.chat.conftest import Client, Live, customer, staff
from tests.chat.multiproc import (
    check_server_frame,
    make_staff,
    read_until_closed,
    send_and_read_close,
    visitor_token,
)
from tests.conftest import PASSWORD

# Refusals decided before any storage or bus call: one backend is enough for them.
memory_only = pytest.mark.parametrize("settings", ["sqlite+memory"], indirect=True)


async def start_chat(c: Client) -> str:
    await c.send({"type": "start", "name": "Ann"})
    conv_id: str = (await c.next("conversation"))["conversation"]["id"]
    return conv_id


async def conversation_row(live: Live, conversation_id: str) -> ConversationOut:
    """The conversation as stored, with its chat thread's numbering and read positions."""
    async with live.app.state.db.session() as s:
        return await chat.with_positions(s, await conversations.get(s, conversation_id=conversation_id))


async def stored_bodies(live: Live, conversation_id: str) -> list[str]:
    async with live.app.state.db.session() as s:
        rows = await s.scalars(
            select(ChatMessage).where(ChatMessage.conversation_id == conversation_id).order_by(ChatMessage.seq)
        )
        return [r.body for r in rows]


async def history(live: Live, token: str, conversation_id: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=live.base) as h:
        r = await h.get(
            f"/api/chat/conversations/{conversation_id}/messages", headers={"Authorization": f"Bearer {token}"}
        )
        assert r.status_code == 200, r.text
        got: list[dict[str, Any]] = r.json()
        return got


async def roundtrip(c: Client) -> None:
    """A ping answered proves the socket is open and every earlier frame was handled."""
    t = time.time()
    await c.send({"type": "ping", "t": t})
    await c.next("pong", t=t)


async def refused(live: Live, first: str | bytes, **connect: Any) -> tuple[list[dict[str, Any]], int]:
    async with websockets.connect(live.ws_url, **connect) as ws:
        with contextlib.suppress(websockets.ConnectionClosed):  # some refusals come before the first frame
            await ws.send(first)
        return await read_until_closed(ws)


def hello(token: str | None) -> str:
    return json.dumps({"type": "hello", "v": 1, "token": token, "resume": {}})


async def test_overlong_body_is_a_per_frame_error_and_the_socket_stays_usable(live: Live) -> None:
    async with customer(live) as (c, _):
        cid = await start_chat(c)
        await c.send({"type": "send", "conversation_id": cid, "client_id": "long", "body": "x" * 4001})
        err = await c.next("error")
        assert err["code"] == "invalid_frame" and "body" in err["detail"]
        await roundtrip(c)
        sent = await c.say(cid, "x" * 4000)  # the limit itself is fine
        assert sent["seq"] == 1
    assert await stored_bodies(live, cid) == ["x" * 4000]


@memory_only
@pytest.mark.parametrize("body", ["x" * 17_000, "€" * 6000], ids=["ascii", "multibyte"])
async def test_frame_over_16_kib_is_closed_with_1009(live: Live, body: str) -> None:
    async with customer(live) as (c, _):
        cid = await start_chat(c)
        # Raw UTF-8 on the wire: 6,000 "€" is 18,000 bytes though only 6,000 characters.
        frame = json.dumps(
            {"type": "send", "conversation_id": cid, "client_id": "big", "body": body}, ensure_ascii=False
        )
        assert len(frame.encode()) > 16_384
        frames, code = await send_and_read_close(c.ws, frame)
    assert code == 1009, frames
    assert frames[-1]["type"] == "error" and frames[-1]["code"] == "frame_too_big"
    assert await stored_bodies(live, cid) == []


@memory_only
async def test_binary_frame_closes_4400(live: Live) -> None:
    async with customer(live) as (c, _):
        frames, code = await send_and_read_close(c.ws, b'{"type": "ping"}')
    assert code == 4400 and frames[-1]["code"] == "bad_frame"


@memory_only
async def test_binary_first_frame_closes_4400(live: Live) -> None:
    token = await visitor_token(live.base)
    frames, code = await refused(live, hello(token).encode())
    assert code == 4400 and [f["code"] for f in frames] == ["hello_expected"]


@memory_only
async def test_not_json_or_an_unknown_type_closes_4400(live: Live) -> None:
    for raw in ["not json", '{"type": "ping"', '{"type": "nonsense"}', "{}", '{"type": 5}']:
        async with customer(live) as (c, _):
            frames, code = await send_and_read_close(c.ws, raw)
        assert code == 4400 and frames[-1]["code"] == "bad_frame", (raw, frames)


@memory_only
async def test_json_that_is_not_an_object_closes_4400(live: Live) -> None:
    # docs/protocol.md: every frame is one JSON text *object* with a "type"; anything else is not a frame.
    for raw in ["[]", "42", '"ping"', "null"]:
        async with customer(live) as (c, _):
            frames, code = await send_and_read_close(c.ws, raw)
        assert code == 4400 and frames[-1]["code"] == "bad_frame", (raw, frames)


@memory_only
async def test_second_hello_closes_4400(live: Live) -> None:
    async with customer(live) as (c, token):
        frames, code = await send_and_read_close(c.ws, hello(token))
    assert code == 4400 and frames[-1]["code"] == "out_of_order"


@memory_only
async def test_send_before_hello_closes_4400(live: Live) -> None:
    frame = json.dumps({"type": "send", "conversation_id": "abc", "client_id": "x", "body": "hi"})
    frames, code = await refused(live, frame)
    assert code == 4400 and [f["code"] for f in frames] == ["hello_expected"]


@memory_only
async def test_no_hello_within_three_heartbeats_closes_4400(live: Live) -> None:
    live.app.state.settings.heartbeat_s = 0.5  # read per connection: the hello deadline is 1.5 s
    t0 = time.monotonic()
    async with websockets.connect(live.ws_url) as ws:
        frames, code = await read_until_closed(ws, timeout=10)
    waited = time.monotonic() - t0
    assert code == 4400 and [f["code"] for f in frames] == ["hello_expected"]
    assert 1.2 < waited < 8, waited


@memory_only
async def test_a_socket_silent_for_three_heartbeats_is_closed_4408_and_a_pinging_one_is_not(live: Live) -> None:
    # Customers' period, announced in welcome. 1 s against pings every 0.1 s: only a 3 s stall of the
    # machine could make the pinging socket look silent (0.4 s against 0.3 s pings left 1.2 s).
    live.app.state.settings.customer_heartbeat_s = 1.0
    silent_token, pinging_token = await visitor_token(live.base), await visitor_token(live.base)
    async with websockets.connect(live.ws_url) as silent, websockets.connect(live.ws_url) as pinging:
        for ws, token in ((silent, silent_token), (pinging, pinging_token)):
            await ws.send(hello(token))
            assert json.loads(await ws.recv())["heartbeat_s"] == 1.0
        t0 = time.monotonic()
        closed = asyncio.create_task(read_until_closed(silent, timeout=30))
        pings = 0
        while not closed.done():  # ping until the silent one is closed, however long that takes
            pings += 1
            await pinging.send(json.dumps({"type": "ping", "t": pings}))
            assert json.loads(await pinging.recv()) == {"type": "pong", "t": pings}
            await asyncio.sleep(0.1)
        frames, code = await closed
        assert code == 4408 and [f["code"] for f in frames] == ["heartbeat_timeout"]
        assert time.monotonic() - t0 >= 3 * 0.9  # silent for three heartbeats first
        await pinging.send(json.dumps({"type": "ping", "t": 0}))
        assert json.loads(await pinging.recv()) == {"type": "pong", "t": 0}


@memory_only
async def test_forged_or_tampered_visitor_token_closes_4401(live: Live) -> None:
    token = await visitor_token(live.base)
    other = await visitor_token(live.base)
    payload, stamp, sig = token.split(".")
    other_customer = json.loads(base64.urlsafe_b64decode(other.split(".")[0] + "=="))["c"]
    swapped = base64.urlsafe_b64encode(json.dumps({"v": "x", "c": other_customer}).encode()).decode().rstrip("=")
    bad = [
        f"{payload}.{stamp}.{sig[:-2]}{'AB' if sig[-2:] != 'AB' else 'CD'}",  # signature altered
        f"{swapped}.{stamp}.{sig}",  # someone else's customer id under this signature
        sign_visitor("another-secret-" + "y" * 40, visitor_id="x", customer_id=other_customer),
        "garbage",
        "",
    ]
    for forged in bad:
        frames, code = await refused(live, hello(forged))
        assert (code, [f["code"] for f in frames]) == (4401, ["not_authenticated"]), forged


async def test_a_visitor_cannot_touch_another_customers_conversation(live: Live) -> None:
    async with customer(live) as (owner, _), customer(live) as (intruder, _):
        cid = await start_chat(owner)
        await owner.say(cid, "private matter")
        attempts = [
            {"type": "send", "conversation_id": cid, "client_id": "evil-1", "body": "hijack"},
            {"type": "ack", "conversation_id": cid, "seq": 1},
            {"type": "typing", "conversation_id": cid, "state": True},
            {"type": "close", "conversation_id": cid},
        ]
        for frame in attempts:
            await intruder.send(frame)
            err = await intruder.next("error")
            # ref names what the error is about: the conversation (or, for a send, its client_id)
            assert err["code"] == "conversation_not_found" and err["ref"] in (cid, frame.get("client_id")), frame
        await roundtrip(intruder)
        await roundtrip(owner)
        assert not [f for f in owner.frames if f["type"] in ("typing", "read")]
        assert not intruder.messages(cid)
    row = await conversation_row(live, cid)
    assert (row.status, row.last_seq, row.customer_read_seq) == ("queued", 1, 0)
    assert await stored_bodies(live, cid) == ["private matter"]


async def test_resume_naming_another_customers_conversation_reveals_nothing(live: Live) -> None:
    async with customer(live) as (owner, _):
        cid = await start_chat(owner)
        await owner.say(cid, "private matter")
    async with customer(live, resume={cid: 0}) as (intruder, _):
        await roundtrip(intruder)
        welcome = intruder.frames[0]
        assert welcome["type"] == "welcome" and welcome["conversations"] == []
        assert [f["type"] for f in intruder.frames] == ["welcome", "pong"]


async def test_an_agent_cannot_write_into_a_conversation_not_assigned_to_them(live: Live) -> None:
    holder, other = await make_staff(live.app), await make_staff(live.app)
    async with staff(live, holder) as agent, customer(live) as (c, _):
        cid = await start_chat(c)
        assert (await agent.next("conversation"))["conversation"]["id"] == cid
        async with staff(live, other) as intruder:
            await intruder.send({"type": "send", "conversation_id": cid, "client_id": "x-1", "body": "hi"})
            err = await intruder.next("error")
            assert err["code"] == "conversation_not_found" and err["ref"] in (cid, "x-1")
            await intruder.send({"type": "close", "conversation_id": cid})
            assert (await intruder.next("error"))["code"] == "conversation_not_found"
            await roundtrip(intruder)
            assert not intruder.messages(cid)
    row = await conversation_row(live, cid)
    assert (row.status, row.last_seq) == ("assigned", 0)


async def test_a_frame_flood_gets_rate_limited_then_closed_4429_and_stored_messages_survive(live: Live) -> None:
    async with customer(live) as (c, token):
        cid = await start_chat(c)
        for i in range(3):
            await c.say(cid, f"before flood {i}")
        before = await history(live, token, cid)
        with contextlib.suppress(websockets.ConnectionClosed):
            for _ in range(400):
                await c.ws.send(json.dumps({"type": "ping", "t": 1.0}))
        frames, code = await read_until_closed(c.ws)
    errors = [f["code"] for f in frames if f["type"] == "error"]
    assert code == 4429
    assert errors and set(errors) == {"rate_limited"}
    assert any(f["type"] == "pong" for f in frames)  # the first ones were served
    assert await history(live, token, cid) == before
    assert [m["body"] for m in before] == [f"before flood {i}" for i in range(3)]
    async with customer(live, token=token) as (back, _):  # the visitor can come back at once
        await roundtrip(back)


@memory_only
async def test_a_flood_of_invalid_frames_is_closed_as_a_flood_4429(live: Live) -> None:
    async with customer(live) as (c, _):
        junk = json.dumps({"type": "ping", "t": "not a number"})
        frames, code = await send_and_read_close(c.ws, *[junk] * 400)
    assert frames[-1]["code"] == "rate_limited"
    assert code == 4429  # docs/protocol.md: rate_limited <-> 4429 "frame flood"


async def test_message_flood_over_several_sockets_hits_the_per_visitor_limit(live: Live) -> None:
    token = await visitor_token(live.base)
    async with contextlib.AsyncExitStack() as stack:
        socks = [(await stack.enter_async_context(customer(live, token=token)))[0] for _ in range(5)]
        cid = await start_chat(socks[0])
        for k, s in enumerate(socks):  # 14 each: under the per-socket burst of 15, 70 in all
            for i in range(14):
                body = {"type": "send", "conversation_id": cid, "client_id": f"s{k}-{i}", "body": f"{k}/{i}"}
                await s.send(body)
        outcomes: list[dict[str, Any]] = []
        for s in socks:
            for _ in range(14):
                async with asyncio.timeout(5):
                    while True:
                        f = json.loads(await s.ws.recv())
                        if f["type"] in ("sent", "error"):
                            outcomes.append(f)
                            break
        for s in socks:
            await roundtrip(s)  # per-frame errors: every socket is still open
    sent = [f for f in outcomes if f["type"] == "sent"]
    limited = [f for f in outcomes if f["type"] == "error"]
    assert len(sent) == 60 and {f["code"] for f in limited} == {"rate_limited"} and len(limited) == 10
    assert sorted(f["seq"] for f in sent) == list(range(1, 61))
    async with live.app.state.db.session() as s:
        assert await s.scalar(select(func.count()).where(ChatMessage.conversation_id == cid)) == 60


async def test_html_and_script_are_stored_and_returned_verbatim(live: Live) -> None:
    evil = "<script>alert('x')</script><img src=x onerror=alert(1)> &amp; & \"quoted\" </textarea>"
    agent_name = await make_staff(live.app)
    async with staff(live, agent_name) as agent, customer(live) as (c, token):
        await c.send({"type": "start", "name": "Ann <b>bold</b>"})
        conv = (await c.next("conversation"))["conversation"]
        assert conv["customer_name"] == "Ann <b>bold</b>"
        cid = conv["id"]
        await agent.next("conversation")
        await c.say(cid, evil)
        got = await agent.next("message")
        assert got["message"]["body"] == evil
    assert await stored_bodies(live, cid) == [evil]
    assert [m["body"] for m in await history(live, token, cid)] == [evil]


async def test_ack_beyond_last_seq_is_refused_and_read_positions_do_not_move(live: Live) -> None:
    agent_name = await make_staff(live.app)
    async with staff(live, agent_name) as agent, customer(live) as (c, _):
        cid = await start_chat(c)
        await agent.next("conversation")
        await c.say(cid, "one")
        await agent.say(cid, "two")
        await c.send({"type": "ack", "conversation_id": cid, "seq": 2})
        assert (await agent.next("read"))["seq"] == 2
        for side, seq in ((c, 3), (c, 10**12), (agent, 3)):
            await side.send({"type": "ack", "conversation_id": cid, "seq": seq})
            err = await side.next("error")
            assert err["code"] == "bad_ack" and err["ref"] == cid
            await roundtrip(side)
        await roundtrip(agent)
        assert [f["seq"] for f in agent.frames if f["type"] == "read"] == [2]
        # The sockets are still fine, and a valid ack still moves the position.
        await agent.send({"type": "ack", "conversation_id": cid, "seq": 2})
        assert (await c.next("read"))["seq"] == 2
        # A socket is not told of its own acknowledgement, only of the other side's.
        await roundtrip(agent)
        assert [(f["reader"], f["seq"]) for f in agent.frames if f["type"] == "read"] == [("customer", 2)]
        assert [(f["reader"], f["seq"]) for f in c.frames if f["type"] == "read"] == [("agent", 2)]
    row = await conversation_row(live, cid)
    assert (row.last_seq, row.customer_read_seq, row.agent_read_seq) == (2, 2, 2)


@memory_only
async def test_a_planner_socket_is_refused_4403(live: Live) -> None:
    planner = await make_staff(live.app, Role.planner)
    async with httpx.AsyncClient(base_url=live.base) as h:
        assert (await h.post("/api/session", json={"username": planner, "password": PASSWORD})).is_success
        cookie = h.cookies.get("cc_session")
    frames, code = await refused(live, hello(None), additional_headers={"Cookie": f"cc_session={cookie}"})
    assert (code, [f["code"] for f in frames]) == (4403, ["forbidden"])


@memory_only
async def test_a_staff_socket_from_a_foreign_origin_is_refused(live: Live) -> None:
    name = await make_staff(live.app)
    async with httpx.AsyncClient(base_url=live.base) as h:
        assert (await h.post("/api/session", json={"username": name, "password": PASSWORD})).is_success
        cookie = h.cookies.get("cc_session")
    headers = {"Cookie": f"cc_session={cookie}"}
    # A site that may not embed the widget: refused before the hello is read.
    frames, code = await refused(live, hello(None), additional_headers=headers, origin="http://evil.example")
    assert (code, [f["code"] for f in frames]) == (4403, ["origin_not_allowed"])
    # A site that may embed the widget gets customer sockets only: a staff cookie from it is not a session.
    live.app.state.widget_origins = frozenset({"http://shop.example"})
    frames, code = await refused(live, hello(None), additional_headers=headers, origin="http://shop.example")
    assert (code, [f["code"] for f in frames]) == (4401, ["not_authenticated"])
    # The same session from the page's own origin is let in.
    async with websockets.connect(live.ws_url, additional_headers=headers, origin=live.base) as ws:
        await ws.send(hello(None))
        assert check_server_frame(await ws.recv())["type"] == "welcome"


async def test_control_characters_in_a_message_are_kept_or_refused_never_a_server_error(live: Live) -> None:
    # JSON allows "\u0000" and other control characters in strings; PostgreSQL text cannot hold NUL. Whatever the
    # backend, the answer must be a stored message that reads back identical, or a per-frame invalid_frame.
    tricky = ["line\r\nbreaks\ttabs", "\u2028\u2029 separators", "bell \x07 escape \x1b[31m", "nul \x00 inside"]
    async with customer(live) as (c, token):
        cid = await start_chat(c)
        outcomes: dict[str, str] = {}
        for i, body in enumerate(tricky):
            await c.send({"type": "send", "conversation_id": cid, "client_id": f"ctl-{i}", "body": body})
            f = await sent_or_error(c)
            outcomes[body] = f["type"] if f["type"] == "sent" else f["code"]
        await roundtrip(c)  # the socket survived all of it
    assert set(outcomes.values()) <= {"sent", "invalid_frame"}, outcomes
    stored = {m["body"] for m in await history(live, token, cid)}
    assert stored == {body for body, outcome in outcomes.items() if outcome == "sent"}
    assert outcomes[tricky[0]] == outcomes[tricky[1]] == "sent"


async def test_control_characters_in_a_new_chat_are_kept_or_refused_never_a_server_error(live: Live) -> None:
    async with customer(live) as (c, _):
        await c.send({"type": "start", "name": "Ann \x00 Nul", "topic": "Loans\x00", "page_url": "/x\x00"})
        f = await sent_or_error(c, also="conversation")
        if f["type"] == "conversation":
            assert f["conversation"]["customer_name"] == "Ann \x00 Nul"
        else:
            assert f["code"] == "invalid_frame", f
        await roundtrip(c)


async def sent_or_error(c: Client, also: str = "sent") -> dict[str, Any]:
    """The next `also` frame or error; a socket closed instead (a crash) fails the test with its close code."""
    async with asyncio.timeout(5):
        while True:
            try:
                f = check_server_frame(await c.ws.recv())
            except websockets.ConnectionClosed as exc:
                raise AssertionError(f"the server closed the socket ({exc.rcvd}) instead of answering") from exc
            if f["type"] == also or f["type"] == "error":
                return f


@memory_only
async def test_a_client_leaving_while_answers_are_in_flight_is_not_logged_as_a_server_error(
    live: Live, caplog: pytest.LogCaptureFixture
) -> None:
    # Browsers close tabs mid-conversation all the time: that is a disconnect, not "Exception in ASGI application".
    for _ in range(3):
        async with customer(live) as (c, _):
            for _ in range(20):
                await c.send({"type": "ping", "t": 1.0})
        for _ in range(250):  # until the server has let go of the socket
            if not live.app.state.hub.connections:
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.2)  # the handler has returned (or raised) by now
    errors = [f"{r.name}: {r.getMessage()} {r.exc_info[1]!r}" for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []


@memory_only
async def test_a_silent_peer_that_reads_nothing_is_dropped_although_its_close_cannot_be_sent(live: Live) -> None:
    """A peer gone half-open with a full send buffer never lets the 4408 close through: the sweep then stops
    serving the socket anyway, so it does not linger until TCP gives up."""
    live.app.state.settings.customer_heartbeat_s = 0.4
    token = await visitor_token(live.base)
    async with customer(live, token) as (c, _):
        cid = await start_chat(c)
        customer_id = (await conversation_row(live, cid)).customer_id
    body = "x" * 3900
    async with live.app.state.db.session() as s:  # a long history, so that catching up fills every buffer
        await post_messages(
            s,
            live.app.state.bus,
            posts=[PostIn(cid, SenderKind.customer, customer_id, "Ann", body, f"h{i}") for i in range(1900)],
        )
    hub = live.app.state.hub
    # A raw client that says hello, then never reads a byte (its receive window stays tiny).
    loop = asyncio.get_running_loop()
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)  # the server runs on this test's event loop
    await loop.sock_connect(sock, ("127.0.0.1", int(live.base.rsplit(":", 1)[1])))
    key = base64.b64encode(os.urandom(16)).decode()
    await loop.sock_sendall(
        sock,
        f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode(),
    )
    assert (await loop.sock_recv(sock, 12)) == b"HTTP/1.1 101"
    payload, mask = hello(token).encode(), os.urandom(4)
    assert len(payload) < 65536
    header = bytes([0x81, 0x80 | 126]) + len(payload).to_bytes(2, "big") + mask
    await loop.sock_sendall(sock, header + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))
    try:
        async with asyncio.timeout(10):
            while not (conns := [x for x in hub.connections if x.who.id == customer_id]):  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        conn = conns[0]
        # The server's catch-up fills every buffer on the way, then its frames wait in the socket's queue.
        async with asyncio.timeout(10):
            while not conn.out:  # noqa: ASYNC110 - polling server state: nothing to wait on
                await asyncio.sleep(0.05)
        async with asyncio.timeout(10):
            while conn in hub.connections:  # noqa: ASYNC110
                await asyncio.sleep(0.1)
    finally:
        sock.close()
        assert conn.dropped or conn.close_code is not None


async def test_a_start_with_a_bad_page_or_queue_is_refused_and_opens_nothing(live: Live) -> None:
    async with customer(live) as (c, _):
        for bad in ({"page_url": "javascript:alert(1)"}, {"page_url": "x" * 501}, {"queue": "Not A Queue!"}):
            await c.send({"type": "start", "name": "Pat", **bad})
            assert (await c.next("error"))["code"] == "invalid_frame", bad
        await c.send({"type": "start", "name": "Pat", "queue": "nowhere"})
        f = await c.next("error")
        assert (f["code"], f["ref"]) == ("queue_not_found", "start")
        await roundtrip(c)
        assert not [f for f in c.frames if f["type"] == "conversation"]
        await c.send({"type": "start", "name": "Pat", "page_url": "https://www.bank.example/savings"})
        conv = (await c.next("conversation"))["conversation"]
        assert (conv["page_url"], conv["queue"]) == ("https://www.bank.example/savings", "general")


async def test_the_start_frames_language_is_a_short_tag_stored_on_the_conversation(live: Live) -> None:
    long_but_well_formed = "en-" + "-".join(["abcdefgh"] * 4)  # 38 characters
    async with customer(live) as (c, _):
        for bad in ("fr_FR", "<b>fr</b>", "français", "e", "en--GB", long_but_well_formed, "en-GB\x00"):
            await c.send({"type": "start", "name": "Léa", "lang": bad})
            assert (await c.next("error"))["code"] == "invalid_frame", bad
        await roundtrip(c)
        assert not [f for f in c.frames if f["type"] == "conversation"]
        await c.send({"type": "start", "name": "Léa", "lang": "FR-ca"})
        conv = (await c.next("conversation"))["conversation"]
        assert conv["lang"] == "fr-CA"  # in its usual case, as every reader gets it
        assert (await conversation_row(live, conv["id"])).lang == "fr-CA"
