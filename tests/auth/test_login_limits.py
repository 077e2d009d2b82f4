"""Login brute force against real servers: attempts are counted before the password is checked (so a concurrent
burst cannot slip under the limit), per (username, address) and per address, across processes on Redis; the
password hash is checked off the event loop."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from pathlib import Path

import httpx

from tests.chat.multiproc import app_processes, fresh_deployment
from tests.procs import app_process, cli
from tests.services import PostgresServer, RedisServer

SECRET = "login-limits-secret-" + "l" * 32
LIMIT = 5  # CC_LOGIN_ATTEMPTS_PER_MINUTE's default


def _sqlite_server_env(tmp_path: Path) -> dict[str, str]:
    env = {"CC_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cc.db'}", "CC_SECRET_KEY": SECRET}
    assert cli(env, "migrate").returncode == 0
    made = cli(env, "user", "add", "alice", "--role", "agent", "--password", "alice-long-pass")
    assert made.returncode == 0, made.stderr
    return env


async def _burst(urls: list[str], n: int, password: str, address: str = "203.0.113.9") -> list[httpx.Response]:
    """n simultaneous logins as alice from `address` (loopback is a trusted proxy: X-Forwarded-For is believed)."""
    async with httpx.AsyncClient(timeout=60) as h:
        return await asyncio.gather(
            *(
                h.post(
                    f"{urls[i % len(urls)]}/api/session",
                    json={"username": "alice", "password": password},
                    headers={"X-Forwarded-For": address},
                )
                for i in range(n)
            )
        )


def _codes(responses: list[httpx.Response]) -> Counter[int]:
    return Counter(r.status_code for r in responses)


def test_thirty_simultaneous_wrong_passwords_get_at_most_the_limit_checked(tmp_path: Path) -> None:
    with app_process(_sqlite_server_env(tmp_path), tmp_path / "server.log") as base:
        responses = asyncio.run(_burst([base], 30, "wrong password"))
    codes = _codes(responses)
    assert codes[401] <= LIMIT and codes[401] + codes[429] == 30, codes
    refused = next(r for r in responses if r.status_code == 429)
    assert refused.json()["error"] == "rate_limited" and 1 <= int(refused.headers["retry-after"]) <= 60


def test_a_stranger_flooding_an_agents_name_does_not_lock_the_agent_out(tmp_path: Path) -> None:
    with app_process(_sqlite_server_env(tmp_path), tmp_path / "server.log") as base:
        flood = asyncio.run(_burst([base], 20, "guess", address="203.0.113.9"))
        assert _codes(flood)[429] >= 15
        # Even the right password is refused from the flooding address while its window lasts...
        assert asyncio.run(_burst([base], 1, "alice-long-pass", address="203.0.113.9"))[0].status_code == 429
        # ...but alice, signing in from her own address, gets in.
        mine = asyncio.run(_burst([base], 1, "alice-long-pass", address="198.51.100.7"))[0]
        assert mine.status_code == 200, mine.text


def test_the_limit_holds_across_two_processes_on_redis(pg_server: PostgresServer, redis_server: RedisServer) -> None:
    dep = fresh_deployment(pg_server, redis_server, SECRET)
    with app_processes(dep.env, 2) as procs:
        responses = asyncio.run(_burst([p.base for p in procs], 30, "wrong password"))
    codes = _codes(responses)
    assert codes[401] <= LIMIT and codes[401] + codes[429] == 30, codes


def test_health_is_answered_while_a_burst_of_logins_is_being_verified(tmp_path: Path) -> None:
    """Password checks run in threads (2 at once): while ten logins are verified (each hash check takes a good
    fraction of a second here), health checks sent one after another keep being answered between two login
    answers. On the event loop, each check froze the process: only a few health answers slipped in between."""

    async def run(base: str) -> list[str]:
        order: list[str] = []
        async with httpx.AsyncClient(base_url=base, timeout=60) as h:

            async def login(i: int) -> None:
                # Distinct unknown usernames: no limit refuses them, each one is a full (dummy) hash check.
                r = await h.post("/api/session", json={"username": f"nobody{i}", "password": "guess"})
                order.append(f"login {r.status_code}")

            logins = asyncio.gather(*(login(i) for i in range(10)))
            async with asyncio.timeout(120):
                while not logins.done():
                    r = await h.get("/healthz")
                    order.append(f"health {r.status_code}")
                await logins
        return order

    with app_process(_sqlite_server_env(tmp_path), tmp_path / "server.log") as base:
        order = asyncio.run(run(base))
    assert order.count("login 401") == 10 and "health 500" not in order, order
    logins_at = [i for i, what in enumerate(order) if what.startswith("login")]
    between = [b - a - 1 for a, b in itertools.pairwise(logins_at)]
    # Counted, not timed: in threads dozens of health answers fit between two logins; on the loop, a handful.
    assert max(between) >= 15, between
