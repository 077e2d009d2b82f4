"""Parsing: threading ids, sanitised HTML, attachments sniffed, quotes stripped, automatic mail spotted, and
a corpus of broken mail that never raises."""

from __future__ import annotations

import pytest

from contactcenter.channels.email.parse import parse, parse_async, strip_quote

PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 20


def test_headers_and_html_sanitised() -> None:
    raw = (
        b"From: =?utf-8?q?Ren=C3=A9e?= <Renee@Example.COM>\r\nSubject: =?utf-8?b?SMOpbGxv?=\r\n"
        b"Message-ID: <b@x>\r\nIn-Reply-To: <a@x>\r\nReferences: <r@x> <a@x>\r\n"
        b"Content-Type: text/html; charset=utf-8\r\n\r\n<p onclick='x()'>Hi<script>alert(1)</script></p>\r\n"
    )
    p = parse(raw)
    assert (p.message_id, p.in_reply_to, p.references) == ("<b@x>", ["<a@x>"], ["<r@x>", "<a@x>"])
    assert (p.from_name, p.from_addr, p.subject) == ("Renée", "renee@example.com", "Héllo")
    assert "script" not in p.html and "onclick" not in p.html and "Hi" in p.html
    assert not p.automatic and not p.unreadable


def test_attachment_type_sniffed_not_believed() -> None:
    import base64

    body = base64.b64encode(PNG).decode()
    raw = (
        "From: a@x\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nsee\r\n"
        '--B\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename="../x.pdf"\r\n'
        f"Content-Transfer-Encoding: base64\r\n\r\n{body}\r\n--B--\r\n"
    ).encode()
    p = parse(raw)
    assert p.text.strip() == "see"
    assert [(a.name, a.type, a.size) for a in p.attachments] == [("x.pdf", "image/png", len(PNG))]


def test_quote_stripped_for_display() -> None:
    new, quoted = strip_quote("Thanks!\n\nOn Mon, 1 Jan 2024, Help <h@x> wrote:\n> old text\n")
    assert new == "Thanks!" and quoted.startswith("On Mon")
    assert strip_quote("Yes\n> a\n> b") == ("Yes", "> a\n> b")
    assert strip_quote("> quoted then\nmy answer") == ("> quoted then\nmy answer", "")


@pytest.mark.parametrize(
    "headers",
    [
        "Auto-Submitted: auto-replied",
        "Precedence: bulk",
        "List-Id: <news.x>",
        "Return-Path: <>",
        "Content-Type: multipart/report; report-type=delivery-status; boundary=Z",
    ],
)
def test_automatic_mail(headers: str) -> None:
    assert parse(f"From: a@x\r\n{headers}\r\n\r\nbody\r\n".encode()).automatic


CORPUS = [
    b"Content-Type: multipart/mixed; boundary=NEVER\r\n\r\n--OTHER\r\nbroken\r\n",  # broken boundary
    b"From: a@x\r\nContent-Type: text/plain; charset=no-such-charset\r\n\r\n\xff\xfe bad\r\n",  # bad encoding
    b"",  # nothing at all
    b"no headers, no blank line",
    b"Subject: " + b"A" * 200_000 + b"\r\n\r\nbody",  # enormous header
    b"From: =?utf-8?b?!!!notbase64?= <a@x>\r\nSubject: =?bogus?q?x?=\r\n\r\nx",
    (
        b"Content-Type: multipart/mixed; boundary=b0\r\n\r\n"
        + b"".join(b"--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n" % (i, i + 1) for i in range(300))
        + b"--b300\r\nContent-Type: text/plain\r\n\r\ndeep\r\n"
    ),  # deeply nested
    b"Content-Type: text/html\r\n\r\n<img src=x onerror=alert(1)><script>steal()</script><a href='javascript:x'>l</a>",
]


@pytest.mark.parametrize("raw", CORPUS, ids=range(len(CORPUS)))
async def test_bad_input_never_raises(raw: bytes) -> None:
    p = await parse_async(raw)
    assert "script" not in p.html and "onerror" not in p.html and "javascript:" not in p.html
