"""Chat attachments over HTTP + websocket, and chat transcripts mailed to a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import email
import email.policy
import os
import struct
import zlib
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from contactcenter.channels.chat.models import ChatAttachment, ChatMessage
from contactcenter.settings import Settings
from tests.chat.conftest import Client, Live, customer, staff
from tests.chat.multiproc import make_staff, staff_login
from tests.services import free_port

memory_only = pytest.mark.parametrize("settings", ["sqlite+memory"], indirect=True)


def png_bytes() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0\xff\0\0")) + chunk(b"IEND", b"")
    )


PNG = png_bytes()
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + os.urandom(64) + b"\xff\xd9"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


async def upload(
    h: httpx.AsyncClient, conversation_id: str, name: str, data: bytes, ctype: str = "application/octet-stream"
) -> httpx.Response:
    return await h.post(
        "/api/chat/attachments", data={"conversation_id": conversation_id}, files={"file": (name, data, ctype)}
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def start_chat(c: Client, email: str | None = None, name: str = "Ann") -> str:
    await c.send({"type": "start", "name": name, "email": email})
    conv_id: str = (await c.next("conversation"))["conversation"]["id"]
    return conv_id


async def attachment_rows(live: Live) -> int:
    async with live.app.state.db.session() as s:
        n: int = await s.scalar(select(func.count()).select_from(ChatAttachment)) or 0
        return n


async def message_rows(live: Live, conversation_id: str) -> int:
    async with live.app.state.db.session() as s:
        n: int = await s.scalar(select(func.count()).where(ChatMessage.conversation_id == conversation_id)) or 0
        return n


async def agent_http(live: Live, username: str) -> httpx.AsyncClient:
    cookie, csrf = await staff_login(live.base, username)
    return httpx.AsyncClient(base_url=live.base, cookies={"cc_session": cookie}, headers={"X-CSRF-Token": csrf})


async def test_uploads_from_both_sides_travel_in_messages_and_download_byte_for_byte(live: Live) -> None:
    name = await make_staff(live.app)
    async with staff(live, name) as agent, customer(live) as (cust, token):
        cid = await start_chat(cust)
        await agent.next("conversation")
        refs: list[dict[str, Any]] = []
        async with httpx.AsyncClient(base_url=live.base, headers=bearer(token)) as h:
            for fname, data, ctype in (("photo.png", PNG, "image/png"), ("scan.jpg", JPEG, "image/jpeg")):
                r = await upload(h, cid, fname, data, ctype)
                assert r.status_code == 201, r.text
                refs.append(r.json())
            # The bytes decide the type, not the name or the client's header.
            r = await upload(h, cid, "contract.bin", PDF, "text/plain")
            assert r.status_code == 201, r.text
            refs.append(r.json())
        assert [(x["name"], x["type"], x["size"]) for x in refs] == [
            ("photo.png", "image/png", len(PNG)),
            ("scan.jpg", "image/jpeg", len(JPEG)),
            ("contract.bin", "application/pdf", len(PDF)),
        ]
        sent = await cust.say(cid, "my documents", attachments=[x["id"] for x in refs])
        got = (await agent.next("message"))["message"]
        assert got["seq"] == sent["seq"] and got["attachments"] == refs

        async with (
            await agent_http(live, name) as ah,
            httpx.AsyncClient(base_url=live.base, headers=bearer(token)) as vh,
        ):
            r = await upload(ah, cid, "offer.pdf", PDF, "application/pdf")
            assert r.status_code == 201, r.text
            offer = r.json()
            reply = await agent.say(cid, "", attachments=[offer["id"]])  # an attachment alone is a message
            msg = await next_message(cust, reply["seq"])
            assert msg["attachments"] == [offer] and msg["body"] == ""
            # Both sides can download every attachment of the conversation, unchanged.
            for ref, data in ((refs[0], PNG), (refs[1], JPEG), (refs[2], PDF), (offer, PDF)):
                for h in (ah, vh):
                    d = await h.get(f"/api/chat/attachments/{ref['id']}")
                    assert d.status_code == 200 and d.content == data
                    assert d.headers["content-type"] == ref["type"]
                    assert d.headers["x-content-type-options"] == "nosniff"
                    disposition = d.headers["content-disposition"]
                    kind = "inline" if ref["type"].startswith("image/") else "attachment"
                    assert disposition.startswith(f'{kind}; filename="{ref["name"]}"'), disposition


async def next_message(c: Client, seq: int) -> dict[str, Any]:
    while True:
        m: dict[str, Any] = (await c.next("message"))["message"]
        if m["seq"] == seq:
            return m


def disposition_names(header: str) -> tuple[str, str]:
    """(the plain filename="...", the RFC 6266 filename*=UTF-8''... decoded)."""
    parts = [p.strip() for p in header.split(";")]
    plain = next(p for p in parts if p.startswith("filename=")).removeprefix("filename=")
    star = next(p for p in parts if p.startswith("filename*=")).removeprefix("filename*=")
    assert plain.startswith('"') and plain.endswith('"') and plain.count('"') == 2, header
    assert star.startswith("UTF-8''"), header
    return plain[1:-1], unquote(star.removeprefix("UTF-8''"), encoding="utf-8", errors="strict")


async def test_download_names_are_safe_even_when_not_ascii(live: Live) -> None:
    async with customer(live) as (cust, token):
        cid = await start_chat(cust)
        async with httpx.AsyncClient(base_url=live.base, headers=bearer(token)) as h:
            cases = {
                "Grüße 報告 Ärger.pdf": "Grüße 報告 Ärger.pdf",
                '../../etc/pa"ss\\wd;x.pdf': None,  # path, quotes, separators
                "naïve\r\nX-Evil: 1.png": None,
            }
            for original, expected in cases.items():
                data = PNG if original.endswith(".png") else PDF
                r = await upload(h, cid, original, data)
                assert r.status_code == 201, r.text
                ref = r.json()
                if expected is not None:
                    assert ref["name"] == expected
                d = await h.get(f"/api/chat/attachments/{ref['id']}")
                assert d.status_code == 200 and d.content == data
                header = d.headers["content-disposition"]
                header.encode("ascii")  # the raw header is plain ASCII: no mojibake, no injected bytes
                plain, utf8 = disposition_names(header)
                assert utf8 == ref["name"]
                assert not any(ch in plain for ch in '"\\/;\r\n') and not any(ch in utf8 for ch in '"\\/\r\n')
                assert "X-Evil" not in d.headers and d.headers["x-content-type-options"] == "nosniff"


@memory_only
async def test_files_that_are_not_images_or_pdfs_are_refused_415(live: Live) -> None:
    async with customer(live) as (cust, token):
        cid = await start_chat(cust)
        async with httpx.AsyncClient(base_url=live.base, headers=bearer(token)) as h:
            bad = [
                ("setup.exe", b"MZ\x90\x00\x03\x00\x00\x00" + os.urandom(200), "application/octet-stream"),
                ("cute.png", b"<html><script>alert(document.cookie)</script></html>", "image/png"),
                ("logo.png", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "image/png"),
                ("doc.pdf", b" %PDF-1.4 (not at the start)", "application/pdf"),
            ]
            for fname, data, ctype in bad:
                r = await upload(h, cid, fname, data, ctype)
                assert r.status_code == 415 and r.json()["error"] == "unsupported_type", (fname, r.text)
    assert await attachment_rows(live) == 0


async def test_files_over_5_mb_are_refused_413_and_nothing_is_kept(live: Live) -> None:
    async with customer(live) as (cust, token):
        cid = await start_chat(cust)
        async with httpx.AsyncClient(base_url=live.base, headers=bearer(token), timeout=30) as h:
            just_over = PNG + b"\0" * (5 * 1_048_576 + 1 - len(PNG))
            way_over = PDF + b"\0" * (8 * 1_048_576)
            for data in (just_over, way_over):
                r = await upload(h, cid, "big.png", data, "image/png")
                assert r.status_code == 413, r.text
            exactly = PNG + b"\0" * (5 * 1_048_576 - len(PNG))
            r = await upload(h, cid, "max.png", exactly, "image/png")
            assert r.status_code == 201, r.text
    assert await attachment_rows(live) == 1


async def test_another_customer_can_neither_download_nor_upload_into_a_foreign_conversation(live: Live) -> None:
    async with customer(live) as (owner, owner_token), customer(live) as (other, other_token):
        cid = await start_chat(owner)
        await start_chat(other)
        async with (
            httpx.AsyncClient(base_url=live.base, headers=bearer(owner_token)) as mine,
            httpx.AsyncClient(base_url=live.base, headers=bearer(other_token)) as theirs,
        ):
            ref = (await upload(mine, cid, "id-card.png", PNG, "image/png")).json()
            d = await theirs.get(f"/api/chat/attachments/{ref['id']}")
            assert d.status_code == 404 and d.json()["error"] == "conversation_not_found"  # docs/api.md
            r = await upload(theirs, cid, "planted.pdf", PDF, "application/pdf")
            assert r.status_code == 404 and r.json()["error"] == "conversation_not_found"
        async with httpx.AsyncClient(base_url=live.base) as anonymous:
            assert (await anonymous.get(f"/api/chat/attachments/{ref['id']}")).status_code == 401
    assert await attachment_rows(live) == 1


async def test_referencing_an_attachment_that_is_not_yours_is_unknown_attachment(live: Live) -> None:
    name = await make_staff(live.app)
    async with staff(live, name) as agent, customer(live) as (owner, owner_token), customer(live) as (other, tok2):
        cid = await start_chat(owner)
        await agent.next("conversation")
        cid2 = await start_chat(other)
        async with httpx.AsyncClient(base_url=live.base, headers=bearer(owner_token)) as h:
            owners = (await upload(h, cid, "mine.png", PNG, "image/png")).json()
        async with httpx.AsyncClient(base_url=live.base, headers=bearer(tok2)) as h:
            others = (await upload(h, cid2, "theirs.png", PNG, "image/png")).json()
        # Someone else's upload, or an id that does not exist: refused, nothing stored.
        for conv, att in ((cid, others["id"]), (cid, "00000000-0000-0000-0000-000000000000")):
            await owner.send(
                {
                    "type": "send",
                    "conversation_id": conv,
                    "client_id": f"x{att[:4]}",
                    "body": "see",
                    "attachments": [att],
                }
            )
            err = await owner.next("error")
            assert err["code"] == "unknown_attachment", err
        # The agent cannot pass the customer's upload off as their own either.
        await agent.send(
            {"type": "send", "conversation_id": cid, "client_id": "ag1", "body": "", "attachments": [owners["id"]]}
        )
        assert (await agent.next("error"))["code"] == "unknown_attachment"
        # The owner's own attachment works.
        assert (await owner.say(cid, "mine", attachments=[owners["id"]]))["seq"] == 1
    assert await message_rows(live, cid) == 1 and await message_rows(live, cid2) == 0


# --- Transcripts ------------------------------------------------------------------------------------------------


class Mailbox:
    """An aiosmtpd handler that keeps every message it accepts (or refuses each with `refuse`)."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], email.message.EmailMessage]] = []
        self.refuse: str | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse:
            return self.refuse
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(msg, email.message.EmailMessage)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), msg))
        return "250 Message accepted for delivery"


@pytest.fixture
def mailbox(settings: Settings) -> Iterator[Mailbox]:
    """A real SMTP server on a free loopback port; the app under test relays through it. Request it before `live`."""
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.smtp_url = f"smtp://127.0.0.1:{controller.port}"
    yield box
    controller.stop()


async def transcript(live: Live, token: str, cid: str, to: str | None) -> httpx.Response:
    async with httpx.AsyncClient(base_url=live.base, headers=bearer(token)) as h:
        return await h.post(f"/api/chat/conversations/{cid}/transcript", json={"email": to} if to else {})


async def test_transcript_mails_every_public_message_and_no_private_note(mailbox: Mailbox, live: Live) -> None:
    name = await make_staff(live.app)
    public = ["Hello, I need a mortgage", "Hi Ann, happy to help — what amount?", "About £250,000 <b>urgent</b>"]
    async with staff(live, name) as agent, customer(live) as (cust, token):
        cid = await start_chat(cust, email="Ann.Customer@Example.com")
        await agent.next("conversation")
        await cust.say(cid, public[0])
        await agent.say(cid, public[1])
        await agent.say(cid, "NOTE: credit score looks weak", private=True)
        await cust.say(cid, public[2])
        r = await transcript(live, token, cid, None)  # to the address given when the chat started
    assert r.status_code == 202, r.text
    assert r.json() == {"messages": 3}
    assert len(mailbox.messages) == 1
    _mail_from, rcpt, msg = mailbox.messages[0]
    assert rcpt == ["ann.customer@example.com"] and msg["To"] == "ann.customer@example.com"
    body = msg.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    for line in public:
        assert line in text
    assert "credit score" not in text and "NOTE" not in text
    assert text.index(public[0]) < text.index(public[1]) < text.index(public[2])


@memory_only
async def test_transcript_without_a_mail_relay_is_503(live: Live) -> None:
    assert live.app.state.settings.smtp_url is None
    async with customer(live) as (cust, token):
        cid = await start_chat(cust)
        await cust.say(cid, "hello")
        r = await transcript(live, token, cid, "ann@example.com")
    assert r.status_code == 503 and r.json()["error"] == "email_unavailable"


@memory_only
async def test_transcript_checks_the_address_and_the_owner(mailbox: Mailbox, live: Live) -> None:
    async with customer(live) as (cust, token), customer(live) as (_other, other_token):
        cid = await start_chat(cust, email="ann@example.com")
        await cust.say(cid, "hello")
        for bad in ("not-an-email", "ann@", "ann@example.com\r\nBcc: victim@example.com", "x" * 400 + "@example.com"):
            r = await transcript(live, token, cid, bad)
            assert r.status_code == 422, (bad, r.text)
        r = await transcript(live, other_token, cid, "thief@example.com")
        assert r.status_code == 404 and r.json()["error"] == "conversation_not_found"
    assert mailbox.messages == []


async def test_more_than_five_transcripts_an_hour_is_429(mailbox: Mailbox, live: Live) -> None:
    async with customer(live) as (cust, token):
        cid = await start_chat(cust, email="ann@example.com")
        await cust.say(cid, "hello")
        codes = [(await transcript(live, token, cid, "ann@example.com")).status_code for _ in range(6)]
        r = await transcript(live, token, cid, "ann@example.com")
    assert codes == [202] * 5 + [429]
    assert r.status_code == 429 and r.json()["error"] == "too_many_transcripts"
    assert int(r.headers["Retry-After"]) >= 1
    assert len(mailbox.messages) == 5


# The relay attack (issue 11, item 5): the company's mail must not carry visitors' text to addresses they choose.


async def test_transcript_goes_only_to_the_address_given_for_the_chat(mailbox: Mailbox, live: Live) -> None:
    async with customer(live) as (cust, token), customer(live) as (anon, anon_token):
        cid = await start_chat(cust, email="ann@example.com")
        await cust.say(cid, "Buy cheap pills at spam.example")
        r = await transcript(live, token, cid, "victim@example.com")
        assert r.status_code == 422 and r.json()["error"] == "address_not_on_file"
        # The address on file, spelled differently, is that address.
        assert (await transcript(live, token, cid, "ANN@example.com")).status_code == 202
        # A visitor who gave no address has nowhere to send to.
        anon_cid = await start_chat(anon)
        await anon.say(anon_cid, "hello")
        for to in ("victim@example.com", None):
            r = await transcript(live, anon_token, anon_cid, to)
            assert r.status_code == 422 and r.json()["error"] == "address_not_on_file"
    assert [rcpt for _f, rcpt, _m in mailbox.messages] == [["ann@example.com"]]


async def test_transcript_wording_is_fixed_and_visitor_text_stays_in_the_transcript(
    mailbox: Mailbox, live: Live, settings: Settings
) -> None:
    spam = "WIN A PRIZE at http://spam.example"
    async with customer(live) as (cust, token):
        cid = await start_chat(cust, email="ann@example.com", name=spam)
        await cust.say(cid, "hello there")
        assert (await transcript(live, token, cid, None)).status_code == 202
    _mail_from, _rcpt, msg = mailbox.messages[0]
    assert msg["Subject"] == "Your chat transcript" and msg["From"] == settings.mail_from
    for header in msg.keys():
        assert "spam.example" not in str(msg[header])
    body = msg.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "spam.example" not in text and text.startswith("Hello,\r\n")
    assert "hello there" in text


async def test_one_recipient_gets_only_so_many_transcripts_a_day(
    mailbox: Mailbox, live: Live, settings: Settings
) -> None:
    settings.transcripts_per_address_per_day = 2
    # Two visitors both typed the victim's address: together they cannot mail it more than the limit.
    async with customer(live) as (a, a_token), customer(live) as (b, b_token):
        a_cid = await start_chat(a, email="victim@example.com")
        b_cid = await start_chat(b, email="victim@example.com")
        await a.say(a_cid, "one")
        await b.say(b_cid, "two")
        codes = [(await transcript(live, a_token, a_cid, None)).status_code for _ in range(2)]
        r = await transcript(live, b_token, b_cid, None)
    assert codes == [202, 202]
    assert r.status_code == 429 and r.json()["error"] == "too_many_transcripts"
    assert 1 <= int(r.headers["Retry-After"]) <= 86400
    assert len(mailbox.messages) == 2


@memory_only
async def test_the_relay_refusing_is_a_generic_error_never_its_words(mailbox: Mailbox, live: Live) -> None:
    mailbox.refuse = "554 5.7.1 relay policy of mx7.internal.bank.example refuses you"
    async with customer(live) as (cust, token):
        cid = await start_chat(cust, email="ann@example.com")
        await cust.say(cid, "hello")
        r = await transcript(live, token, cid, None)
    assert r.status_code == 502 and r.json()["error"] == "email_failed"
    assert "internal" not in r.text and "554" not in r.text and "relay policy" not in r.text
