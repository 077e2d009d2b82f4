"""The planner pages' test rig: the real server on a demo-seeded SQLite database, loading a copy of rules/."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from contactcenter.db import Database, utcnow
from contactcenter.suggestions.models import SuggestionRecord
from tests.procs import app_process

ROOT = Path(__file__).resolve().parents[2]
PLANNER, PLANNER_NAME = "pat", "Pat Planner"
AGENT = "alice"
BUNDLE = ROOT / "web" / "static" / "planner" / "dist" / "editor.js"


def password(username: str) -> str:
    return f"{username}-demo-pass"


@dataclass
class PlannerServer:
    base_url: str
    log: Path

    @contextlib.contextmanager
    def client(self, username: str) -> Iterator[httpx.Client]:
        """An HTTP client signed in as `username`, sending its CSRF token on every request."""
        with httpx.Client(base_url=self.base_url, timeout=20) as client:
            r = client.post("/api/session", json={"username": username, "password": password(username)})
            r.raise_for_status()
            client.headers["X-CSRF-Token"] = r.json()["csrf_token"]
            yield client

    def rule(self, rule_id: str) -> dict[str, Any]:
        with self.client(PLANNER) as c:
            r = c.get(f"/api/rules/{rule_id}")
            r.raise_for_status()
            data: dict[str, Any] = r.json()
            return data


# Feedback already recorded for the fund adviser rule, version 1: (shown or held out, outcome) per contact.
FEEDBACK = [("shown", "converted")] * 3 + [("shown", "accepted")] * 2 + [("shown", "dismissed")] * 4
FEEDBACK += [("shown", None)] * 3 + [("held_out", None)] * 4 + [("held_out", "converted")]


async def _record_feedback(url: str) -> None:
    db, now = Database(url), utcnow()
    async with db.session() as s:
        for n, (kind, outcome) in enumerate(FEEDBACK):
            at = now - timedelta(hours=n + 1)
            s.add(
                SuggestionRecord(
                    rule_id="fund-advisor",
                    version=1,
                    row_id="fund-advisor-1",
                    customer_id=n + 1,
                    conversation_id=f"e2e-conv-{n}",
                    title="Global Equity Fund with an adviser",
                    offer="HB-FD-GLOBAL",
                    script_id="fund_advisor",
                    priority=80,
                    reason="Gold or platinum customer reading about funds right now",
                    held_out=kind == "held_out",
                    shown_at=at,
                    accepted_at=at if outcome in ("accepted", "converted") else None,
                    dismissed_at=at if outcome == "dismissed" else None,
                    dismiss_reason="Not interested today" if outcome == "dismissed" else None,
                    converted_at=at if outcome == "converted" else None,
                    conversion_product="HB-FD-GLOBAL" if outcome == "converted" else None,
                    conversion_amount=Decimal("5000.00") if outcome == "converted" else None,
                    conversion_source="wrap_up" if outcome == "converted" else None,
                )
            )
        await s.commit()
    await db.dispose()


def build_bundle() -> None:
    """The editor bundle is built by `make run` / `make test`; build it here when pytest runs on its own."""
    if not BUNDLE.exists():
        subprocess.run(["make", "planner"], cwd=ROOT, check=True, capture_output=True)


@contextlib.contextmanager
def planner_server(tmp: Path) -> Iterator[PlannerServer]:
    url = f"sqlite+aiosqlite:///{tmp / 'planner.db'}"
    rules = tmp / "rules"
    shutil.copytree(ROOT / "rules", rules)  # publishes go to the database; the copy keeps rules/ safe anyway
    env = {
        **os.environ,
        "CC_DATABASE_URL": url,
        "CC_SECRET_KEY": "planner-e2e-" + "p" * 40,
        "CC_RULES_DIR": str(rules),
        "CC_LOG_JSON": "false",
    }
    cli = [sys.executable, "-m", "contactcenter"]
    subprocess.run([*cli, "migrate"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run([*cli, "seed-demo", "--customers", "40"], cwd=ROOT, env=env, check=True, capture_output=True)
    # A thread of its own: Playwright's sync API keeps an event loop running in the main thread.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, _record_feedback(url)).result()
    log = tmp / "server.log"
    with app_process(env, log) as base:
        yield PlannerServer(base_url=base, log=log)
