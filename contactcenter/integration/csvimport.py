"""Orders from a CSV file (an export of the order system): streamed line by line, each line its own
transaction, so a bad line is reported with its number and never stops or undoes the good ones. Lines carry
the back office's order reference; a re-run skips what was imported (the reference is unique)."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.bus import Bus
from contactcenter.ccr import service as ccr
from contactcenter.ccr.identity import normalize_identity
from contactcenter.ccr.schemas import IdentityKind
from contactcenter.http import ApiError
from contactcenter.integration import service
from contactcenter.integration.schemas import OrderIn

REQUIRED = ("customer", "sku", "amount", "external_ref")
MAX_LISTED = 100  # problems listed one by one; the rest are counted
Progress = Callable[[int], None]


class LineProblem(BaseModel):
    line: int  # as a spreadsheet numbers it: the header is line 1
    message: str


class ImportReport(BaseModel):
    lines: int = 0
    imported: int = 0
    already_imported: int = 0
    problems: list[LineProblem] = Field(default_factory=list)
    problems_total: int = 0

    def problem(self, line: int, message: str) -> None:
        self.problems_total += 1
        if len(self.problems) < MAX_LISTED:
            self.problems.append(LineProblem(line=line, message=message))


async def _customer(session: AsyncSession, ref: str, region: str) -> int | None:
    """`customer` is a customer id, an email, a phone number, or `external:system:id`."""
    ref = ref.strip()
    if ref.isdigit():
        try:
            return await ccr.live_customer_id(session, customer_id=int(ref))
        except ApiError:
            return None
    kind = IdentityKind.email if "@" in ref else IdentityKind.phone
    if ref.startswith("external:"):
        kind, ref = IdentityKind.external, ref.removeprefix("external:")
    try:
        value = normalize_identity(kind, ref, region=region)
    except ApiError:  # not an email / phone / external id at all
        return None
    return await ccr.find_by_identity(session, kind=kind, value=value, region=region)


def _order(row: dict[str, Any], customer_id: int) -> OrderIn:
    placed = (row.get("placed_at") or "").strip()
    try:
        when = datetime.fromisoformat(placed) if placed else None
    except ValueError:
        raise ValueError(
            f"placed_at: {placed[:40]!r} is not a date (write 2026-11-02 or 2026-11-02T15:30:00Z)"
        ) from None
    return OrderIn(
        customer_id=customer_id,
        sku=(row.get("sku") or "").strip(),
        quantity=(row.get("quantity") or "1").strip() or 1,  # pydantic parses the text
        amount=(row.get("amount") or "").strip(),  # pydantic parses the text
        status=(row.get("status") or "placed").strip().lower() or "placed",
        external_ref=(row.get("external_ref") or "").strip(),
        placed_at=when,
    )


async def import_orders(
    session: AsyncSession, bus: Bus, *, lines: Iterable[str], region: str, progress: Progress | None = None
) -> ImportReport:
    report = ImportReport()
    reader = csv.DictReader(lines)
    missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        report.problem(1, f"the header lacks the column(s) {', '.join(missing)}")
        return report
    for row in reader:
        report.lines += 1
        line = reader.line_num
        if progress is not None and report.lines % 500 == 0:
            progress(report.lines)
        if None in row:  # more fields than the header has
            report.problem(line, "more fields than the header names")
            continue
        if not (row.get("external_ref") or "").strip():
            report.problem(line, "no external_ref: without it a re-run would import the order twice")
            continue
        customer_id = await _customer(session, row.get("customer") or "", region)
        if customer_id is None:
            report.problem(line, f"no customer {(row.get('customer') or '').strip()[:80]!r}")
            continue
        try:
            order = _order(row, customer_id)
        except (ValidationError, ValueError) as exc:
            first = exc.errors()[0] if isinstance(exc, ValidationError) else None
            where = f"{first['loc'][0]}: {first['msg']}" if first else str(exc)
            report.problem(line, f"not an order ({where})")
            continue
        try:
            await service.record_order(session, bus, data=order)
            report.imported += 1
        except ApiError as exc:
            await session.rollback()
            if exc.code == "duplicate_order":
                report.already_imported += 1
            else:
                report.problem(line, exc.detail)
    if progress is not None:
        progress(report.lines)
    return report
