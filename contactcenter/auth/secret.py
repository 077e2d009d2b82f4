"""The signing key: CC_SECRET_KEY, or for the embedded default (SQLite, in-process bus, loopback) a random key
made once and kept under var/. Any other deployment refuses to start without a real key (docs/security.md)."""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import os
import secrets
from pathlib import Path

from pydantic import SecretStr

from contactcenter.settings import Settings

MIN_KEY_BYTES = 32
HOW_TO_MAKE = 'python -c "import secrets; print(secrets.token_urlsafe(48))"'
# sha256 of the development key once committed to this repository: public, so refused even when set explicitly.
_PUBLISHED = frozenset({"99f8c413a0b81bbc5c4df63da8fa908910fe1d1fed286791730f62592b9e65b1"})


class SecretKeyError(RuntimeError):
    """The deployment has no usable signing key; the message says how to make one."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_embedded(settings: Settings, host: str | None = None) -> bool:
    """The single-machine default `make run` and the tests use: SQLite, the in-process bus, a loopback bind."""
    return settings.is_sqlite and not settings.redis_url and is_loopback(host or settings.host)


def _published(key: str) -> bool:
    return hashlib.sha256(key.encode()).hexdigest() in _PUBLISHED


def _file_key(path: Path) -> str:
    """The key kept in `path`, made (mode 0600) on first use; every worker of one start reads the same file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        # Written whole under another name, then linked into place: a process starting at the same moment
        # sees no file or the whole key, never an empty one; the first link wins and the other is dropped.
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48) + "\n")
        try:
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)
        finally:
            tmp.unlink()
    key = path.read_text().strip()
    if len(key.encode()) < MIN_KEY_BYTES:
        raise SecretKeyError(f"{path} holds no usable key; delete it and start again to make a new one")
    return key


def resolve_secret(settings: Settings, host: str | None = None) -> Settings:
    """`settings` with the signing key in force, or SecretKeyError when this deployment may not start."""
    given = settings.secret_key.get_secret_value() if settings.secret_key else ""
    if given:
        if len(given.encode()) < MIN_KEY_BYTES or _published(given):
            problem = "is the published development key" if _published(given) else f"is under {MIN_KEY_BYTES} bytes"
            raise SecretKeyError(f"CC_SECRET_KEY {problem}; make one with: {HOW_TO_MAKE}")
        return settings
    if not is_embedded(settings, host):
        raise SecretKeyError(
            "CC_SECRET_KEY is required with PostgreSQL, Redis or a non-loopback bind "
            f"(at least {MIN_KEY_BYTES} bytes, the same on every process); make one with: {HOW_TO_MAKE}"
        )
    return settings.model_copy(update={"secret_key": SecretStr(_file_key(settings.secret_key_file))})
