"""Replies from the console: stored in the outbox before sending, sent to a real SMTP relay (an aiosmtpd
sink on loopback) with our Message-ID, In-Reply-To and References; the customer's answer threads back;
relay down or refusing: retried and sent exactly once; roles and header injection refused."""

from __future__ import annotations

import base64
import uuid
from email import policy
from email.parser import BytesParser
from email.utils import parseaddr

import httpx
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import func, select

from contactcenter.ccr.models import Touch
from contactcenter.channels.email.models import EmailOut
from contactcenter.conversations import service as conversations
from contactcenter.settings import Settings
from contactcenter.types import Role
from tests.conftest import UserFactory, login
from tests.email.helpers import by_message_id, free_port, mail, send_async, until, until_filed
from tests.email.outhelpers import app, received_and_assigned, relayed_app, sink, until_outgoing, user_id, user_maker
from tests.email.relay import Sink

__all__ = ["app", "sink"]  # the fixtures


async def test_reply_is_threaded_and_the_answer_threads_back(
    app: FastAPI, client: httpx.AsyncClient, make_user: UserFactory, sink: Sink
) -> None:
    await sink.start()
    conv_id, _ = await received_and_assigned(app, client, make_user)
    r = await client.post(f"/api/email/conversations/{conv_id}/replies", json={"text": "It is on its way."})
    assert r.status_code == 201, r.text
    queued = r.json()
    assert (queued["status"], queued["kind"], queued["to_addr"]) == ("queued", "reply", "ann@example.com")
    sent = await until_outgoing(client, conv_id, status="sent")
    assert sent["attempts"] == 1 and sent["sent_at"] is not None
    assert len(sink.received) == 1
    got = sink.received[0]
    msg = got.message()
    assert got.mail_from == "help@contactcenter.local" and got.rcpt_tos == ["ann@example.com"]
    assert parseaddr(str(msg["To"]))[1] == "ann@example.com"
    assert str(msg["Subject"]) == "Re: Question about my card"
    assert str(msg["Message-ID"]) == queued["message_id"]
    assert queued["message_id"].endswith("@contactcenter.local>")
    assert str(msg["In-Reply-To"]) == "<q1@example.com>"
    assert str(msg["References"]) == "<q1@example.com>"
    assert msg["Auto-Submitted"] is None  # a person wrote it
    assert msg.get_content().strip() == "It is on its way."
    index = base64.b64decode(str(msg["Thread-Index"]))  # Outlook: a header block of this conversation + a child
    assert len(index) == 27 and index[6:22] == uuid.UUID(conv_id).bytes
    assert str(msg["Thread-Topic"]) == "Question about my card"
    async with app.state.db.session() as s:
        touches = list(await s.scalars(select(Touch).where(Touch.conversation_id == conv_id)))
    out = [t for t in touches if t.direction == "out"]
    assert len(out) == 1 and out[0].kind == "email" and out[0].summary.startswith("Email reply sent")

    # The customer's client answers with only In-Reply-To (ours), then another with only References.
    ours = queued["message_id"]
    await send_async(app, mail("ann@example.com", "<a2@example.com>", "Re: Question", reply_to=ours))
    await send_async(app, mail("ann@example.com", "<a3@example.com>", "Re: Question", refs=ours))
    await until_filed(app, 3)
    found = await by_message_id(app)
    assert (found["<a2@example.com>"].conversation_id, found["<a2@example.com>"].reason) == (conv_id, "in-reply-to")
    assert (found["<a3@example.com>"].conversation_id, found["<a3@example.com>"].reason) == (conv_id, "references")
    # Someone else answering our reply (it was forwarded to them) is not glued to Ann's conversation.
    await send_async(app, mail("eve@example.com", "<e1@example.com>", "Re: Question", reply_to=ours))
    await until_filed(app, 4)
    assert (await by_message_id(app))["<e1@example.com>"].conversation_id != conv_id

    # A reply to a later message carries the whole chain.
    r = await client.post(
        f"/api/email/conversations/{conv_id}/replies",
        json={"text": "Anything else?", "in_reply_to": found["<a2@example.com>"].id},
    )
    assert r.status_code == 201, r.text
    assert r.json()["in_reply_to"] == "<a2@example.com>"
    async with app.state.db.session() as s:
        row = await s.get(EmailOut, r.json()["id"])
        assert row is not None and row.ref_ids["ids"] == [ours, "<a2@example.com>"]
    later = BytesParser(policy=policy.default).parsebytes(bytes(row.data or b""))
    assert base64.b64decode(str(later["Thread-Index"]))[:22] == index[:22]  # the same Outlook conversation


async def test_reply_continues_outlooks_thread_index(
    app: FastAPI, client: httpx.AsyncClient, make_user: UserFactory, sink: Sink
) -> None:
    theirs = base64.b64encode(b"\x01\xda" + bytes(range(20))).decode()  # 22 bytes: a header block
    outlook = mail("Ann <ann@example.com>", "<o1@example.com>", "Card", body="Hello").replace(
        b"Message-ID:", f"Thread-Index: {theirs}\r\nMessage-ID:".encode()
    )
    await sink.start()
    await send_async(app, outlook)
    await until_filed(app, 1)
    conv_id = (await by_message_id(app))["<o1@example.com>"].conversation_id
    agent = await make_user(Role.agent)
    async with app.state.db.session() as s:
        assert await conversations.assign(s, app.state.bus, conversation_id=conv_id, agent_id=await user_id(app, agent))
    await login(client, agent)
    assert (await client.post(f"/api/email/conversations/{conv_id}/replies", json={"text": "Hi"})).status_code == 201
    await until_outgoing(client, conv_id, status="sent")
    index = base64.b64decode(str(sink.received[-1].message()["Thread-Index"]))
    assert len(index) == 27 and index[:22] == base64.b64decode(theirs)


async def test_relay_down_then_up_sends_exactly_once(
    app: FastAPI, client: httpx.AsyncClient, make_user: UserFactory, sink: Sink
) -> None:
    conv_id, _ = await received_and_assigned(app, client, make_user)
    r = await client.post(f"/api/email/conversations/{conv_id}/replies", json={"text": "Sorry for the wait."})
    assert r.status_code == 201
    failing = await until_outgoing(client, conv_id, attempts=lambda n: n >= 2)
    assert failing["status"] == "queued" and failing["last_error"]  # shown to the agent, kept in the outbox
    await sink.start()  # the relay comes back
    sent = await until_outgoing(client, conv_id, status="sent")
    assert len(sink.received) == 1 and str(sink.received[0].message()["Message-ID"]) == sent["message_id"]
    assert await app.state.capabilities["email"].sender.run_once() == 0  # nothing left to send
    assert len(sink.received) == 1


async def test_refused_then_accepted_and_refused_for_good(
    app: FastAPI, client: httpx.AsyncClient, make_user: UserFactory, sink: Sink
) -> None:
    sink.refuse = 2  # 451 twice, then accepted
    await sink.start()
    conv_id, _ = await received_and_assigned(app, client, make_user)
    r = await client.post(f"/api/email/conversations/{conv_id}/replies", json={"text": "First answer."})
    sent = await until_outgoing(client, conv_id, status="sent")
    assert sent["id"] == r.json()["id"] and sent["attempts"] == 3 and len(sink.received) == 1

    sink.refuse, sink.refused, sink.code = 1, 0, "550 5.1.1 No such mailbox"
    r = await client.post(f"/api/email/conversations/{conv_id}/replies", json={"text": "Second answer."})
    second = r.json()["id"]

    async def status() -> dict[str, object]:
        thread = (await client.get(f"/api/email/conversations/{conv_id}/thread")).json()
        return next(o for o in thread["outgoing"] if o["id"] == second)

    async def failed() -> bool:
        return (await status())["status"] == "failed"

    await until(failed)
    assert "550" in str((await status())["last_error"]) and len(sink.received) == 1
    again = await client.post(f"/api/email/outgoing/{second}/resend")
    assert again.status_code == 200 and again.json()["status"] == "queued"

    async def delivered() -> bool:
        return (await status())["status"] == "sent"

    await until(delivered)
    assert len(sink.received) == 2
    assert (await client.post(f"/api/email/outgoing/{second}/resend")).json()["error"] == "not_failed"


async def test_roles_and_header_injection(
    app: FastAPI, client: httpx.AsyncClient, make_user: UserFactory, sink: Sink
) -> None:
    conv_id, _ = await received_and_assigned(app, client, make_user)
    url = f"/api/email/conversations/{conv_id}/replies"
    for bad in (
        {"text": "x", "subject": "Hi\r\nBcc: all@example.com"},
        {"text": "x", "to": "a@example.com\nBcc: b@x.y"},
    ):
        r = await client.post(url, json=bad)
        assert (r.status_code, r.json()["error"]) == (422, "header_injection"), r.text
    assert (await client.post(url, json={"text": "x", "to": "not an address"})).json()["error"] == "invalid_address"
    r = await client.post(url, json={"text": "x", "to": "eve@example.com"})  # not Ann's: never a relay for anyone
    assert (r.status_code, r.json()["error"]) == (422, "address_not_on_file")
    csrf = client.headers.pop("X-CSRF-Token")
    assert (await client.post(url, json={"text": "x"})).json()["error"] == "csrf_failed"
    client.headers["X-CSRF-Token"] = csrf

    await login(client, await make_user(Role.agent))  # another agent
    r = await client.post(url, json={"text": "x"})
    assert (r.status_code, r.json()["error"]) == (403, "not_your_conversation")
    assert (await client.post(f"/api/email/conversations/{conv_id}/notes", json={"text": "x"})).status_code == 403
    assert (await client.get(f"/api/email/conversations/{conv_id}/thread")).status_code == 404
    await login(client, await make_user(Role.planner))
    assert (await client.post(url, json={"text": "x"})).json()["error"] == "forbidden"
    client.cookies.clear()
    assert (await client.post(url, json={"text": "x"})).status_code == 401
    async with app.state.db.session() as s:
        assert await s.scalar(select(func.count()).select_from(EmailOut)) == 0  # nothing was queued

    await login(client, await make_user(Role.supervisor))  # a supervisor may answer any open one
    r = await client.post(url, json={"text": "Supervisor here.", "to": "ANN@example.com"})  # on file
    assert r.status_code == 201, r.text


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40


async def test_reply_with_an_attachment(
    app: FastAPI, client: httpx.AsyncClient, make_user: UserFactory, sink: Sink
) -> None:
    await sink.start()
    conv_id, _ = await received_and_assigned(app, client, make_user)
    up = await client.post(
        "/api/chat/attachments", data={"conversation_id": conv_id}, files={"file": ("statement.png", PNG, "image/png")}
    )
    assert up.status_code == 201, up.text
    url = f"/api/email/conversations/{conv_id}/replies"
    r = await client.post(url, json={"text": "Your statement.", "attachments": [up.json()["id"]]})
    assert r.status_code == 201, r.text
    assert r.json()["attachments"] == [{"name": "statement.png", "type": "image/png", "size": len(PNG)}]
    await until_outgoing(client, conv_id, status="sent")
    msg = sink.received[-1].message()
    [part] = list(msg.iter_attachments())
    assert (part.get_filename(), part.get_content_type(), part.get_content()) == ("statement.png", "image/png", PNG)
    body = msg.get_body(("plain",))
    assert body is not None and body.get_content().strip() == "Your statement."

    # A file of another conversation is never attached, whoever asks.
    await send_async(app, mail("bo@example.com", "<bo1@example.com>", "Other"))
    await until_filed(app, 2)
    other = (await by_message_id(app))["<bo1@example.com>"].conversation_id
    await login(client, await make_user(Role.supervisor))
    theirs = await client.post(
        "/api/chat/attachments", data={"conversation_id": other}, files={"file": ("x.png", PNG, "image/png")}
    )
    assert theirs.status_code == 201
    bad = await client.post(url, json={"text": "x", "attachments": [theirs.json()["id"]]})
    assert (bad.status_code, bad.json()["error"]) == (404, "attachment_not_found")


async def test_relay_credentials(settings: Settings) -> None:
    """CC_EMAIL_RELAY_USERNAME / _PASSWORD reach a relay that demands AUTH; a wrong password is the relay's
    setting, not the message's fault: the reply stays queued and is retried (never dropped)."""
    for n, (password, sent) in enumerate((("right-pass", True), ("wrong-pass", False)), start=1):
        sink = Sink(port=free_port(), login=("cc", "right-pass"))
        await sink.start()
        extra = {"email_relay_username": "cc", "email_relay_password": SecretStr(password)}
        try:
            async with relayed_app(settings, sink.port, **extra) as app:
                transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
                async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                    mid, mk = f"<{password}@example.com>", user_maker(app)  # one database, a thread each run
                    conv_id, _ = await received_and_assigned(app, client, mk, mid=mid, n=n, subject=password)
                    r = await client.post(f"/api/email/conversations/{conv_id}/replies", json={"text": "Hello"})
                    assert r.status_code == 201
                    if sent:
                        await until_outgoing(client, conv_id, status="sent")
                        assert sink.logged_in == ["cc"] and len(sink.received) == 1
                    else:
                        got = await until_outgoing(client, conv_id, attempts=lambda n: n >= 2)
                        assert got["status"] == "queued" and "535" in str(got["last_error"])
                        assert sink.received == []
        finally:
            await sink.close()
