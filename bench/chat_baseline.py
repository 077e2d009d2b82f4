"""The floor for bench/chat.py: a bare websocket relay on the same stack, with no storage and no routing.

A Starlette websocket endpoint under uvicorn with the websocket implementation the real server uses
(`contactcenter serve` runs uvicorn with ws="websockets-sansio", ws_max_size=65536, per-message deflate
off and no server pings, and so does this relay). It speaks just enough of protocol v1 (docs/protocol.md)
for the same load driver:

- `hello` -> `welcome` (the visitor token or the `cc_session` cookie is only a name: nothing is checked);
- `ping` -> `pong`;
- `start` -> pair the customer with the least-loaded connected agent (held in memory) and send both a
  `conversation` frame with status `assigned`;
- `send` -> next seq in memory, `message` to the paired agent, `sent` + the `message` echo to the customer
  (the same frames the real server sends for a customer message);
- `ack` -> `read` to both sides (as the real server does).

Run by bench/chat.py as `python bench/chat_baseline.py --port N [--ws websockets-sansio|wsproto]`.
"""

from __future__ import annotations

import argparse
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import uvicorn
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect


@dataclass
class Conv:
    id: str
    customer: WebSocket
    agent: WebSocket
    agent_key: str
    seq: int = 0
    # When the relay "assigned" it (at start), for the benchmark's assignment-to-frame time.
    assigned_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())


@dataclass
class Relay:
    capacity: int
    agents: dict[str, set[WebSocket]] = field(default_factory=dict)
    loads: dict[str, int] = field(default_factory=dict)
    convs: dict[str, Conv] = field(default_factory=dict)
    by_customer: dict[str, str] = field(default_factory=dict)


def _conv_frame(conv: Conv, customer_key: str) -> str:
    return json.dumps(
        {
            "type": "conversation",
            "conversation": {
                "id": conv.id,
                "customer_id": customer_key,
                "status": "assigned",
                "agent_id": conv.agent_key,
                "last_seq": conv.seq,
                "assigned_at": conv.assigned_at,
            },
        }
    )


def make_app(capacity: int, heartbeat_s: float, customer_heartbeat_s: float) -> Starlette:
    """The relay announces the same heartbeat periods as the server, so both get the same pings."""
    relay = Relay(capacity=capacity)

    async def endpoint(ws: WebSocket) -> None:
        await ws.accept()
        try:
            hello = json.loads(await ws.receive_text())
        except (WebSocketDisconnect, ValueError):
            return
        token = hello.get("token")
        if token:
            side, key = "customer", str(token)
        else:
            side, key = "agent", ws.cookies.get("cc_session", "")
            relay.agents.setdefault(key, set()).add(ws)
            relay.loads.setdefault(key, 0)
        await ws.send_text(
            json.dumps(
                {
                    "type": "welcome",
                    "v": 1,
                    "role": side,
                    "name": side,
                    "heartbeat_s": customer_heartbeat_s if side == "customer" else heartbeat_s,
                    "conversations": [],
                }
            )
        )
        try:
            while True:
                frame = json.loads(await ws.receive_text())
                kind = frame.get("type")
                if kind == "ping":
                    await ws.send_text(json.dumps({"type": "pong", "t": frame.get("t")}))
                elif kind == "send":
                    conv = relay.convs.get(frame["conversation_id"])
                    if conv is None:
                        continue
                    conv.seq += 1
                    msg = json.dumps(
                        {
                            "type": "message",
                            "message": {
                                "conversation_id": conv.id,
                                "seq": conv.seq,
                                "sender": side,
                                "sender_name": "Customer",
                                "body": frame.get("body", ""),
                                "private": False,
                                "attachments": [],
                                "client_id": frame["client_id"],
                                "at": datetime.now(UTC).isoformat(),
                            },
                        }
                    )
                    await conv.agent.send_text(msg)
                    sent = {"type": "sent", "conversation_id": conv.id, "client_id": frame["client_id"]}
                    await ws.send_text(json.dumps({**sent, "seq": conv.seq, "duplicate": False}))
                    await ws.send_text(msg)
                elif kind == "ack":
                    conv = relay.convs.get(frame["conversation_id"])
                    if conv is None:
                        continue
                    read = {"type": "read", "conversation_id": conv.id, "reader": side, "seq": frame["seq"]}
                    text = json.dumps(read)
                    await conv.customer.send_text(text)
                    await conv.agent.send_text(text)
                elif kind == "start" and side == "customer":
                    conv_id = relay.by_customer.get(key)
                    conv = relay.convs.get(conv_id) if conv_id else None
                    if conv is None:
                        free = [a for a, n in relay.loads.items() if n < relay.capacity and relay.agents.get(a)]
                        if not free:
                            await ws.send_text(json.dumps({"type": "error", "code": "no_agent", "detail": ""}))
                            continue
                        agent_key = min(free, key=lambda a: (relay.loads[a], a))
                        relay.loads[agent_key] += 1
                        agent_ws = next(iter(relay.agents[agent_key]))
                        conv = Conv(id=str(uuid.uuid4()), customer=ws, agent=agent_ws, agent_key=agent_key)
                        relay.convs[conv.id] = conv
                        relay.by_customer[key] = conv.id
                        await agent_ws.send_text(_conv_frame(conv, key))
                    await ws.send_text(_conv_frame(conv, key))
        except WebSocketDisconnect:
            pass
        finally:
            if side == "agent":
                relay.agents.get(key, set()).discard(ws)

    return Starlette(routes=[WebSocketRoute("/ws", endpoint)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ws", default="websockets-sansio", help="uvicorn websocket implementation")
    parser.add_argument("--capacity", type=int, default=10)
    parser.add_argument("--heartbeat", type=float, default=5.0, help="staff sockets' ping period, s")
    parser.add_argument("--customer-heartbeat", type=float, default=15.0, help="customer sockets' ping period, s")
    args = parser.parse_args()
    uvicorn.run(
        make_app(args.capacity, args.heartbeat, args.customer_heartbeat),
        host=args.host,
        port=args.port,
        log_level="warning",
        ws=args.ws,
        ws_max_size=65_536,
        ws_per_message_deflate=False,  # as contactcenter serve: same socket stack, same memory per socket
        ws_ping_interval=None,  # as contactcenter serve, whose protocol has its own heartbeat
        ws_ping_timeout=None,
        lifespan="off",
    )


if __name__ == "__main__":
    main()
