"""The document library over HTTP on both deployments: types from the bytes (lying names), size and
malformed files refused, search by words and tag, sheets as tables, roles on every route."""

from __future__ import annotations

import io
import zipfile

import httpx
import pytest

from contactcenter.documents import files
from contactcenter.settings import Settings
from contactcenter.types import Role
from tests.conftest import UserFactory, login
from tests.documents import samples

EXE = b"MZ\x90\x00" + b"\x00" * 200  # a Windows executable's first bytes


async def up(client: httpx.AsyncClient, name: str, data: bytes, title: str = "", tags: str = "") -> httpx.Response:
    return await client.post("/api/documents", files={"file": (name, data)}, data={"title": title, "tags": tags})


@pytest.fixture
def small_docs(settings: Settings) -> Settings:
    settings.document_max_bytes = 50_000
    return settings


async def test_upload_checks_search_and_roles(
    small_docs: Settings, client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    # No one signed in: nothing is listed, nothing is added.
    assert (await client.get("/api/documents")).status_code == 401
    assert (await up(client, "a.pdf", samples.pdf())).status_code in (401, 403)
    await login(client, await make_user(Role.agent))

    # The bytes decide: a PDF named .png is a PDF, an executable named .pdf is refused.
    r = await up(client, "chart.png", samples.pdf(), title="Fund chart 2026", tags="funds, charts")
    assert r.status_code == 201, r.text
    chart = r.json()
    assert chart["content_type"] == files.PDF and chart["tags"] == ["charts", "funds"]
    r = await up(client, "contract.pdf", EXE)
    assert r.status_code == 415 and r.json()["error"] == "unsupported_type"
    r = await up(client, "note.csv", b"just a sentence with no columns\n")
    assert r.status_code == 415
    assert (await up(client, "empty.pdf", b"")).json()["error"] == "empty_file"
    r = await up(client, "big.pdf", b"%PDF-" + b"0" * 60_000)
    assert r.status_code == 413 and r.json()["error"] == "file_too_large"
    # A zip that is not a workbook, and a workbook that declares entities (billion laughs): refused.
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("hello.txt", "hi")
    assert (await up(client, "sheet.xlsx", buf.getvalue())).status_code == 415
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/worksheets/sheet1.xml", '<!DOCTYPE x [<!ENTITY a "aaaa">]><worksheet>&a;</worksheet>')
    r = await up(client, "rates.xlsx", bomb.getvalue())
    assert r.status_code == 422 and r.json()["error"] == "malformed_file"

    plan = (await up(client, "plan.jpg", samples.png(), title="Floor plan", tags="homes")).json()
    assert plan["content_type"] == files.PNG
    sheet = (await up(client, "rates", samples.xlsx([["Term", "Rate"], ["5 years", "3.9"]]), title="Rates")).json()
    assert sheet["content_type"] == files.XLSX
    csv_doc = (await up(client, "fees.txt", b"Fee;Amount\nAccount;0\n", title="Fees")).json()
    assert csv_doc["content_type"] == files.CSV

    async def titles(**params: str) -> list[str]:
        r = await client.get("/api/documents", params=params)
        assert r.status_code == 200, r.text
        return [d["title"] for d in r.json()]

    assert await titles(q="fund") == ["Fund chart 2026"]
    assert await titles(q="CHART 2026") == ["Fund chart 2026"]
    assert await titles(q="charts") == ["Fund chart 2026"]  # a tag is searched too
    assert await titles(tag="homes") == ["Floor plan"]
    assert await titles(q="100%") == []  # LIKE's wildcards are only text
    assert sorted(await titles()) == ["Fees", "Floor plan", "Fund chart 2026", "Rates"]
    r = await client.get(f"/api/documents/{chart['id']}/file")
    assert r.status_code == 200 and r.content == samples.pdf() and r.headers["content-type"] == files.PDF

    # Sheets as tables (read by the viewer): the workbook's shared strings, the CSV's own separator.
    assert files.table(files.XLSX, samples.xlsx([["Term", "Rate"], ["5 years", "3.9"]])) == [
        ["Term", "Rate"], ["5 years", "3.9"]]  # fmt: skip
    assert files.table(files.CSV, b"Fee;Amount\nAccount;0\n") == [["Fee", "Amount"], ["Account", "0"]]

    # An agent neither edits nor removes; a supervisor does; a removed document is no longer listed.
    assert (await client.patch(f"/api/documents/{plan['id']}", json={"title": "x"})).status_code == 403
    assert (await client.delete(f"/api/documents/{plan['id']}")).status_code == 403
    await client.delete("/api/session")
    await login(client, await make_user(Role.supervisor))
    r = await client.patch(f"/api/documents/{plan['id']}", json={"title": "Floor plan B", "tags": ["homes", "new"]})
    assert r.status_code == 200 and r.json()["tags"] == ["homes", "new"]
    assert (await client.delete(f"/api/documents/{plan['id']}")).status_code == 204
    assert await titles(tag="homes") == []
    assert (await client.get(f"/api/documents/{plan['id']}")).status_code == 404
    # A planner has no business in the library.
    await client.delete("/api/session")
    await login(client, await make_user(Role.planner))
    assert (await client.get("/api/documents")).status_code == 403
    # A visitor's token opens no library document, whatever id it guesses.
    token = (await client.post("/api/visitors")).json()["token"]
    client.cookies.clear()
    r = await client.get(f"/api/documents/{chart['id']}/file", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401
