"""A real IMAP server for the poller's tests: Debian's Dovecot, started in a directory of its own on a free
loopback port with one mailbox user (plain-text login, no TLS: loopback only). The tests put mail in with
the standard library's imaplib (APPEND) and read flags back with it."""

from __future__ import annotations

import contextlib
import imaplib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.email.helpers import free_port

USER, PASSWORD = "help@contactcenter.local", "imap-test-pass"
DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"

CONF = """\
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
mail_location = maildir:{d}/mail/%u
default_internal_user = {internal}
default_internal_group = {internal_group}
default_login_user = {login}
first_valid_uid = {uid}
last_valid_uid = 0
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={d}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""


@dataclass
class Dovecot:
    port: int
    dir: Path

    def client(self) -> imaplib.IMAP4:
        c = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        c.login(USER, PASSWORD)
        return c

    def append(self, *raws: bytes, folder: str = "INBOX") -> None:
        c = self.client()
        try:
            for raw in raws:
                typ, _ = c.append(folder, None, None, raw)
                assert typ == "OK"
        finally:
            c.logout()

    def flags(self, folder: str = "INBOX") -> dict[int, set[str]]:
        """Each message's UID and flags (a read-only look: EXAMINE sets nothing)."""
        c = self.client()
        try:
            c.select(folder, readonly=True)
            _, data = c.uid("FETCH", "1:*", "(FLAGS)")
            out: dict[int, set[str]] = {}
            for line in data:
                if not isinstance(line, bytes):
                    continue
                text = line.decode()
                uid = int(text.split("UID ", 1)[1].split()[0].rstrip(")"))
                flags = text.split("FLAGS (", 1)[1].split(")", 1)[0]
                out[uid] = set(flags.split())
            return out
        finally:
            c.logout()

    def unflag(self, flag: str = "\\Seen", folder: str = "INBOX") -> None:
        c = self.client()
        try:
            c.select(folder)
            c.uid("STORE", "1:*", "-FLAGS.SILENT", f"({flag})")
        finally:
            c.logout()


def _users() -> dict[str, object]:
    """Run as root (CI): mail as Debian's `mail` user, internal processes as `dovecot`/`dovenull`. As anyone
    else: every process as that user."""
    if os.getuid() == 0:
        mail = pwd.getpwnam("mail")
        return {
            "internal": "dovecot",
            "internal_group": "dovecot",
            "login": "dovenull",
            "uid": mail.pw_uid,
            "gid": mail.pw_gid,
        }
    me = pwd.getpwuid(os.getuid())
    return {
        "internal": me.pw_name,
        "internal_group": me.pw_name,
        "login": me.pw_name,
        "uid": me.pw_uid,
        "gid": me.pw_gid,
    }


@contextlib.contextmanager
def dovecot() -> Iterator[Dovecot]:
    d = Path(tempfile.mkdtemp(prefix="cc-dovecot-"))
    os.chmod(d, 0o755)  # its unprivileged processes read the config and sockets here
    users = _users()
    for sub in ("run", "state", "mail", "home"):
        (d / sub).mkdir()
    port = free_port()
    (d / "dovecot.conf").write_text(CONF.format(d=d, port=port, **users))
    (d / "users").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
    if os.getuid() == 0:
        for sub in ("mail", "home"):
            os.chown(d / sub, int(str(users["uid"])), int(str(users["gid"])))
    proc = subprocess.Popen(
        [DOVECOT, "-F", "-c", str(d / "dovecot.conf")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    server = Dovecot(port, d)
    try:
        deadline = time.monotonic() + 20
        while True:  # ready when a login works
            try:
                server.client().logout()
                break
            except (OSError, imaplib.IMAP4.error):
                if proc.poll() is not None or time.monotonic() > deadline:
                    log = (d / "dovecot.log").read_text() if (d / "dovecot.log").exists() else ""
                    raise RuntimeError(f"dovecot did not start: {log[-2000:]}") from None
                time.sleep(0.05)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(d, ignore_errors=True)
