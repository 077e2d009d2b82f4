"""Orders from a CSV export: good lines land with their touches, each bad line is reported with its number
and stops nothing, and a second run of the same file imports nothing twice."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy import func, select

from contactcenter.ccr import service as ccr
from contactcenter.ccr.models import Touch
from contactcenter.ccr.schemas import CustomerCreate, IdentityIn, IdentityKind
from contactcenter.integration import service
from contactcenter.integration.csvimport import import_orders
from contactcenter.integration.models import Order, Product
from tests.procs import cli

HEADER = "customer,sku,quantity,amount,status,external_ref,placed_at"


async def _setup(app: FastAPI) -> int:
    async with app.state.db.session() as s:
        s.add(Product(sku="CARD-GOLD", name="Gold card", category="cards", price=Decimal("95")))
        await s.commit()
        c = await ccr.create_customer(
            s,
            data=CustomerCreate(
                display_name="Carl CSV",
                identities=[
                    IdentityIn(kind=IdentityKind.email, value="carl@example.com"),
                    IdentityIn(kind=IdentityKind.phone, value="+44 20 7946 0018"),
                ],
            ),
            region="GB",
        )
    return c.id


def _file(cid: int) -> list[str]:
    return [
        HEADER,
        "carl@example.com,CARD-GOLD,1,95.00,active,EXP-1,2026-10-01T09:00:00+00:00",  # line 2: by email
        "020 7946 0018,CARD-GOLD,2,190.00,placed,EXP-2,",  # line 3: by a national phone number
        f"{cid},CARD-GOLD,1,95.00,,EXP-3,2026-11-02",  # line 4: by id, default status
        "nobody@example.com,CARD-GOLD,1,95.00,placed,EXP-4,",  # line 5: unknown customer
        "carl@example.com,NO-SUCH,1,10.00,placed,EXP-5,",  # line 6: unknown product
        "carl@example.com,CARD-GOLD,1,-5,placed,EXP-6,",  # line 7: negative amount
        "carl@example.com,CARD-GOLD,1,95.00,placed,,",  # line 8: no reference
        "carl@example.com,CARD-GOLD,1,95.00,placed,EXP-9,yesterday",  # line 9: bad date
        "carl@example.com,CARD-GOLD,1,95.00,placed,EXP-10,,surplus",  # line 10: too many fields
        '"carl@example.com","CARD-GOLD",1,"1,000.00",placed,EXP-11,',  # line 11: amount with a comma
    ]


async def test_good_lines_land_bad_ones_are_named_and_a_rerun_adds_nothing(app: FastAPI) -> None:
    cid = await _setup(app)
    async with app.state.db.session() as s:
        report = await import_orders(s, app.state.bus, lines=_file(cid), region="GB")
    assert (report.lines, report.imported, report.already_imported, report.problems_total) == (10, 3, 0, 7)
    by_line = {p.line: p.message for p in report.problems}
    assert "no customer 'nobody@example.com'" in by_line[5]
    assert "NO-SUCH" in by_line[6]
    assert by_line[7] == "not an order (amount: Input should be greater than or equal to 0)"
    assert "external_ref" in by_line[8]
    assert "placed_at: 'yesterday' is not a date" in by_line[9]
    assert "more fields" in by_line[10]
    assert "amount" in by_line[11]
    async with app.state.db.session() as s:
        orders = await service.list_orders(s, customer_id=cid)
        touches = await s.scalar(select(func.count()).select_from(Touch).where(Touch.customer_id == cid))
    assert sorted(o.external_ref or "" for o in orders) == ["EXP-1", "EXP-2", "EXP-3"]
    assert {o.external_ref: o.quantity for o in orders}["EXP-2"] == 2
    assert touches == 3  # each order on the customer's timeline

    async with app.state.db.session() as s:
        again = await import_orders(s, app.state.bus, lines=_file(cid), region="GB")
        n = await s.scalar(select(func.count()).select_from(Order))
    assert (again.imported, again.already_imported, again.problems_total) == (0, 3, 7)
    assert n == 3


async def test_a_file_without_the_needed_columns_is_refused_whole(app: FastAPI) -> None:
    async with app.state.db.session() as s:
        report = await import_orders(s, app.state.bus, lines=["email,sku", "a@b.c,X"], region="GB")
    assert report.imported == 0 and report.problems[0].line == 1
    assert "customer" in report.problems[0].message and "amount" in report.problems[0].message


def test_the_cli_imports_reports_lines_and_fails_on_problems(tmp_path: Path, sqlite_template: Path) -> None:
    db = tmp_path / "cc.db"
    db.write_bytes(sqlite_template.read_bytes())
    env = {"CC_DATABASE_URL": f"sqlite+aiosqlite:///{db}", "CC_SECRET_KEY": "cli-secret-" + "x" * 32}
    seeded = cli(env, "seed-demo", "--customers", "5", "--force")
    assert seeded.returncode == 0, seeded.stderr
    with sqlite3.connect(db) as c:
        sku = c.execute("SELECT sku FROM products LIMIT 1").fetchone()[0]
        cid = c.execute("SELECT id FROM customers LIMIT 1").fetchone()[0]
    f = tmp_path / "orders.csv"
    f.write_text(f"\ufeff{HEADER}\n{cid},{sku},1,10.00,placed,CLI-1,\nghost@example.com,{sku},1,1.00,placed,CLI-2,\n")
    done = cli(env, "orders", "import", str(f))
    assert done.returncode == 1, done.stderr
    assert "1 imported" in done.stdout and "1 problems" in done.stdout
    assert f"{f}:3: no customer 'ghost@example.com'" in done.stderr
    again = cli(env, "orders", "import", str(f))
    assert "0 imported, 1 already imported" in again.stdout
