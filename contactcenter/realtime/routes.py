"""The websocket endpoint: hello (auth + resume), then frames until close or heartbeat timeout."""

from __future__ import annotations

import asyncio
import contextlib
import time

import orjson
import structlog
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import ValidationError
from starlette.websockets import WebSocketDisconnected

from contactcenter.auth.https import session_token
from contactcenter.auth.origins import cross_site_refused
from contactcenter.auth.service import hash_token, principal_for_token, read_visitor
from contactcenter.bus import Bus
from contactcenter.conversations import reads
from contactcenter.db import Database
from contactcenter.http import ApiError, same_origin
from contactcenter.realtime import monitor
from contactcenter.realtime.admission import SocketCap
from contactcenter.realtime.connection import Connection, Who, with_positions
from contactcenter.realtime.hub import Hub
from contactcenter.realtime.revocation import Revocation
from contactcenter.realtime.schemas import (
    CLOSE_BAD_FRAME,
    CLOSE_FORBIDDEN,
    CLOSE_RATE,
    CLOSE_TOO_BIG,
    CLOSE_UNAUTHORIZED,
    MAX_FRAME_BYTES,
    ErrorFrame,
    Hello,
    Welcome,
)
from contactcenter.realtime.service import FrameContext, FrameHandler, ref_of
from contactcenter.routing import presence as routing
from contactcenter.settings import Settings

router = APIRouter()
log = structlog.get_logger("realtime")
WS_PATH = "/ws"


async def _refuse(ws: WebSocket, code: str, detail: str, close: int) -> None:
    with contextlib.suppress(Exception):
        await ws.send_text(ErrorFrame(code=code, detail=detail).model_dump_json())
        await ws.close(close)


async def _identify(ws: WebSocket, hello: Hello, settings: Settings, db: Database) -> Who | None:
    if hello.token:
        v = read_visitor(
            settings.secret_key.get_secret_value(), hello.token, max_age_s=settings.visitor_token_hours * 3600
        )
        return Who("customer", v.customer_id, "Customer", "customer") if v else None
    token = session_token(ws)
    if not token or not same_origin(ws.headers):  # a cookie-authenticated socket from another site
        return None
    async with db.reader() as s:
        p = await principal_for_token(s, token=token)
    return Who("agent", p.user_id, p.display_name, p.role.value) if p else None


@router.websocket(WS_PATH)
async def websocket(ws: WebSocket) -> None:
    await ws.accept()
    app = ws.app
    if cross_site_refused(ws.headers, app.state.widget_origins):  # before any token is read
        await _refuse(ws, "origin_not_allowed", "this site may not embed the widget", CLOSE_FORBIDDEN)
        return
    cap: SocketCap = app.state.socket_cap
    address = ws.client.host if ws.client else "unknown"
    if not cap.acquire(address):
        await _refuse(ws, "too_many_sockets", f"at most {cap.per_address} open sockets per address", CLOSE_RATE)
        return
    try:
        await _serve(ws)
    finally:
        cap.release(address)


async def _serve(ws: WebSocket) -> None:
    app = ws.app
    settings: Settings = app.state.settings
    db: Database = app.state.db
    bus: Bus = app.state.bus
    hub: Hub = app.state.hub
    timeout = settings.heartbeat_s * 3
    try:
        first = await asyncio.wait_for(ws.receive_text(), timeout)
        if len(first.encode()) > MAX_FRAME_BYTES:
            raise ValueError("hello too big")
        hello = Hello.model_validate_json(first)
    except (TimeoutError, ValidationError, ValueError, KeyError):
        await _refuse(ws, "hello_expected", "the first frame must be a valid hello (protocol v1)", CLOSE_BAD_FRAME)
        return
    except (WebSocketDisconnect, WebSocketDisconnected):
        return
    who = await _identify(ws, hello, settings, db)
    if who is None:
        await _refuse(ws, "not_authenticated", "a valid visitor token or staff session is required", CLOSE_UNAUTHORIZED)
        return
    if who.side == "agent" and who.role == "planner":
        await _refuse(ws, "forbidden", "planners have no conversations", CLOSE_FORBIDDEN)
        return
    heartbeat_s = settings.customer_heartbeat_s if who.side == "customer" else settings.heartbeat_s
    conn = Connection(ws, who, db, hub.registry, heartbeat_s)
    conn.task = asyncio.current_task()
    handler = FrameHandler(FrameContext(conn, db, bus, settings, hub.counts), hub.registry)
    hub.register(conn)
    revocation: Revocation = app.state.revocation
    if who.side == "agent":  # closed when its session ends (logout, deactivation, expiry)
        revocation.track(conn, hash_token(session_token(ws) or ""))
    try:
        async with db.reader() as s:
            # Its open conversations, and one the client was in that closed (or moved) while it was away:
            # say so, with what it missed.
            side = {"customer_id": who.id} if who.side == "customer" else {"agent_id": who.id}
            convs, gone = await reads.for_socket(s, resumed=list(hello.resume), **side)
            both = await with_positions(s, hub.registry, [*convs, *(g for g in gone if conn.owns(g))])
            convs, gone = both[: len(convs)], both[len(convs) :]
        conn.push(Welcome(role=who.role, name=who.name, heartbeat_s=heartbeat_s, conversations=convs))
        for conv in [*convs, *gone]:
            await conn.track(conv, hello.resume.get(conv.id, 0))
        if who.side == "agent" and who.role == "agent":
            await routing.agent_online(db, bus, agent_id=who.id)
        await _receive_loop(ws, conn, handler, bus, db)
    except (WebSocketDisconnect, WebSocketDisconnected):
        pass  # the client left (possibly while answers were still being written): not an error
    except asyncio.CancelledError:
        if not conn.dropped:  # the server is stopping
            raise
        task = asyncio.current_task()
        if task is not None:  # the hub's sweep gave up on this socket: end it like a disconnect
            task.uncancel()
    finally:
        revocation.untrack(conn)
        hub.unregister(conn)
        if conn.monitoring:
            with contextlib.suppress(Exception):
                await monitor.socket_closed(handler.ctx)
        if who.side == "agent" and hub.local_connections(who.id) == 0:
            with contextlib.suppress(Exception):
                await routing.agent_gone(db, bus, agent_id=who.id)
        await conn.finish()


def _ref_in(raw: str) -> str | None:
    """The id a malformed frame names (client_id first), so the client knows which queued frame failed."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(data, dict):
        return None
    for name in ("client_id", "contact_id", "conversation_id"):
        value = data.get(name)
        if isinstance(value, str) and len(value) <= 64:
            return value
    return None


async def _receive_loop(ws: WebSocket, conn: Connection, handler: FrameHandler, bus: Bus, db: Database) -> None:
    # No timeout here: the hub's sweep closes a socket silent for 3 heartbeats, and the receive then ends.
    while conn.close_code is None:
        try:
            raw = await ws.receive_text()
            conn.rx_at = time.monotonic()
        except KeyError:  # a binary frame
            conn.fail("bad_frame", "frames are JSON text", close=CLOSE_BAD_FRAME)
            return
        if len(raw.encode()) > MAX_FRAME_BYTES:
            conn.fail("frame_too_big", f"frames are at most {MAX_FRAME_BYTES} bytes", close=CLOSE_TOO_BIG)
            return
        try:
            frame = handler.registry.parser.validate_json(raw)
        except ValidationError as exc:
            errors = exc.errors()
            # Not JSON, not an object, or no known "type": a protocol violation, not a bad field.
            bad_type = any(
                e.get("type") in ("union_tag_invalid", "union_tag_not_found", "json_invalid", "model_type", "dict_type")
                and len(e.get("loc", ())) <= 1
                for e in errors
            )
            if bad_type:
                conn.fail("bad_frame", "not a protocol v1 frame", close=CLOSE_BAD_FRAME)
                return
            detail = "; ".join(f"{'.'.join(map(str, e['loc'][1:] or e['loc']))}: {e['msg']}" for e in errors[:3])
            conn.fail("invalid_frame", detail, ref=_ref_in(raw))
            if conn.frames.take() is False and conn.frames.flooding:
                conn.fail("rate_limited", "too many bad frames", close=CLOSE_RATE)
            continue
        if conn.is_agent and conn.who.role == "agent" and time.monotonic() - conn.presence_at > 1.0:
            conn.presence_at = time.monotonic()
            with contextlib.suppress(Exception):  # presence catches up on the next frame after a bus outage
                await routing.heartbeat(db, bus, agent_id=conn.who.id)
        try:
            await handler.handle(frame)
        except ApiError as exc:  # a refusal a handler did not turn into an error frame itself
            conn.fail(exc.code, str(exc.detail), ref=ref_of(frame))
        except Exception:
            # One failing frame (a bug in a handler, a database hiccup) must not end the socket: log it and
            # tell the client which frame failed; it may resend it (client ids make that safe).
            log.exception("frame_failed", frame=getattr(frame, "type", "?"), side=conn.who.side)
            conn.fail("internal", "the server failed on this frame; try again", ref=ref_of(frame))
