"""Two app servers sharing PostgreSQL and Redis, each bridging the calls its own customers place (the
default CC_VOICE_WORKERS=inprocess, decision 57): the customer is on server A, the agent and a supervisor
on server B. Every frame from B (answer, hold, mute, monitor, the core's close) is forwarded over the bus to
A, which bridges the call, and A's answers come back to the sockets on B."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from contactcenter.auth.service import create_user
from contactcenter.channels.voice import service
from contactcenter.settings import Settings
from contactcenter.types import Role
from tests.chat.conftest import PASSWORD, customer, serve, staff
from tests.chat.test_chat_flow import make_agent
from tests.cobrowse.test_flow import pinging
from tests.conftest import _fresh_pg
from tests.services import PostgresServer, RedisServer
from tests.voice.peers import near, silent
from tests.voice.test_call import AGENT_HZ, CUSTOMER_HZ, OTHER_AGENT_HZ, answer, closed, peers, place_call


@pytest.fixture(autouse=True)
def voice_settings() -> None:
    """Not the package's per-backend settings: this test needs the shared backends (pg_settings)."""


@pytest.fixture
def pg_settings(pg_server: PostgresServer, pg_template: str, redis_server: RedisServer, tmp_path: Path) -> Settings:
    subprocess.run(["redis-cli", "-p", str(redis_server.port), "flushall"], check=True, capture_output=True)
    return Settings(
        database_url=_fresh_pg(pg_server, pg_template),
        redis_url=redis_server.url,
        secret_key="test-secret-" + "x" * 32,
        log_json=False,
        log_level="WARNING",
        voice_host_addresses="127.0.0.1",
        voice_recordings_dir=tmp_path / "recordings",
    )


async def test_frames_from_another_server_reach_the_call_and_its_answers_come_back(pg_settings: Settings) -> None:
    async with serve(pg_settings) as a, serve(pg_settings) as b:
        await make_agent(a.app, "nina")
        async with a.app.state.db.session() as s:
            await create_user(s, username="sid", display_name="Sid Sup", role=Role.supervisor, password=PASSWORD)
        async with (
            customer(a) as (cust, _t),
            staff(b, "nina") as agent,
            staff(b, "sid") as sup,
            pinging(agent, cust, sup),
            peers(CUSTOMER_HZ, AGENT_HZ, OTHER_AGENT_HZ) as (cp, ap, sp),
        ):
            cid = await place_call(cust, cp)
            host_a = a.app.state.capabilities["voice"].host
            assert service.calls[cid].owner is a.app.state.db and host_a.holds(cid)
            await answer(agent, ap, cid)  # from B to A's call, A's SDP answer back to B's socket
            assert (await cust.next("voice_state", state="connected"))["agent_name"] == "Nina"
            await ap.hears(near(CUSTOMER_HZ))
            await cp.hears(near(AGENT_HZ))

            await agent.send({"type": "voice_hold", "conversation_id": cid, "on": True})
            await cust.next("voice_state", state="held")
            await ap.hears(silent)
            await agent.send({"type": "voice_hold", "conversation_id": cid, "on": False})
            await agent.send({"type": "voice_mute", "conversation_id": cid, "on": True})
            assert (await agent.next("voice_state", agent_muted=True))["state"] == "connected"
            await cp.hears(silent)
            await agent.send({"type": "voice_mute", "conversation_id": cid, "on": False})
            await cp.hears(near(AGENT_HZ))

            # A supervisor on B joins A's call: their leg is made by A; the agent (on B) is told.
            await sup.send({"type": "voice_monitor", "conversation_id": cid, "sdp": await sp.offer()})
            await sp.answered((await sup.next("voice_sdp", leg="supervisor", timeout=10))["sdp"])
            assert (await agent.next("monitored"))["mode"] == "listen"
            await sp.hears(lambda h: not silent(h))
            await sup.send({"type": "voice_monitor", "conversation_id": cid, "mode": "barge"})
            await cust.next("voice_state", joined_by="Sid Sup")
            await agent.send({"type": "voice_mute", "conversation_id": cid, "on": True})
            await cp.hears(near(OTHER_AGENT_HZ))  # the supervisor on B, heard by the customer on A

            # The core's close frame on B ends the media on A.
            await agent.send({"type": "close", "conversation_id": cid})
            ended = await cust.next("voice_state", state="ended", timeout=10)
            assert ended["reason"] == "closed"
            await closed(agent, cid)
        # answer, hold x2, mute x3, monitor x2 came over the bus; the customer's own frames did not.
        assert host_a.served == 8
        assert b.app.state.capabilities["voice"].host.served == 0
        assert cid not in service.calls
