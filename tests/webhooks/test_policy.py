"""Backoff, Retry-After, which answers are retried, and which hosts a subscriber URL may name (SSRF)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from contactcenter.webhooks import policy

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def test_backoff_grows_exponentially_with_jitter_and_a_ceiling() -> None:
    b = policy.Backoff(base_s=10, max_s=300, max_attempts=10)
    rnd = random.Random(7)
    for attempt in range(1, 10):
        ceiling = min(300.0, 10.0 * 2 ** (attempt - 1))
        waits = [b.delay(attempt, rnd=rnd) for _ in range(50)]
        assert all(ceiling / 2 <= w <= ceiling for w in waits)
        assert len(set(waits)) > 1  # jittered: retries of many deliveries do not arrive together


def test_retry_after_is_honoured_and_bounded() -> None:
    b = policy.Backoff(base_s=1, max_s=60, max_attempts=5)
    assert b.delay(1, retry_after=120) == 120  # later than the backoff: the receiver's word wins
    assert 0.5 <= b.delay(1, retry_after=0) <= 1
    assert b.delay(1, retry_after=10**9) == policy.RETRY_AFTER_MAX_S


def test_retry_after_header_forms() -> None:
    assert policy.retry_after_s("7", NOW) == 7
    assert policy.retry_after_s(format_datetime(NOW + timedelta(seconds=90), usegmt=True), NOW) == 90
    assert policy.retry_after_s(format_datetime(NOW - timedelta(seconds=90), usegmt=True), NOW) == 0
    for bad in (None, "", "soon", "-5", "1e9"):
        assert policy.retry_after_s(bad, NOW) is None


@pytest.mark.parametrize(
    ("status", "again"),
    [
        (500, True),
        (503, True),
        (408, True),
        (429, True),
        (400, False),
        (401, False),
        (404, False),
        (410, False),
        (301, False),
    ],
)
def test_only_server_errors_timeouts_and_throttling_are_retried(status: int, again: bool) -> None:
    assert policy.retryable(status) is again


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/x",
        "http://localhost:8000/x",
        "http://api.localhost/x",
        "http://localhost./x",
        "http://10.1.2.3/x",
        "http://192.168.0.10/x",
        "http://172.16.0.1/x",
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata
        "http://[::1]/x",
        "http://[fd00::1]/x",
        "http://[::ffff:127.0.0.1]/x",
        "http://0.0.0.0/x",
        "http://224.0.0.1/x",
    ],
)
async def test_loopback_private_and_link_local_hosts_are_refused_by_default(url: str) -> None:
    assert policy.refused_literal(url, frozenset()) is not None
    assert await policy.refused_resolved(url, frozenset()) is not None
    host = policy.host_of(url)
    assert policy.refused_literal(url, frozenset({host})) is None  # unless the deployment allows that host


@pytest.mark.parametrize("url", ["http://127.1:9/x", "http://2130706433/x"])
async def test_names_that_resolve_to_loopback_are_refused_before_sending(url: str) -> None:
    # Not addresses as written, so registration cannot tell; the resolution before each attempt does.
    assert policy.refused_literal(url, frozenset()) is None
    why = await policy.refused_resolved(url, frozenset({"127.0.0.1"}))
    assert why is not None and "127.0.0.1" in why


async def test_public_addresses_pass() -> None:
    assert policy.refused_literal("https://93.184.215.14/hook", frozenset()) is None
    assert await policy.refused_resolved("https://93.184.215.14/hook", frozenset()) is None
