"""A real HTTP receiver on 127.0.0.1, in a thread: answers from a script (status codes, Retry-After, a hang
that outlasts the sender's timeout), then 200; checks every signature itself with `standardwebhooks`."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

HANG = -1  # a scripted answer: keep the request open until the test ends (the sender times out)


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    verified: bool


@dataclass
class Receiver:
    port: int = 0
    secret: str | None = None
    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)  # answers before 200s
    got: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    release: threading.Event = field(default_factory=threading.Event)
    hung: int = 0  # requests held open by a HANG answer

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def verify(self, headers: dict[str, str], body: bytes) -> bool:
        if self.secret is None:
            return False
        try:
            Webhook(self.secret).verify(body, headers)
        except WebhookVerificationError:
            return False
        return True

    async def until(self, n: int, timeout: float = 20.0) -> list[Received]:
        """Wait (polling, with a deadline) until `n` requests were answered; returns them. Async: the sender
        runs on the test's own loop."""
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                if len(self.got) >= n:
                    return list(self.got)
            if time.monotonic() > deadline:
                raise AssertionError(f"receiver answered {len(self.got)} of {n} requests")
            await asyncio.sleep(0.02)

    def ids(self) -> list[str]:
        with self.lock:
            return [r.headers["webhook-id"] for r in self.got]


def _handler(rx: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            with rx.lock:
                status, extra = rx.script.pop(0) if rx.script else (200, {})
            if status == HANG:
                with rx.lock:
                    rx.hung += 1
                rx.release.wait(60)
                return
            with rx.lock:
                rx.got.append(Received(headers=headers, body=body, verified=rx.verify(headers, body)))
            self.send_response(status)
            for k, v in extra.items():
                self.send_header(k, v)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

    return Handler


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # the default backlog of 5 refused some of a worker's parallel attempts


@contextlib.contextmanager
def running() -> Iterator[Receiver]:
    rx = Receiver()
    server = _Server(("127.0.0.1", 0), _handler(rx))
    server.daemon_threads = True
    rx.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield rx
    finally:
        rx.release.set()
        server.shutdown()
        server.server_close()
