"""A small real back office for the tests: an HTTP server on loopback (stdlib, in a thread) that answers the
REST connector's two calls, and can be told to hang, answer garbage or refuse."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class BackOfficeState:
    orders: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    stock: dict[str, int] = field(default_factory=dict)
    mode: str = "ok"  # ok | hang | garbage | error
    token: str = "bo-token"
    release: threading.Event = field(default_factory=threading.Event)  # lets hung requests finish at the end
    paths: list[str] = field(default_factory=list)
    auth: list[str] = field(default_factory=list)


def _handler(state: BackOfficeState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args: Any) -> None:
            pass

        def _send(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            state.paths.append(self.path)
            state.auth.append(self.headers.get("Authorization", ""))
            if state.mode == "hang":
                state.release.wait(30)
                return
            if state.mode == "garbage":
                return self._send(200, b'{"orders": [{"ref": 1, "amount": "lots"}]')
            if state.mode == "error":
                return self._send(503, b"{}")
            if self.headers.get("Authorization") != f"Bearer {state.token}":
                return self._send(401, b"{}")
            url = urlsplit(self.path)
            if url.path == "/orders":
                q = parse_qs(url.query)
                found = state.orders.get((q["kind"][0], q["value"][0]), [])
                return self._send(200, json.dumps({"orders": found}).encode())
            if url.path.startswith("/stock/"):
                sku = url.path.removeprefix("/stock/")
                if sku not in state.stock:
                    return self._send(404, b"{}")
                return self._send(200, json.dumps({"sku": sku, "available": state.stock[sku]}).encode())
            return self._send(404, b"{}")

    return Handler


@contextmanager
def back_office() -> Iterator[tuple[str, BackOfficeState]]:
    state = BackOfficeState()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", state
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()
