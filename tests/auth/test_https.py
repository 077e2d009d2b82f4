"""Over HTTPS (as a trusted proxy says with X-Forwarded-Proto) the session cookie is Secure and __Host-, and
responses carry HSTS; over plain http, or when an untrusted peer claims https, neither."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.procs import app_process, cli

SECRET = "https-secret-" + "h" * 40
HTTPS = {"X-Forwarded-Proto": "https"}


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {"CC_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cc.db'}", "CC_SECRET_KEY": SECRET, **extra}
    if not (tmp_path / "cc.db").exists():
        assert cli(env, "migrate").returncode == 0
        assert cli(env, "user", "add", "alice", "--role", "agent", "--password", "alice-long-pass").returncode == 0
    return env


def _login(base: str, headers: dict[str, str]) -> httpx.Response:
    r = httpx.post(f"{base}/api/session", json={"username": "alice", "password": "alice-long-pass"}, headers=headers)
    assert r.status_code == 200, r.text
    return r


def test_https_from_a_trusted_proxy_gets_a_secure_host_cookie_and_hsts(tmp_path: Path) -> None:
    with app_process(_env(tmp_path), tmp_path / "server.log") as base:  # loopback: the default trusted proxy
        r = _login(base, HTTPS)
        cookie = r.headers["set-cookie"]
        assert cookie.startswith("__Host-cc_session=") and "secure" in cookie.lower(), cookie
        assert "path=/" in cookie.lower() and "domain" not in cookie.lower() and "httponly" in cookie.lower()
        assert r.headers["strict-transport-security"] == "max-age=31536000"
        token = r.cookies["__Host-cc_session"]
        with httpx.Client(base_url=base, headers=HTTPS) as h:
            assert h.get("/api/me", headers={"Cookie": f"__Host-cc_session={token}"}).status_code == 200
            # Over HTTPS only the __Host- cookie counts: a plain one planted by a sibling site is not read.
            assert h.get("/api/me", headers={"Cookie": f"cc_session={token}"}).status_code == 401
            assert h.get("/healthz").headers["strict-transport-security"] == "max-age=31536000"

        plain = _login(base, {})
        assert plain.headers["set-cookie"].startswith("cc_session=") and "secure" not in plain.headers["set-cookie"]
        assert "strict-transport-security" not in plain.headers


def test_an_untrusted_peer_claiming_https_is_not_believed(tmp_path: Path) -> None:
    with app_process(_env(tmp_path, CC_TRUSTED_PROXIES="192.0.2.1"), tmp_path / "server.log") as base:
        r = _login(base, {**HTTPS, "X-Forwarded-For": "203.0.113.5"})
        assert r.headers["set-cookie"].startswith("cc_session=") and "secure" not in r.headers["set-cookie"]
        assert "strict-transport-security" not in r.headers


def test_cookie_secure_forces_the_flag_over_http(tmp_path: Path) -> None:
    with app_process(_env(tmp_path, CC_COOKIE_SECURE="true"), tmp_path / "server.log") as base:
        cookie = _login(base, {}).headers["set-cookie"]
        assert cookie.startswith("cc_session=") and "secure" in cookie.lower()
