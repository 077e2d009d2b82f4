"""Voice with its media in a worker process of its own (decision 57), on PostgreSQL + Redis: two web processes
started with CC_VOICE_WORKERS=external and one `contactcenter voice-worker`. The customer's socket is on web
process A, the agent's on B, and the call is bridged by the worker: every frame either side sends is
forwarded over the bus and the worker's answers reach the right socket. The worker killed mid-call ends the
call for both sockets, frees the agent and logs the touch."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import websockets
from sqlalchemy import select

from contactcenter.auth.models import StaffUser
from contactcenter.bus.redis import RedisBus
from contactcenter.ccr.models import Touch
from contactcenter.channels.voice import recording
from contactcenter.channels.voice.events import HOSTS
from contactcenter.channels.voice.media import RATE
from contactcenter.channels.voice.models import CallHost
from contactcenter.conversations.models import Conversation
from contactcenter.db import Database
from tests.chat.conftest import Client
from tests.chat.multiproc import AppProc, Deployment, app_processes, fresh_deployment, staff_login, visitor_token
from tests.cobrowse.test_flow import pinging
from tests.procs import ROOMY_VISITOR_LIMITS, ROOT, cli
from tests.services import PostgresServer, RedisServer
from tests.voice.peers import Peer, near
from tests.voice.test_call import AGENT_HZ, CUSTOMER_HZ, OTHER_AGENT_HZ, chunks, closed, peers, place_call

SECRET = "multi-process-voice-secret-" + "v" * 30
BOB_PASSWORD = "bob-long-password"


@dataclass
class Worker:
    proc: subprocess.Popen[bytes]
    log: Path

    def sigkill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)


@contextlib.contextmanager
def voice_worker(env: dict[str, str], log: Path) -> Iterator[Worker]:
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "contactcenter", "voice-worker"],
            env={**os.environ, "CC_LOG_JSON": "true", **env},
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield Worker(proc, log)
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


async def hosts_present(redis_url: str, n: int, timeout: float = 30.0) -> set[str]:
    """Wait until `n` voice workers hold a lease (started and listening)."""
    bus = RedisBus(redis_url)
    try:
        async with asyncio.timeout(timeout):
            while len(found := await bus.present(HOSTS)) != n:  # noqa: ASYNC110 - another process's lease
                await asyncio.sleep(0.1)
        return found
    finally:
        await bus.close()


@pytest.fixture(autouse=True)
def voice_settings() -> None:
    """The package's in-test server settings do not apply: these servers are processes (one backend)."""


@pytest.fixture
def deployment(pg_server: PostgresServer, redis_server: RedisServer, tmp_path: Path) -> Deployment:
    dep = fresh_deployment(pg_server, redis_server, SECRET)
    dep.env.update(
        ROOMY_VISITOR_LIMITS,
        CC_VOICE_WORKERS="external",
        CC_VOICE_HOST_ADDRESSES="127.0.0.1",
        CC_VOICE_RECORDINGS_DIR=str(tmp_path / "recordings"),
        CC_VOICE_WORKER_TTL_S="2",
    )
    made = cli(dep.env, "user", "add", "bob", "--role", "agent", "--name", "Bob", "--password", BOB_PASSWORD)
    assert made.returncode == 0, made.stderr
    return dep


@pytest.fixture
def web(deployment: Deployment) -> Iterator[list[AppProc]]:
    with app_processes(deployment.env, 2) as procs:
        yield procs


@contextlib.asynccontextmanager
async def staff_socket(proc: AppProc, username: str, password: str) -> AsyncIterator[Client]:
    cookie, _ = await staff_login(proc.base, username, password)
    async with websockets.connect(proc.ws_url, additional_headers={"Cookie": f"cc_session={cookie}"}) as ws:
        c = Client(ws)
        await c.send({"type": "hello", "v": 1, "resume": {}})
        await c.next("welcome")
        async with pinging(c):
            yield c


@contextlib.asynccontextmanager
async def sockets(dep: Deployment, a: AppProc, b: AppProc) -> AsyncIterator[tuple[Client, Client]]:
    """The customer's socket on process A, the agent's on process B."""
    token = await visitor_token(a.base)
    async with staff_socket(b, dep.agent, dep.agent_password) as agent, websockets.connect(a.ws_url) as ws_cust:
        cust = Client(ws_cust)
        await cust.send({"type": "hello", "v": 1, "token": token, "resume": {}})
        await cust.next("welcome")
        async with pinging(cust):
            yield cust, agent


async def rows(dep: Deployment, cid: str) -> tuple[Conversation, list[Touch], CallHost]:
    db = Database(dep.database_url)
    try:
        async with db.session() as s:
            conv = await s.get(Conversation, cid)
            touches = list(await s.scalars(select(Touch).where(Touch.conversation_id == cid).order_by(Touch.id)))
            host = await s.get(CallHost, cid)
            assert conv is not None and host is not None
            return conv, touches, host
    finally:
        await db.dispose()


async def user_id(dep: Deployment, username: str) -> int:
    db = Database(dep.database_url)
    try:
        async with db.session() as s:
            found = await s.scalar(select(StaffUser.id).where(StaffUser.username == username))
            assert found is not None
            return found
    finally:
        await db.dispose()


async def answer(agent: Client, peer: Peer, cid: str) -> None:
    """The agent answers once this call (not an earlier one) is assigned to them."""
    while True:
        conv = (await agent.next("conversation", timeout=10))["conversation"]
        if conv["id"] == cid and conv["status"] == "assigned":
            break
    await agent.send({"type": "voice_answer", "conversation_id": cid, "sdp": await peer.offer()})
    await peer.answered((await agent.next("voice_sdp", timeout=10, conversation_id=cid))["sdp"])


def call_touch(touches: list[Touch]) -> dict[str, Any]:
    (found,) = [t.payload for t in touches if t.kind == "call" and "reason" in t.payload]
    return found


async def test_a_call_across_two_web_processes_bridged_by_a_worker(
    deployment: Deployment, web: list[AppProc], tmp_path: Path
) -> None:
    a, b = web
    async with sockets(deployment, a, b) as (cust, agent), peers(CUSTOMER_HZ, AGENT_HZ) as (cp, ap):
        # No worker yet: the call is refused with a clear error, and nothing is stored.
        await cust.send({"type": "voice_call", "sdp": await cp.offer()})
        refused = await cust.next("error", timeout=10)
        assert refused["code"] == "no_voice_worker" and refused["ref"] == "voice_call"

    with voice_worker(deployment.env, tmp_path / "worker.log"):
        (worker_id,) = await hosts_present(deployment.env["CC_REDIS_URL"], 1)
        for hangs_up in ("customer", "agent"):
            async with sockets(deployment, a, b) as (cust, agent), peers(CUSTOMER_HZ, AGENT_HZ) as (cp, ap):
                cid = await place_call(cust, cp, topic="Card lost")
                await cust.next("voice_state", state="waiting", timeout=10)
                await answer(agent, ap, cid)  # forwarded from B to the worker; its answer back to B's socket
                connected = await cust.next("voice_state", state="connected", timeout=10)  # worker -> A
                assert connected["agent_name"] == "Alice" and connected["recording"] is True
                await ap.hears(near(CUSTOMER_HZ))
                await cp.hears(near(AGENT_HZ))
                await agent.send({"type": "voice_hold", "conversation_id": cid, "on": True})
                await cust.next("voice_state", state="held", timeout=10)
                await cp.hears(lambda h: not near(AGENT_HZ)(h) and h[0] > 0.02)  # the music, bridged by the worker
                await agent.send({"type": "voice_hold", "conversation_id": cid, "on": False})
                await cp.hears(near(AGENT_HZ))
                side, other = (cust, agent) if hangs_up == "customer" else (agent, cust)
                await side.send({"type": "voice_hangup", "conversation_id": cid})
                ended = await other.next("voice_state", state="ended", timeout=10)
                assert ended["ended_by"] == hangs_up and ended["reason"] == "hangup"
                await closed(agent, cid)

            conv, touches, host = await rows(deployment, cid)
            assert conv.status == "closed" and host.host_id == worker_id and host.reason == "hangup"
            payload = call_touch(touches)
            assert payload["ended_by"] == hangs_up and payload["recording_ok"] is True
            left, right = recording.channels(Path(deployment.env["CC_VOICE_RECORDINGS_DIR"]) / f"{cid}.wav")
            assert len(left) == len(right) == round(payload["talk_s"] * RATE)
            lc, rc = chunks(left), chunks(right)
            assert sum(near(CUSTOMER_HZ)(h) for h in lc) >= 25 and not any(near(AGENT_HZ)(h) for h in lc)
            assert sum(near(AGENT_HZ)(h) for h in rc) >= 25 and not any(near(CUSTOMER_HZ)(h) for h in rc)

        # A transfer from Alice (on B) to Bob (on A): routing's transfer runs in the worker, the customer's
        # leg stays; Bob closes with the core's close frame on A, and the worker ends the media.
        async with (
            sockets(deployment, a, b) as (cust, alice),
            peers(CUSTOMER_HZ, AGENT_HZ, OTHER_AGENT_HZ) as (cp, ap, bp),
        ):
            cid = await place_call(cust, cp)
            await answer(alice, ap, cid)
            await cp.hears(near(AGENT_HZ))
            alice_id, bob_id = await user_id(deployment, "alice"), await user_id(deployment, "bob")
            async with staff_socket(a, "bob", BOB_PASSWORD) as bob:
                await bob.next("routing")  # online in routing, so he can be named
                await alice.send({"type": "voice_transfer", "conversation_id": cid, "agent_id": bob_id})
                await cust.next("voice_state", state="transferring", timeout=10)
                await answer(bob, bp, cid)
                await cust.next("voice_state", state="connected", agent_name="Bob", timeout=10)
                await cp.hears(near(OTHER_AGENT_HZ))
                await bp.hears(near(CUSTOMER_HZ))
                await bob.send({"type": "close", "conversation_id": cid})
                ended = await cust.next("voice_state", state="ended", timeout=10)
                assert ended["reason"] == "closed"
        _, touches, host = await rows(deployment, cid)
        assert host.reason == "closed" and call_touch(touches)["agents"] == [alice_id, bob_id]


def _size(path: Path) -> int:
    return path.stat().st_size if path.is_file() else -1


async def grown(path: Path, size: int, timeout: float = 20.0) -> None:
    """Until the file holds `size` bytes (a writer in another process: no event to wait on but its size)."""
    async with asyncio.timeout(timeout):
        while _size(path) < size:  # noqa: ASYNC110
            await asyncio.sleep(0.05)


async def test_a_worker_killed_mid_call_ends_it_for_both_and_frees_the_agent(
    deployment: Deployment, web: list[AppProc], tmp_path: Path
) -> None:
    a, b = web
    redis_url = deployment.env["CC_REDIS_URL"]
    async with sockets(deployment, a, b) as (cust, agent):
        with voice_worker(deployment.env, tmp_path / "worker-1.log") as first:
            await hosts_present(redis_url, 1)
            async with peers(CUSTOMER_HZ, AGENT_HZ) as (cp, ap):
                cid = await place_call(cust, cp)
                await answer(agent, ap, cid)
                await cp.hears(near(AGENT_HZ))
                await ap.hears(near(CUSTOMER_HZ))
                # Half a second of talk on disk in the worker's unfinished recording, then the worker dies.
                part = Path(deployment.env["CC_VOICE_RECORDINGS_DIR"]) / f"{cid}.part"
                await grown(part, recording.HEADER + RATE * recording.FRAME_BYTES // 2)
                first.sigkill()
                # Its lease runs out; a web process ends the call: both sockets are told, the conversation closes.
                for side in (cust, agent):
                    ended = await side.next("voice_state", state="ended", conversation_id=cid, timeout=20)
                    assert ended["reason"] == "worker_lost" and ended["ended_by"] == "system"
                    assert ended["recording"] is True  # what was recorded until then is kept
                await closed(agent, cid)
                # A frame for the dead call gets an error frame, not silence.
                await agent.send({"type": "voice_hold", "conversation_id": cid, "on": True})
                assert (await agent.next("error", timeout=10))["code"] in ("forbidden", "call_not_found")
        conv, touches, host = await rows(deployment, cid)
        assert conv.status == "closed" and host.reason == "worker_lost" and host.ended_at is not None
        payload = call_touch(touches)
        assert payload["reason"] == "worker_lost" and payload["recording"] is payload["recording_partial"] is True
        assert payload["recording_s"] >= 0.5
        assert any(t.kind == "conversation" and "closed by system" in t.summary for t in touches)
        # The salvaged file plays: a WAV of whole stereo frames, each voice in its own channel.
        assert not part.exists()
        left, right = recording.channels(part.with_suffix(".wav"))
        assert len(left) == len(right) == round(payload["recording_s"] * RATE)
        lc, rc = chunks(left), chunks(right)
        assert sum(near(CUSTOMER_HZ)(h) for h in lc) >= 10 and not any(near(AGENT_HZ)(h) for h in lc)
        assert sum(near(AGENT_HZ)(h) for h in rc) >= 10 and not any(near(CUSTOMER_HZ)(h) for h in rc)

        # The agent was freed: a new worker bridges the next call, and the same agent takes it.
        with voice_worker(deployment.env, tmp_path / "worker-2.log"):
            await hosts_present(redis_url, 1)
            async with peers(CUSTOMER_HZ, AGENT_HZ) as (cp, ap):
                cid2 = await place_call(cust, cp)
                await answer(agent, ap, cid2)
                await cp.hears(near(AGENT_HZ))
                await ap.hears(near(CUSTOMER_HZ))
                await agent.send({"type": "voice_hangup", "conversation_id": cid2})
                await cust.next("voice_state", state="ended", conversation_id=cid2, timeout=10)
