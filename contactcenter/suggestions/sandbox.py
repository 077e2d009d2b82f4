"""Rule runs in worker processes with a time limit (issue 11, item 7).

zen-engine evaluates in Rust and cannot be interrupted from Python, in a thread or otherwise; a planner's
expression that runs for minutes would hold the event loop (every socket of the process) that long. So each
run goes to a small pool of child processes (`python -m contactcenter.suggestions.sandbox`) over a pipe, one
JSON line per request and per answer; the event loop only awaits the pipe. A run that has spent the time
limit in CPU (or ten times it in wall time, whatever the load) gets the worker killed, its memory with it,
and a fresh one started for the next run: the caller hears RuleTimeout. CPU rather than wall time, so a busy
machine does not stop a sound rule.

Each worker keeps the decisions it was sent, by key ("rule@version"); the parent remembers which keys each
worker holds and sends a graph only the first time, so a normal run carries just the facts and the key.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from typing import Any

import orjson
import structlog

log = structlog.get_logger("suggestions.sandbox")
LOAD_TIMEOUT_S = 30.0  # building a decision is bounded by its size (MAX_ROWS), not by the planner's code
MAX_LINE = 256 * 1024 * 1024
WALL_FACTOR = 10


def _cpu_s(pid: int) -> float | None:
    """CPU seconds a process has used (Linux /proc), None where that cannot be read."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


class RuleTimeout(Exception):
    """The run went past the time limit; the worker was killed."""


class RuleError(Exception):
    """zen-engine refused the run (an expression failed for these facts)."""


class _Worker:
    def __init__(self) -> None:
        self.proc: asyncio.subprocess.Process | None = None
        self.keys: set[str] = set()
        self.stale: set[str] = set()  # held by the worker, no longer needed: dropped with the next load

    async def _ensure(self) -> asyncio.subprocess.Process:
        if self.proc is None or self.proc.returncode is not None:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "contactcenter.suggestions.sandbox",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
                limit=MAX_LINE,
            )
            self.keys, self.stale = set(), set()
        return self.proc

    async def call(self, request: dict[str, Any], timeout_s: float) -> Any:
        proc = await self._ensure()
        assert proc.stdin is not None and proc.stdout is not None
        reading: asyncio.Future[bytes] | None = None
        try:
            proc.stdin.write(orjson.dumps(request, default=str) + b"\n")
            await proc.stdin.drain()
            reading = asyncio.ensure_future(proc.stdout.readline())
            await self._wait(proc.pid, reading, timeout_s)
            line = reading.result()
        except BaseException:  # past the limit, cancelled or a broken pipe: the worker's state is unknown
            if reading is not None:
                reading.cancel()
            await self.kill()
            raise
        if not line:
            await self.kill()
            raise RuleError("the rule worker exited")
        answer = orjson.loads(line)
        if not answer["ok"]:
            raise RuleError(answer["error"])
        return answer.get("result")

    @staticmethod
    async def _wait(pid: int, reading: asyncio.Future[bytes], limit_s: float) -> None:
        """Until the answer comes, or the worker has spent `limit_s` of CPU on it: a loaded machine that
        leaves the worker waiting for a core does not stop a rule (wall time is capped at WALL_FACTOR x)."""
        began, spent = time.monotonic(), _cpu_s(pid)
        while True:
            done, _ = await asyncio.wait({reading}, timeout=limit_s)
            if done:
                return
            now = _cpu_s(pid)
            used = now - spent if now is not None and spent is not None else limit_s
            if used >= limit_s * 0.9 or time.monotonic() - began >= limit_s * WALL_FACTOR:
                raise RuleTimeout

    async def kill(self) -> None:
        proc, self.proc, self.keys, self.stale = self.proc, None, set(), set()
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()


class Sandbox:
    """A pool of rule workers; `run` evaluates one decision for one set of facts within `time_limit_s`."""

    def __init__(self, *, workers: int, time_limit_s: float) -> None:
        self.time_limit_s = time_limit_s
        self._all = [_Worker() for _ in range(workers)]
        self._idle: asyncio.Queue[_Worker] = asyncio.Queue()
        for w in self._all:
            self._idle.put_nowait(w)

    async def run(self, key: str, graph: str, facts: dict[str, Any]) -> Any:
        w = await self._idle.get()
        try:
            if key not in w.keys:
                drop, w.stale = sorted(w.stale), set()
                await w.call({"op": "load", "key": key, "graph": graph, "drop": drop}, LOAD_TIMEOUT_S)
                w.keys.add(key)
            return await w.call({"op": "eval", "key": key, "facts": facts}, self.time_limit_s)
        finally:
            self._idle.put_nowait(w)

    def forget(self, keys: set[str]) -> None:
        """Versions no longer in force: each worker drops them with its next load."""
        for w in self._all:
            w.stale |= w.keys & keys
            w.keys -= keys

    async def close(self) -> None:
        for w in self._all:
            await w.kill()


def _die_with_parent() -> None:
    """Linux: the kernel kills this worker when the app process dies, even by SIGKILL, so a runaway run does
    not go on burning a core for minutes as an orphan."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # the parent was already gone before prctl
        sys.exit(0)


def _serve() -> None:
    """The worker's loop: load and evaluate decisions, one request at a time, until stdin closes."""
    import zen

    _die_with_parent()
    # Prepared contents through a loader: zen's fast path (a decision built from text per call is ~100x slower).
    contents: dict[str, zen.ZenDecisionContent] = {}
    engine = zen.ZenEngine({"loader": lambda key: contents[key]})
    for line in sys.stdin.buffer:
        try:
            req = orjson.loads(line)
            if req["op"] == "load":
                for old in req["drop"]:
                    contents.pop(old, None)
                contents[req["key"]] = zen.ZenDecisionContent(req["graph"])
                answer: dict[str, Any] = {"ok": True}
            else:
                answer = {"ok": True, "result": engine.evaluate(req["key"], req["facts"])["result"]}
        except Exception as exc:
            answer = {"ok": False, "error": str(exc).split("Stack backtrace", 1)[0].strip()[:300]}
        try:
            out = orjson.dumps(answer, default=str)
        except TypeError as exc:  # orjson.JSONEncodeError: a number beyond 64 bits, say
            out = orjson.dumps({"ok": False, "error": f"unencodable result: {exc}"})
        sys.stdout.buffer.write(out + b"\n")
        sys.stdout.buffer.flush()


if __name__ == "__main__":
    _serve()
