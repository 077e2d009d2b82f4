"""Upload checks: the type comes from the bytes (a PDF named .png is a PDF, an executable named .pdf is
refused), and sheets (CSV, XLSX) become a bounded table of text the widget shows as an HTML table."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from xml.etree import ElementTree

from contactcenter.http import ApiError

PDF, PNG, JPEG = "application/pdf", "image/png", "image/jpeg"
CSV, XLSX = "text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ALLOWED = "PDF, PNG, JPEG, CSV or XLSX"
MAX_ROWS, MAX_COLS, MAX_CELL = 500, 50, 500
# An XLSX is a zip: what its parts may unpack to, whatever their compressed size (a zip bomb is refused).
MAX_UNPACKED = 64 * 1_048_576
_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_CELL_REF = re.compile(r"^([A-Z]{1,3})\d+$")


def _xlsx_parts(data: bytes) -> zipfile.ZipFile | None:
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
        names = set(z.namelist())
    except (zipfile.BadZipFile, ValueError):
        return None
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        return None
    if sum(i.file_size for i in z.infolist()) > MAX_UNPACKED:
        raise ApiError(422, "malformed_file", "this spreadsheet unpacks to too much data")
    return z


def _csv_text(data: bytes) -> str | None:
    if b"\x00" in data[:65_536]:
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    first = text[:4096].splitlines()[0] if text.strip() else ""
    # A text file is a sheet only when its first line has a separator: a plain note is not a table.
    return text if any(sep in first for sep in ",;\t") else None


def sniff(data: bytes) -> str | None:
    """The content type the bytes really are, among the allowed ones."""
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"PK\x03\x04"):
        return XLSX if _xlsx_parts(data) is not None else None
    return CSV if _csv_text(data) is not None else None


def _clip(row: list[str]) -> list[str]:
    return [c[:MAX_CELL] for c in row[:MAX_COLS]]


def csv_rows(data: bytes) -> list[list[str]]:
    text = _csv_text(data) or ""
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = []
    for row in csv.reader(io.StringIO(text), dialect):
        rows.append(_clip(row))
        if len(rows) >= MAX_ROWS:
            break
    return rows


def _col(ref: str) -> int:
    m = _CELL_REF.match(ref)
    n = 0
    for ch in m[1] if m else "A":
        n = n * 26 + ord(ch) - 64
    return n - 1


def _read(z: zipfile.ZipFile, name: str) -> ElementTree.Element | None:
    try:
        raw = z.read(name)
    except KeyError:
        return None
    if b"<!DOCTYPE" in raw or b"<!ENTITY" in raw:  # no entity expansion (billion laughs): refused
        raise ApiError(422, "malformed_file", "this spreadsheet declares entities")
    try:
        return ElementTree.fromstring(raw)
    except ElementTree.ParseError:
        raise ApiError(422, "malformed_file", "this spreadsheet cannot be read") from None


def xlsx_rows(data: bytes) -> list[list[str]]:
    """The first sheet's cells as text (shared strings resolved, formulas as their cached value)."""
    z = _xlsx_parts(data)
    if z is None:
        raise ApiError(422, "malformed_file", "this spreadsheet cannot be read")
    shared: list[str] = []
    strings = _read(z, "xl/sharedStrings.xml")
    if strings is not None:
        shared = ["".join(t.text or "" for t in si.iter(f"{_NS}t")) for si in strings.iter(f"{_NS}si")]
    sheet = _read(z, "xl/worksheets/sheet1.xml")
    rows: list[list[str]] = []
    for row in sheet.iter(f"{_NS}row") if sheet is not None else ():
        cells: list[str] = []
        for c in row.iter(f"{_NS}c"):
            i = _col(c.get("r", ""))
            if i >= MAX_COLS:
                continue
            v = c.find(f"{_NS}v")
            text = v.text or "" if v is not None else "".join(t.text or "" for t in c.iter(f"{_NS}t"))
            if c.get("t") == "s" and text.isdigit():
                text = shared[int(text)] if int(text) < len(shared) else ""
            cells.extend([""] * (i - len(cells)))
            cells.append(text)
        rows.append(_clip(cells))
        if len(rows) >= MAX_ROWS:
            break
    return rows


def check(data: bytes, *, max_bytes: int) -> str:
    """The sniffed type of an upload, or the error that refuses it."""
    if not data:
        raise ApiError(422, "empty_file", "the file is empty")
    if len(data) > max_bytes:
        raise ApiError(413, "file_too_large", f"documents are at most {max_bytes // 1_048_576} MB")
    ctype = sniff(data)
    if ctype is None:
        raise ApiError(415, "unsupported_type", f"only {ALLOWED} documents can be added")
    if ctype == XLSX:
        xlsx_rows(data)  # a sheet that cannot be shown is refused now, not when a customer opens it
    return ctype


def table(ctype: str, data: bytes) -> list[list[str]]:
    return csv_rows(data) if ctype == CSV else xlsx_rows(data)
