"""The demo bank's document library (a fund chart PDF, a floor plan image, a rates sheet), drawn here with
the standard library so the demo needs no binary files; the tests use the same generators."""

from __future__ import annotations

import io
import struct
import zlib

from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.documents import service as documents


def pdf(pages: int = 2, text: str = "Fund chart", bars: tuple[int, ...] = ()) -> bytes:
    """A valid PDF (xref offsets right): a title, a filled box (or a bar chart) on each page."""
    objs: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(pages))
    objs.append(f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode())
    font = 3 + 2 * pages
    for i in range(pages):
        objs.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 200] /Contents {4 + 2 * i} 0 R "
            f"/Resources << /Font << /F1 {font} 0 R >> >> >>".encode()
        )
        shapes = " ".join(f"{20 + 40 * k} 20 28 {h} re" for k, h in enumerate(bars)) if bars else "20 20 260 90 re"
        stream = f"0.1 0.3 0.7 rg {shapes} f BT /F1 18 Tf 20 150 Td ({text} p{i + 1}) Tj ET".encode()
        objs.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    objs.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objs, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % n + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref))
    return out.getvalue()


def png(width: int = 120, height: int = 80, rgb: tuple[int, int, int] = (200, 40, 40), grid: int = 0) -> bytes:
    """A solid image, with dark lines every `grid` pixels when given (a floor plan's walls, roughly)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    wall = bytes((40, 40, 50))
    rows = []
    for y in range(height):
        line = bytes(rgb) * width if not grid or y % grid else wall * width
        if grid:
            line = b"".join(wall if x % grid == 0 else bytes(rgb) for x in range(width)) if y % grid else line
        rows.append(b"\x00" + line)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = zlib.compress(b"".join(rows))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


async def add_library(session: AsyncSession, *, uploaded_by: int) -> int:
    """The demo's three documents; returns how many."""
    items = [
        ("Harbour Growth Fund: five years", "funds, charts", "fund-chart.pdf",
         pdf(2, "Harbour Growth Fund", bars=(40, 55, 48, 70, 90, 84))),
        ("Two-bedroom flat: floor plan", "mortgages, homes", "floor-plan.png",
         png(480, 320, (236, 232, 220), grid=80)),
        ("Savings rates", "savings, rates", "rates.csv",
         b"Account,Rate (AER),Access\nEasy Access Saver,4.10%,Instant\nFixed 1 year,4.65%,At maturity\n"),
    ]  # fmt: skip
    for title, tags, name, data in items:
        await documents.add(
            session, title=title, tags=[t.strip() for t in tags.split(",")], filename=name, data=data,
            uploaded_by=uploaded_by, max_bytes=len(data) + 1,
        )  # fmt: skip
    return len(items)
