"""Email benchmark: mail sent over SMTP by a separate process (several concurrent smtplib connections) to a
real `contactcenter serve` process, counted when stored and threaded; against a bare aiosmtpd sink.

Prints one JSON line on stdout (progress goes to stderr), exits non-zero when it could not measure:

    {"bench": "email", "messages": ..., "ingest_per_s": ..., "lost": 0, "threaded_ok": ...,
     "baseline": {"ingest_per_s": ...}, "ratio": ..., ...}

The corpus: every customer writes a thread (a first mail, then replies with In-Reply-To and References to
the one before) and one reply to a newsletter all customers got (never received here). Correct threading:
each customer's thread is one conversation of that customer, each newsletter reply a conversation of its
own (never glued to another customer's). `ingest_per_s` = messages / (first send -> the last one filed in
email_messages, read from the database); the baseline is the same sender, same messages, same connections,
to a sink that answers 250 without storing (`per_s` = messages / send time).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import smtplib
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SECRET = "bench-secret-" + "x" * 40
TARGET_PER_S = 200.0


def log(msg: str) -> None:
    print(f"[bench email {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def corpus(customers: int, per_thread: int) -> list[list[bytes]]:
    """One list of mails per customer, in the order that customer sends them."""
    out = []
    for c in range(customers):
        addr = f"customer{c}@example.com"
        mails: list[bytes] = []
        ids: list[str] = []
        for k in range(per_thread):
            mid = f"<c{c}-m{k}@bench.example>"
            head = [f"From: Customer {c} <{addr}>", "To: help@localhost", f"Message-ID: {mid}"]
            head.append(f"Subject: {'Re: ' if k else ''}Order {c}")
            if ids:
                head += [f"In-Reply-To: {ids[-1]}", f"References: {' '.join(ids[-10:])}"]
            body = f"Message {k} of customer {c}.\r\n" + ("\r\n> quoted earlier text" if k else "")
            mails.append(("\r\n".join(head) + "\r\n\r\n" + body + "\r\n").encode())
            ids.append(mid)
        news = f"<c{c}-news@bench.example>"
        mails.append(
            (
                f"From: {addr}\r\nTo: help@localhost\r\nMessage-ID: {news}\r\nSubject: Re: Our autumn offers\r\n"
                "In-Reply-To: <newsletter-7@bank.example>\r\nReferences: <newsletter-7@bank.example>\r\n\r\n"
                "Tell me more.\r\n"
            ).encode()
        )
        out.append(mails)
    return out


def send_all(port: int, customers: int, per_thread: int, connections: int) -> dict[str, Any]:
    """The sender process: `connections` threads, each an smtplib connection sending its customers' mail."""
    mails = corpus(customers, per_thread)
    groups = [mails[i::connections] for i in range(connections)]
    errors: list[str] = []

    def run(group: list[list[bytes]]) -> None:
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=60) as c:
                for seq in group:
                    for m in seq:
                        c.sendmail("bench@example.com", ["help@localhost"], m)
        except Exception as exc:
            errors.append(repr(exc))

    t0 = time.monotonic()
    threads = [threading.Thread(target=run, args=(g,)) for g in groups]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"t0": t0, "t_sent": time.monotonic(), "errors": errors}


def run_sender(port: int, args: argparse.Namespace) -> subprocess.Popen[bytes]:
    """The sender: a separate process."""
    cmd = [sys.executable, __file__, "--send", str(port), "--customers", str(args.customers)]
    cmd += ["--per-thread", str(args.per_thread), "--connections", str(args.connections)]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, cwd=ROOT)


def sender_result(proc: subprocess.Popen[bytes]) -> dict[str, Any]:
    out, _ = proc.communicate(timeout=240)
    if proc.returncode != 0:
        raise RuntimeError(f"sender exited with {proc.returncode}")
    result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return result


def sink(port: int) -> None:
    """The baseline: aiosmtpd on its own loop, answering 250 to every mail, storing nothing."""
    from aiosmtpd.smtp import SMTP, Envelope, Session

    class Handler:
        async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
            return "250 OK"

    async def main() -> None:
        loop = asyncio.get_running_loop()
        srv = await loop.create_server(
            lambda: SMTP(Handler(), hostname="sink.local", decode_data=False), host="127.0.0.1", port=port
        )
        async with srv:
            await srv.serve_forever()

    asyncio.run(main())


def wait_port(proc: subprocess.Popen[bytes], port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.05)
    raise RuntimeError("server did not start listening")


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used: a figure the machine's other load skews less."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def filed(db: Path) -> int:
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)) as c:
        return int(c.execute("SELECT count(*) FROM email_messages").fetchone()[0])


def check_threads(db: Path, customers: int, per_thread: int) -> tuple[int, int, list[str]]:
    """(messages filed, messages threaded correctly, problems)."""
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as c:
        rows = c.execute("SELECT message_id, conversation_id, customer_id FROM email_messages").fetchall()
    by_mid = {m: (conv, cust) for m, conv, cust in rows}
    custs_of_conv: dict[str, set[int]] = defaultdict(set)
    for _m, conv, cust in rows:
        custs_of_conv[conv].add(cust)
    ok, problems = 0, []
    news_convs: set[str] = set()
    for cu in range(customers):
        thread = [by_mid.get(f"<c{cu}-m{k}@bench.example>") for k in range(per_thread)]
        news = by_mid.get(f"<c{cu}-news@bench.example>")
        convs = {t[0] for t in thread if t}
        if len(convs) == 1 and all(thread) and len(custs_of_conv[next(iter(convs))]) == 1:
            ok += per_thread
        else:
            problems.append(f"customer {cu}: thread in {len(convs)} conversations")
        if news and news[0] not in convs and news[0] not in news_convs and len(custs_of_conv[news[0]]) == 1:
            ok += 1
            news_convs.add(news[0])
        else:
            problems.append(f"customer {cu}: newsletter reply misplaced")
    return len(rows), ok, problems[:5]


def measure_server(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    from contactcenter.cli import migrate

    db = work / "cc.db"
    url = f"sqlite+aiosqlite:///{db}"
    migrate(url)
    port, http = free_port(), free_port()
    env = {
        **os.environ,
        "CC_DATABASE_URL": url,
        "CC_SECRET_KEY": SECRET,
        "CC_LOG_LEVEL": "WARNING",
        "CC_SMTP_ENABLED": "true",
        "CC_SMTP_PORT": str(port),
        "CC_EMAIL_DOMAINS": "localhost",
    }
    cmd = [sys.executable, "-m", "contactcenter", "serve", "--host", "127.0.0.1", "--port", str(http)]
    with (work / "server.log").open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_port(proc, port)
        n = args.customers * (args.per_thread + 1)
        cpu0 = cpu_s(proc.pid)
        sender = run_sender(port, args)
        deadline = time.monotonic() + 240
        while (got := filed(db)) < n and time.monotonic() < deadline:
            if sender.poll() not in (None, 0):
                break
            time.sleep(0.05)
        t_done = time.monotonic()
        sent = sender_result(sender)
        cpu = cpu_s(proc.pid) - cpu0
        count, ok, problems = check_threads(db, args.customers, args.per_thread)
        elapsed = t_done - sent["t0"]
        return {
            "messages": n,
            "filed": count,
            "lost": n - count,
            "threaded_ok": ok,
            "threaded_all": ok == n,
            "problems": problems,
            "ingest_per_s": round(count / elapsed, 1),
            "smtp_accept_per_s": round(n / (sent["t_sent"] - sent["t0"]), 1),
            "send_errors": sent["errors"][:3],
            "last_count": got,
            "server_cpu_ms_per_msg": round(cpu * 1000 / max(count, 1), 2),
            "elapsed_s": round(elapsed, 1),
        }
    finally:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(15)
        if proc.poll() is None:
            proc.kill()


def measure_baseline(args: argparse.Namespace) -> dict[str, Any]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, __file__, "--sink", str(port)], cwd=ROOT)
    try:
        wait_port(proc, port)
        n = args.customers * (args.per_thread + 1)
        sent = sender_result(run_sender(port, args))
        return {"ingest_per_s": round(n / (sent["t_sent"] - sent["t0"]), 1), "send_errors": sent["errors"][:3]}
    finally:
        proc.terminate()
        proc.wait(15)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=300)
    parser.add_argument("--per-thread", type=int, default=9, help="mails in each customer's thread")
    parser.add_argument("--connections", type=int, default=8, help="concurrent SMTP connections")
    parser.add_argument("--send", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--sink", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    if args.sink:
        sink(args.sink)
        return 0
    if args.send:
        print(json.dumps(send_all(args.send, args.customers, args.per_thread, args.connections)))
        return 0
    started = time.monotonic()
    load0 = os.getloadavg()[0]
    work = Path(tempfile.mkdtemp(prefix="cc-bench-email-"))
    try:
        log(f"{args.customers} customers x {args.per_thread + 1} mails over {args.connections} connections")
        ours = measure_server(args, work)
        log(f"server: {ours['ingest_per_s']}/s, {ours['lost']} lost, {ours['threaded_ok']} threaded right")
        base = measure_baseline(args)
        log(f"baseline sink: {base['ingest_per_s']}/s")
    except Exception as exc:
        log(f"could not measure: {exc!r}")
        traceback.print_exc(file=sys.stderr)
        return 1
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    line = {
        "bench": "email",
        **{k: ours[k] for k in ("messages", "ingest_per_s", "lost", "threaded_ok", "threaded_all")},
        "smtp_accept_per_s": ours["smtp_accept_per_s"],
        "server_cpu_ms_per_msg": ours["server_cpu_ms_per_msg"],
        "server_elapsed_s": ours["elapsed_s"],
        "baseline": {"ingest_per_s": base["ingest_per_s"]},
        "ratio": round(ours["ingest_per_s"] / base["ingest_per_s"], 3) if base["ingest_per_s"] else None,
        "connections": args.connections,
        "database": "sqlite",
        "target": {"ingest_per_s": TARGET_PER_S, "lost": 0},
        "meets_targets": ours["ingest_per_s"] >= TARGET_PER_S and ours["lost"] == 0 and ours["threaded_all"],
        "problems": ours["problems"],
        "send_errors": ours["send_errors"] + base["send_errors"],
        "loadavg_1m": [round(load0, 2), round(os.getloadavg()[0], 2)],
        "elapsed_s": round(time.monotonic() - started, 1),
    }
    print(json.dumps(line), flush=True)
    return 0 if ours["lost"] == 0 or ours["filed"] else 1


if __name__ == "__main__":
    sys.exit(main())
