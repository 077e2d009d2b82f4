"""Command line: serve, voice-worker, migrate, seed-demo, user add, rules check/import/export, analytics run."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from pathlib import Path
from typing import TextIO

from contactcenter.settings import Settings, get_settings

ROOT = Path(__file__).resolve().parent.parent


def alembic_config(database_url: str) -> object:
    from alembic.config import Config

    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "alembic"))
    cfg.attributes["database_url"] = database_url
    return cfg


def migrate(database_url: str, revision: str = "head") -> None:
    """Upgrade the database schema (SQLite or PostgreSQL) to `revision`."""
    from alembic import command

    command.upgrade(alembic_config(database_url), revision)  # type: ignore[arg-type]


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import gc
    import sys

    import uvicorn

    from contactcenter.auth.secret import SecretKeyError, resolve_secret

    try:
        # Here, not only in the app: the bind address is known here, and workers must find the key file made.
        resolve_secret(settings, args.host)
    except SecretKeyError as exc:
        print(f"contactcenter: {exc}", file=sys.stderr)
        return 2
    # Database drivers (aiosqlite) run in threads that need the GIL for every statement; with the
    # default 5 ms switch interval a busy event loop made each round trip to them wait that long.
    sys.setswitchinterval(0.0005)
    # Most objects die by reference counting. With the default thresholds the chat benchmark saw a full
    # collection every ~15 s, each a pause of 0.2-2 s (busy 2-core VM) over every socket's objects; fewer
    # young collections promote fewer short-lived objects, and full ones come rarely (decision 23).
    gc.set_threshold(20_000, 20, 100)

    uvicorn.run(
        "contactcenter.app:create_served_app",
        factory=True,
        host=args.host or settings.host,
        port=args.port or settings.port,
        workers=args.workers,
        log_config=None,
        proxy_headers=True,
        # Only these peers' X-Forwarded-For/-Proto are believed: the client address (rate limits, socket cap)
        # and https (Secure cookie, HSTS) come from them.
        forwarded_allow_ips=settings.trusted_proxies,
        ws="websockets-sansio",
        ws_max_size=1_048_576,  # above MAX_FRAME_BYTES: a too-big frame gets our error frame, then 1009
        # Chat frames are a few hundred bytes; per-message deflate costs ~40 KiB per socket.
        ws_per_message_deflate=False,
        # Protocol v1 has its own heartbeat (docs/protocol.md): a socket silent for 3 heartbeats is closed.
        # uvicorn's own pings would only add ~110 frames/s at 2,200 idle sockets.
        ws_ping_interval=None,
        ws_ping_timeout=None,
    )
    return 0


def _voice_worker(settings: Settings) -> int:
    from contactcenter.channels.voice import worker

    try:
        asyncio.run(worker.run(settings))
    except worker.WorkerError as exc:
        print(f"contactcenter: {exc}", file=sys.stderr)
        return 2
    return 0


async def _add_user(settings: Settings, args: argparse.Namespace) -> int:
    from contactcenter.auth.service import create_user
    from contactcenter.db import Database
    from contactcenter.http import ApiError
    from contactcenter.types import Role

    password = args.password or getpass.getpass("password: ")
    if len(password) < 8:
        print("password must be at least 8 characters", file=sys.stderr)
        return 2
    db = Database(settings.database_url)
    try:
        async with db.session() as s:
            user = await create_user(
                s,
                username=args.username,
                display_name=args.name or args.username,
                role=Role(args.role),
                password=password,
            )
        print(f"created {user.role} {user.username} (id {user.id})")
        return 0
    except ApiError as exc:
        print(f"error: {exc.code}: {exc.detail}", file=sys.stderr)
        return 1
    finally:
        await db.dispose()


async def _seed(settings: Settings, args: argparse.Namespace) -> int:
    from contactcenter.auth.secret import is_embedded
    from contactcenter.demo.seed import seed_demo

    if not is_embedded(settings) and not args.force:
        # The demo accounts' passwords are public: on a shared database they are a way in for anyone.
        print(
            "contactcenter: seed-demo only seeds the embedded default (SQLite, no Redis, loopback): its staff "
            "passwords are public. Pass --force to seed this database anyway.",
            file=sys.stderr,
        )
        return 2
    summary = await seed_demo(settings, customers=args.customers, seed=args.seed)
    print(summary)
    return 0


def _rules_check(settings: Settings, args: argparse.Namespace) -> int:
    from contactcenter.suggestions.files import read_folder

    folder = Path(args.dir) if args.dir else settings.rules_dir
    rules, problems = read_folder(folder)
    for p in problems:
        print(f"{p.path}: {p.message}", file=sys.stderr)
    print(f"{len(rules)} rules checked in {folder}: {len(problems)} problems")
    return 1 if problems else 0


async def _rules_sync(settings: Settings, args: argparse.Namespace) -> int:
    from contactcenter.bus import make_bus
    from contactcenter.db import Database
    from contactcenter.suggestions import service

    folder = Path(args.dir) if args.dir else settings.rules_dir
    db, bus = Database(settings.database_url), make_bus(settings)
    await bus.start()
    try:
        async with db.session() as s:
            if args.rules_cmd == "import":
                done, problems = await service.import_rules(s, bus, folder=folder, author=args.author, only_new=False)
                for p in problems:
                    print(f"{p.path}: {p.message}", file=sys.stderr)
                print(f"imported {len(done)} changed rules from {folder}")
                return 1 if problems else 0
            count = await service.export_rules(s, folder=folder)
            print(f"exported {count} rules to {folder}")
            return 0
    finally:
        await bus.close()
        await db.dispose()


class ProgressBar:
    """One line per stage on a terminal, redrawn in place: `reading orders  [#####.....]  52 %  520000/1000000`."""

    def __init__(self, stream: TextIO, width: int = 30) -> None:
        self.stream, self.width = stream, width
        self.stage: str | None = None
        self.tty = stream.isatty()

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self.stage and self.stage is not None and self.tty:
            self.stream.write("\n")
        self.stage = stage
        frac = done / total if total else 1.0
        filled = round(frac * self.width)
        line = f"{stage:<26} [{'#' * filled}{'.' * (self.width - filled)}] {frac:4.0%}  {done}/{total}"
        if self.tty:
            self.stream.write("\r" + line)
        elif done >= total:  # a log file gets each stage once, when it is done
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty and self.stage is not None:
            self.stream.write("\n")


async def _analytics_run(settings: Settings, args: argparse.Namespace) -> int:
    import time

    from contactcenter.analytics import jobs
    from contactcenter.analytics.figures import Config
    from contactcenter.bus import make_bus
    from contactcenter.db import Database

    db, bus = Database(settings.database_url), make_bus(settings)
    await bus.start()
    bar = ProgressBar(sys.stderr)
    started = time.perf_counter()
    try:
        run = await jobs.run_once(db, bus, config=Config.from_settings(settings), progress=bar)
        bar.close()
        if run is None:
            async with db.session() as s:
                lease = await jobs.holder(s)
            who = f" ({lease.holder}, since {lease.started_at:%Y-%m-%d %H:%M} UTC)" if lease else ""
            print(f"analytics: another run is going on{who}; nothing done", file=sys.stderr)
            return 1
    finally:
        await bus.close()
        await db.dispose()
    print(
        f"analytics: {run.customers} customers, {run.order_lines} order lines, {run.associations} associations "
        f"in {time.perf_counter() - started:.1f} s"
    )
    return 0


async def _orders_import(settings: Settings, args: argparse.Namespace) -> int:
    from contactcenter.bus import make_bus
    from contactcenter.db import Database
    from contactcenter.integration.csvimport import import_orders

    db, bus = Database(settings.database_url), make_bus(settings)
    await bus.start()
    try:
        with Path(args.file).open(newline="", encoding="utf-8-sig") as f:  # noqa: ASYNC230  (a CLI: nothing else runs; Excel writes a BOM)
            async with db.session() as s:
                report = await import_orders(
                    s, bus, lines=f, region=args.region, progress=lambda n: print(f"{n} lines read", file=sys.stderr)
                )
    finally:
        await bus.close()
        await db.dispose()
    for p in report.problems:
        print(f"{args.file}:{p.line}: {p.message}", file=sys.stderr)
    if report.problems_total > len(report.problems):
        print(f"... and {report.problems_total - len(report.problems)} more problems", file=sys.stderr)
    print(
        f"orders: {report.lines} lines, {report.imported} imported, {report.already_imported} already imported, "
        f"{report.problems_total} problems"
    )
    return 1 if report.problems_total else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="contactcenter")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("serve", help="serve the app with uvicorn")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.add_argument("--workers", type=int, default=1)
    sub.add_parser("voice-worker", help="bridge calls for web processes run with CC_VOICE_WORKERS=external")
    p = sub.add_parser("migrate", help="upgrade the database schema")
    p.add_argument("--revision", default="head")
    p = sub.add_parser("seed-demo", help="fill an empty database with a demo bank")
    p.add_argument("--customers", type=int, default=300)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--force", action="store_true", help="seed a non-default database too (public passwords!)")
    p = sub.add_parser("user", help="manage staff users")
    usub = p.add_subparsers(dest="user_cmd", required=True)
    pa = usub.add_parser("add", help="add a staff user")
    pa.add_argument("username")
    pa.add_argument("--role", required=True, choices=["admin", "supervisor", "agent", "planner"])
    pa.add_argument("--name")
    pa.add_argument("--password", help="prompted for when not given")
    p = sub.add_parser("rules", help="business rules in the rules/ folder")
    rsub = p.add_subparsers(dest="rules_cmd", required=True)
    for name, text in (
        ("check", "validate rules/ (schema, no function nodes, bounded expressions, scripts, facts)"),
        ("import", "publish every rule file that differs from its current version"),
        ("export", "write the published versions to files"),
    ):
        rp = rsub.add_parser(name, help=text)
        rp.add_argument("--dir", help="rules folder (default CC_RULES_DIR)")
        if name == "import":
            rp.add_argument("--author", default="rules import")
    p = sub.add_parser("analytics", help="customer analytics")
    asub = p.add_subparsers(dest="analytics_cmd", required=True)
    asub.add_parser("run", help="recompute associations, tiers, attrition and next products from every order")
    p = sub.add_parser("orders", help="orders from the back office")
    osub = p.add_subparsers(dest="orders_cmd", required=True)
    po = osub.add_parser("import", help="import orders from a CSV file (docs/integration.md); safe to run again")
    po.add_argument("file")
    po.add_argument("--region", default="GB", help="for phone numbers written without a country code")
    args = parser.parse_args(argv)
    settings = get_settings()
    if args.cmd == "serve":
        return _serve(settings, args)
    if args.cmd == "voice-worker":
        return _voice_worker(settings)
    if args.cmd == "migrate":
        migrate(settings.database_url, args.revision)
        print(f"database at {args.revision}")
        return 0
    if args.cmd == "rules":
        return _rules_check(settings, args) if args.rules_cmd == "check" else asyncio.run(_rules_sync(settings, args))
    if args.cmd == "seed-demo":
        return asyncio.run(_seed(settings, args))
    if args.cmd == "analytics":
        return asyncio.run(_analytics_run(settings, args))
    if args.cmd == "orders":
        return asyncio.run(_orders_import(settings, args))
    return asyncio.run(_add_user(settings, args))
