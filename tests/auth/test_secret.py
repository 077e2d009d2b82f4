"""The signing key: the committed development key is gone; the embedded default keeps a random key in var/;
every other deployment refuses to start without CC_SECRET_KEY."""

from __future__ import annotations

import stat
from pathlib import Path

import httpx
import pytest
from itsdangerous import URLSafeTimedSerializer

from contactcenter.auth.secret import HOW_TO_MAKE, SecretKeyError, resolve_secret
from contactcenter.settings import Settings
from tests.procs import app_process, cli
from tests.services import PostgresServer

# The key that was committed to this repository (and so is known to everyone).
OLD_DEV_KEY = "dev-only-secret-change-me-in-production-0123456789"


def _embedded(tmp_path: Path) -> dict[str, str]:
    """The default way: SQLite, no Redis, loopback, and no CC_SECRET_KEY (its key file under this test's dir)."""
    return {
        "CC_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cc.db'}",
        "CC_SECRET_KEY": "",
        "CC_SECRET_KEY_FILE": str(tmp_path / "var" / "secret_key"),
        "CC_REDIS_URL": "",
    }


def test_a_server_on_postgresql_without_a_key_refuses_to_start(pg_server: PostgresServer) -> None:
    env = {"CC_DATABASE_URL": pg_server.url("postgres"), "CC_SECRET_KEY": ""}
    done = cli(env, "serve", "--port", "1")
    assert done.returncode == 2
    assert "CC_SECRET_KEY is required" in done.stderr and HOW_TO_MAKE in done.stderr


@pytest.mark.parametrize("key", [OLD_DEV_KEY, "too-short-0123456789"])
def test_the_committed_dev_key_and_short_keys_are_refused_even_when_set(tmp_path: Path, key: str) -> None:
    done = cli({**_embedded(tmp_path), "CC_SECRET_KEY": key}, "serve", "--port", "1")
    assert done.returncode == 2 and HOW_TO_MAKE in done.stderr, done.stderr


def test_redis_or_a_public_bind_needs_a_key_too(tmp_path: Path) -> None:
    done = cli(_embedded(tmp_path), "serve", "--host", "0.0.0.0", "--port", "1")
    assert done.returncode == 2 and "CC_SECRET_KEY is required" in done.stderr
    with pytest.raises(SecretKeyError):
        resolve_secret(Settings(database_url="sqlite+aiosqlite://", redis_url="redis://127.0.0.1:1/0"))


def test_the_embedded_default_makes_one_private_key_and_keeps_it(tmp_path: Path) -> None:
    path = tmp_path / "var" / "secret_key"
    first = resolve_secret(Settings(database_url="sqlite+aiosqlite://", secret_key_file=path))
    again = resolve_secret(Settings(database_url="sqlite+aiosqlite://", secret_key_file=path))
    key = first.secret_key.get_secret_value()
    assert len(key) >= 48 and key != OLD_DEV_KEY and again.secret_key.get_secret_value() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_token_signed_with_the_old_key_is_refused_and_real_tokens_survive_a_restart(tmp_path: Path) -> None:
    env = _embedded(tmp_path)
    assert cli(env, "migrate").returncode == 0
    with app_process(env, tmp_path / "a.log") as base:
        issued = httpx.post(f"{base}/api/visitors").json()
        token, customer_id = issued["token"], issued["customer_id"]
        # The attack: sign a token for that customer with the key anyone could read in the repository.
        forged = URLSafeTimedSerializer(OLD_DEV_KEY, salt="cc-visitor").dumps({"v": "x", "c": customer_id})
        r = httpx.get(f"{base}/api/visitors/me", headers={"Authorization": f"Bearer {forged}"})
        assert r.status_code == 401 and r.json()["error"] == "not_authenticated"
        assert httpx.get(f"{base}/api/visitors/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert stat.S_IMODE((tmp_path / "var" / "secret_key").stat().st_mode) == 0o600
    with app_process(env, tmp_path / "b.log") as base:
        r = httpx.get(f"{base}/api/visitors/me", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200 and r.json()["customer_id"] == customer_id
