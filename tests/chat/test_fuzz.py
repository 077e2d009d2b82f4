"""Hypothesis against a live server: whatever a client sends, the server answers only with valid protocol frames,
closes only with a documented code (never 1011), keeps what it acknowledged, and leaves others' chats intact.

The server runs in the test's event loop; hypothesis drives a client from a worker thread (its own event loop), one
fresh websocket per example, so many examples share one server per backend.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
import websockets
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from contactcenter.channels.chat.models import ChatMessage
from contactcenter.routing import service as routing
from contactcenter.settings import Settings
from tests.chat.conftest import Live, customer, staff
from tests.chat.multiproc import (
    CLOSE_ERRORS,
    PER_FRAME_ERRORS,
    make_staff,
    send_and_read_close,
    staff_login,
    visitor_token,
)
from tests.chat.test_bad_input import conversation_row

FRAME_TYPES = ["hello", "ping", "start", "send", "ack", "typing", "close"]
FIELDS = [
    "v",
    "token",
    "resume",
    "t",
    "name",
    "email",
    "topic",
    "page_url",
    "conversation_id",
    "client_id",
    "body",
    "attachments",
    "private",
    "seq",
    "state",
]


class ServerErrors(logging.Handler):
    """Collects ERROR records the server logs (an exception escaping the websocket handler lands here)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


# Placeholders the strategies use, replaced at send time by the current ids (the fuzz may close its own chat).
MINE, PROTECTED, MISSING = (f"feed0000-0000-4000-8000-00000000000{i}" for i in range(1, 4))
TOKEN = "FUZZ-VISITOR-TOKEN"
# Text that has broken servers before: NUL, bidi overrides, astral and private-use characters, markup, SQL.
ODD_TEXTS = [
    "\x00",
    "a\x00b",
    "\u202eevil\u202c",
    "\U0001f600\U0010ffff",
    "\ufeff\ufffe",
    "<script>alert(1)</script>",
    "'; DROP TABLE chat_messages; --",
    "%s %(x)s {0} ${x}",
]


@dataclass
class World:
    base: str
    fuzz_token: str  # the visitor the fuzz speaks as
    mine: str  # that visitor's open conversation
    protected: str  # someone else's conversation: the fuzz must never change it
    forged_token: str  # the protected conversation's owner token, tampered with
    agent_cookie: str  # an agent the fuzz speaks as
    sent: list[dict[str, Any]] = field(default_factory=list)
    closes: Counter[int | None] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    server_errors: ServerErrors = field(default_factory=ServerErrors)

    @property
    def ws_url(self) -> str:
        return self.base.replace("http", "ws", 1) + "/ws"

    def fill(self, frame: str | bytes) -> str | bytes:
        if isinstance(frame, bytes):
            return frame
        for k, v in ((MINE, self.mine), (PROTECTED, self.protected), (TOKEN, self.fuzz_token)):
            frame = frame.replace(k, v)
        return frame

    async def renew(self) -> None:
        """A new visitor with a new open chat, when the fuzz closed its own."""
        self.fuzz_token = await visitor_token(self.base)
        async with websockets.connect(self.ws_url) as ws:
            await ws.send(json.dumps({"type": "hello", "v": 1, "token": self.fuzz_token, "resume": {}}))
            await ws.send(json.dumps({"type": "start"}))
            while (f := json.loads(await ws.recv()))["type"] != "conversation":
                pass
            self.mine = f["conversation"]["id"]


def json_values() -> st.SearchStrategy[Any]:
    leaves = (
        st.none()
        | st.booleans()
        | st.integers(min_value=-(2**80), max_value=2**80)
        | st.floats(allow_nan=True, allow_infinity=True)
        | st.text(max_size=40)
    )
    return st.recursive(
        leaves,
        lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids, max_size=4),
        max_leaves=15,
    )


def frames(world: World) -> tuple[st.SearchStrategy[list[str]], st.SearchStrategy[str | bytes]]:
    """(a list of well-formed frames with odd content, a close maybe last; anything at all)."""
    ids = st.sampled_from([MINE, MINE, PROTECTED, MISSING])
    tokens = st.sampled_from([TOKEN, TOKEN + "x", world.forged_token]) | st.text(max_size=30)
    client_ids = st.from_regex(r"[A-Za-z0-9_.:-]{1,64}", fullmatch=True)
    any_value = json_values() | ids | tokens | client_ids
    # A real type with any mix of known and junk fields, right or wrong types.
    protocolish = st.builds(
        lambda t, fs: json.dumps({**fs, "type": t}),
        st.sampled_from([*FRAME_TYPES, "pong", "welcome", "message", "error", "", "PING"]) | json_values(),
        st.dictionaries(st.sampled_from([*FIELDS, "junk", "__proto__"]) | st.text(max_size=6), any_value, max_size=6),
    )
    texts = st.text(max_size=300) | st.sampled_from(ODD_TEXTS)
    optional_text = st.none() | texts
    # Frames that pass validation, to reach the handlers with odd content.
    send = st.builds(
        lambda cid, client, body, att, private: {
            "type": "send",
            "conversation_id": cid,
            "client_id": client,
            "body": body,
            "attachments": att,
            "private": private,
        },
        st.just(MINE) | ids,
        client_ids,
        st.text(min_size=1, max_size=300) | st.sampled_from(ODD_TEXTS),
        st.sampled_from([[], [], []]) | st.lists(ids | st.text(max_size=36), max_size=5),
        st.sampled_from([False, False, False]) | st.booleans(),
    )
    plausible = st.one_of(
        send,
        send,
        send,
        st.builds(
            lambda cid, seq: {"type": "ack", "conversation_id": cid, "seq": seq},
            ids,
            st.integers(min_value=0, max_value=2**70),
        ),
        st.builds(lambda cid, s: {"type": "typing", "conversation_id": cid, "state": s}, ids, st.booleans()),
        st.builds(
            lambda n, e, t, p: {"type": "start", "name": n, "email": e, "topic": t, "page_url": p},
            optional_text,
            optional_text,
            optional_text,
            optional_text,
        ),
        st.builds(lambda t: {"type": "ping", "t": t}, st.none() | st.floats() | st.integers(-(2**70), 2**70)),
    ).map(lambda f: json.dumps(f, ensure_ascii=False))
    closes = st.builds(lambda cid: json.dumps({"type": "close", "conversation_id": cid}), ids)
    hellos = st.builds(
        lambda tok, resume: json.dumps({"type": "hello", "v": 1, "token": tok, "resume": resume}),
        tokens,
        st.dictionaries(ids, st.integers(min_value=0, max_value=2**62), max_size=3),
    )
    huge = st.builds(
        lambda ch, n, wrap: json.dumps({"type": "send", "body": ch * n}) if wrap else ch * n,
        st.sampled_from(["a", "€", "\x00", "𝄞", '"', "\\"]),
        st.integers(min_value=4001, max_value=40_000),
        st.booleans(),
    )
    nested = st.builds(
        lambda depth, kind: (
            "[" * depth + "]" * depth
            if kind == 0
            else '{"type": "ping", "t": ' + '{"a": ' * depth + "1" + "}" * depth + "}"
            if kind == 1
            else json.dumps({"type": "send", "conversation_id": MINE, "client_id": "n", "body": "x"}).replace(
                '"x"', "[" * depth + "]" * depth
            )
        ),
        st.integers(min_value=1, max_value=3000),
        st.integers(min_value=0, max_value=2),
    )
    prefix = '{"type": "send", "conversation_id": "' + MINE + '", "client_id": "esc", "body": '
    odd_escapes = st.sampled_from(['"\\ud800"', '"\\udfff\\ud800"', '"\\u0000"', '"\\x41"', "NaN", "1e999"]).map(
        lambda v: prefix + v + "}"
    )
    well_formed = st.builds(
        lambda xs, last: xs + last, st.lists(plausible, min_size=1, max_size=10), st.lists(closes, max_size=1)
    )
    return well_formed, st.one_of(
        plausible,
        plausible,
        plausible,
        closes,
        hellos,
        texts,
        json_values().map(lambda v: json.dumps(v)),
        protocolish,
        huge,
        nested,
        odd_escapes,
        st.binary(max_size=64),
    )


def scripts(world: World) -> st.SearchStrategy[tuple[str, list[str | bytes]]]:
    well_formed, anything = frames(world)
    return st.one_of(
        # "none": the fuzzed frames come before any hello.
        st.tuples(st.sampled_from(["customer", "customer", "agent", "none"]), st.lists(anything, max_size=8)),
        # Only frames that pass validation, so that handlers, storage and fan-out get the odd content.
        st.tuples(st.sampled_from(["customer", "agent"]), well_formed),
    )


def _client_went_away(record: logging.LogRecord) -> bool:
    # A known server bug, tested on its own in test_bad_input.py (a client closing while the server still writes is
    # logged as "Exception in ASGI application"); here it would only turn up by the luck of timing.
    exc = record.exc_info[1] if record.exc_info else None
    return type(exc).__name__ == "WebSocketDisconnected"


async def play(world: World, auth: str, script: list[str | bytes]) -> None:
    headers = {"Cookie": f"cc_session={world.agent_cookie}"} if auth == "agent" else None
    opening: list[str | bytes] = []
    if auth == "customer":
        opening.append(json.dumps({"type": "hello", "v": 1, "token": world.fuzz_token, "resume": {}}))
    elif auth == "agent":
        opening.append(json.dumps({"type": "hello", "v": 1, "resume": {}}))
    logged = len(world.server_errors.records)
    async with websockets.connect(world.ws_url, additional_headers=headers, max_size=None) as ws:
        got, code = await send_and_read_close(ws, *opening, *map(world.fill, script), timeout=15)
    await asyncio.sleep(0.03)  # let the server finish with this socket
    new = [r for r in world.server_errors.records[logged:] if not _client_went_away(r)]
    assert not new, f"the server logged {[r.getMessage() for r in new]}: {new[0].exc_info!r}"
    world.closes[code] += 1
    errors = [f["code"] for f in got if f["type"] == "error"]
    world.errors.update(errors)
    world.sent.extend(f for f in got if f["type"] == "sent")
    if any(f["type"] == "conversation" and f["conversation"]["status"] == "closed" for f in got):
        await world.renew()
    if auth != "none":
        assert got and got[0]["type"] == "welcome", got[:2]
    # Messages arrive in seq order, each once per socket; a customer never sees a private note.
    by_conv: dict[str, list[int]] = {}
    for m in (f["message"] for f in got if f["type"] == "message"):
        by_conv.setdefault(m["conversation_id"], []).append(m["seq"])
        assert not (auth == "customer" and m["private"]), m
    for seqs in by_conv.values():
        assert seqs == sorted(set(seqs)), seqs
    if code is None:  # still open: it answered the closing ping, and every error was about one frame
        assert set(errors) <= PER_FRAME_ERRORS, errors
        return
    assert code in CLOSE_ERRORS, f"undocumented close code {code} after {got[-3:]}"
    assert set(errors[:-1]) <= PER_FRAME_ERRORS, errors
    if CLOSE_ERRORS[code]:
        assert errors and errors[-1] in CLOSE_ERRORS[code], (code, errors)


async def history(base: str, token: str, conversation_id: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=base) as h:
        r = await h.get(
            f"/api/chat/conversations/{conversation_id}/messages", headers={"Authorization": f"Bearer {token}"}
        )
        assert r.status_code == 200, r.text
        got: list[dict[str, Any]] = r.json()
        return got


async def test_fuzzed_clients_never_break_the_server_or_stored_chats(roomy_limits: Settings, live: Live) -> None:
    # Before the fuzz: a conversation with stored messages that belongs to nobody the fuzz speaks as.
    keeper = await make_staff(live.app)
    async with staff(live, keeper) as agent, customer(live) as (owner, owner_token):
        await owner.send({"type": "start", "name": "Owner <i>"})
        protected = (await owner.next("conversation"))["conversation"]["id"]
        await agent.next("conversation")
        for i in range(3):
            await owner.say(protected, f"owner says {i} <script>x</script>")
            await agent.say(protected, f"agent says {i}")
        await agent.say(protected, "private note", private=True)
    before = await history(live.base, owner_token, protected)
    assert len(before) == 6

    fuzz_agent = await make_staff(live.app)
    cookie, _ = await staff_login(live.base, fuzz_agent)
    world = World(
        base=live.base,
        fuzz_token="",
        mine="",
        protected=protected,
        forged_token=owner_token[:-4] + ("AAAA" if not owner_token.endswith("AAAA") else "BBBB"),
        agent_cookie=cookie,
    )
    await world.renew()

    @settings(
        max_examples=120,
        deadline=None,
        database=None,
        # The same scripts every run: a random draw that rarely reached the storage path failed CI by chance.
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
    )
    @given(scripts(world))
    # Inputs that have broken servers before run every time, whatever the random search finds.
    @example(("customer", [json.dumps({"type": "send", "conversation_id": MINE, "client_id": "n1", "body": "a\x00b"})]))
    @example(("customer", [json.dumps({"type": "start", "name": "\x00", "topic": "\x00"})]))
    @example(("agent", [json.dumps({"type": "send", "conversation_id": MINE, "client_id": "n2", "body": "\u202e"})]))
    @example(("none", ['{"type": "ping"}', json.dumps({"type": "hello", "v": 1, "token": TOKEN, "resume": {}})]))
    def fuzz(script: tuple[str, list[str | bytes]]) -> None:
        asyncio.run(play(world, *script))

    logging.getLogger().addHandler(world.server_errors)
    try:
        await asyncio.to_thread(fuzz)
    finally:
        logging.getLogger().removeHandler(world.server_errors)
    unexpected = [r for r in world.server_errors.records if not _client_went_away(r)]
    assert not unexpected, [r.getMessage() for r in unexpected]
    assert len(world.sent) >= 10, "the fuzz hardly reached the storage path: fix the strategies"
    print(f"\nfuzz: closes {dict(world.closes)}; errors {dict(world.errors)}; {len(world.sent)} sent")

    # Every `sent` the fuzz saw is stored under that seq (acknowledged means stored).
    async with live.app.state.db.session() as s:
        for f in world.sent:
            row = await s.scalar(
                select(ChatMessage).where(
                    ChatMessage.conversation_id == f["conversation_id"], ChatMessage.seq == f["seq"]
                )
            )
            assert row is not None and row.client_id == f["client_id"], f
    conv = await conversation_row(live, protected)
    assert (conv.status, conv.last_seq, conv.customer_read_seq) == ("assigned", 7, 0)
    # The protected conversation reads back identical (for its customer: without the private note).
    assert await history(live.base, owner_token, protected) == before

    # And a fresh, normal chat still works end to end (the fuzz may have left chats queued: room for them all).
    # Routing reads the chat capacity when an agent comes online (the keeper reconnects below).
    routing.of(live.app.state.bus).chat_capacity = 50
    async with staff(live, keeper) as agent, customer(live) as (cust, _):
        await cust.send({"type": "start", "name": "After"})
        cid = (await cust.next("conversation"))["conversation"]["id"]
        while (await agent.next("conversation"))["conversation"]["id"] != cid:
            pass
        assert (await cust.say(cid, "still there?"))["seq"] == 1
        while not agent.messages(cid):  # (it may be catching up on chats the fuzz left queued)
            await agent.next("message")
        assert [m["body"] for m in agent.messages(cid)] == ["still there?"]
        await agent.say(cid, "yes")
        while len(cust.messages(cid)) < 2:
            await cust.next("message")
        assert [m["body"] for m in cust.messages(cid)] == ["still there?", "yes"]
