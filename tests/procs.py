"""Real app processes (the `contactcenter` command under uvicorn) for multi-process tests."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from tests.services import free_port

ROOT = Path(__file__).resolve().parent.parent
# Every visitor of a test comes from 127.0.0.1: servers of tests about something else lift the per-address
# flood limits (tests/chat/test_visitor_limits.py tests them, at the defaults' scale and lower).
ROOMY_VISITOR_LIMITS = {
    "CC_VISITOR_TOKENS_PER_MINUTE": "100000",
    "CC_CHAT_OPEN_PER_ADDRESS": "100000",
    "CC_CHAT_NEW_PER_ADDRESS_PER_HOUR": "100000",
    "CC_CHAT_NEW_PER_QUEUE_PER_MINUTE": "100000",
}


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "contactcenter", *args],
        env={**os.environ, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


@contextlib.contextmanager
def app_process(env: dict[str, str], log_path: Path | None = None) -> Iterator[str]:
    """Start `contactcenter serve` on a free loopback port; yields its base URL; SIGKILL-safe cleanup.

    Its output goes to `log_path` (default var/proc-PORT.log)."""
    port = free_port()
    (ROOT / "var").mkdir(exist_ok=True)  # a fresh clone has no var/ yet
    log = open(log_path or ROOT / "var" / f"proc-{port}.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "contactcenter", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env={**os.environ, "CC_LOG_JSON": "true", **env},
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}: {Path(log.name).read_text()[-4000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise TimeoutError("server did not become ready")
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
