"""Threading: JWZ over the ids (phantoms, reordered arrivals, a cycle) plus the sender's customer, on a
corpus filed through the ingest worker in arrival order, on SQLite and PostgreSQL; and the pure parts."""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from contactcenter.bus.memory import MemoryBus
from contactcenter.channels.email.ingest import Ingestor
from contactcenter.channels.email.models import EmailMessage, EmailRaw
from contactcenter.channels.email.threading import Mail, build, decide, subject_key
from contactcenter.conversations import service as conversations
from contactcenter.conversations.models import Conversation
from contactcenter.db import Database
from tests.email.helpers import mail

A, B, C, D = "ann@example.com", "bob@example.com", "cat@example.com", "dan@example.com"


def test_subject_key_drops_prefixes_and_tags() -> None:
    assert subject_key("Re: AW: Fwd: [#123] Order  17") == "order 17"
    assert subject_key("RE[2]: order 17") == "order 17"
    assert subject_key("Order 17") == subject_key("re: ORDER 17")
    assert subject_key("Refund") == "refund"  # a word that starts like a prefix stays


def test_build_links_phantoms_and_refuses_cycles() -> None:
    x = Mail("<x>", references=["<y>"])
    y = Mail("<y>", references=["<x>"])  # a References cycle
    z = Mail("<z>", in_reply_to=["<p>"])  # <p> never seen: a phantom parent
    w = Mail("<w>", references=["<p>"])
    table = build([x, y, z, w])
    assert table["<x>"].root() is table["<y>"].root()  # one thread, no loop
    assert table["<p>"].mail is None and {c.id for c in table["<p>"].children} == {"<z>", "<w>"}
    self_ref = build([Mail("<s>", references=["<s>"], in_reply_to=["<s>"])])
    assert self_ref["<s>"].parent is None


def test_decide_needs_the_same_customer() -> None:
    ann = Mail("<a>", in_reply_to=["<n>"], customer_id=1, conversation_id="c-ann")
    bob = Mail("<b>", in_reply_to=["<n>"], customer_id=2)
    assert decide(bob, [ann]).conversation_id is None  # siblings under the newsletter, strangers
    ann2 = Mail("<a2>", in_reply_to=["<n>"], customer_id=1)
    assert decide(ann2, [ann]).conversation_id == "c-ann"


async def _file(db: Database, raw: bytes) -> EmailMessage:
    async with db.session() as s:
        digest = hashlib.sha256(raw).hexdigest()
        row = EmailRaw(mail_from="x@example.com", rcpt_to={"to": []}, size=len(raw), sha256=digest, data=raw)
        s.add(row)
        await s.commit()
        raw_id = row.id
    assert await Ingestor(db, MemoryBus(), region="GB").drain() == 1
    async with db.session() as s:
        found = await s.scalar(select(EmailMessage).where(EmailMessage.raw_id == raw_id))
        assert found is not None
        return found


async def test_thread_corpus(db: Database) -> None:
    f = _file
    a1 = await f(db, mail(A, "<a1@x>", "Order 17"))
    a2 = await f(db, mail(A, "<a2@x>", "Re: Order 17", reply_to="<a1@x>", refs="<a1@x>"))
    # reordered: a4 (a reply to a3) arrives before a3
    a4 = await f(db, mail(A, "<a4@x>", "Re: Order 17", reply_to="<a3@x>", refs="<a1@x> <a2@x> <a3@x>"))
    a3 = await f(db, mail(A, "<a3@x>", "Re: Order 17", reply_to="<a2@x>", refs="<a1@x> <a2@x>"))
    conv_a = a1.conversation_id
    assert [m.conversation_id for m in (a2, a3, a4)] == [conv_a] * 3
    assert (a1.reason, a2.reason, a4.reason, a3.reason) == ("new", "in-reply-to", "references", "in-reply-to")

    # a reply whose parent has not arrived at all: the parent joins its child's conversation when it comes
    c2 = await f(db, mail(C, "<c2@x>", "Re: Help", reply_to="<c1@x>", refs="<c1@x>"))
    c1 = await f(db, mail(C, "<c1@x>", "Help"))
    assert c1.conversation_id == c2.conversation_id and (c2.reason, c1.reason) == ("new", "in-reply-to")

    # a newsletter (never received here) answered by two customers: two conversations
    na = await f(db, mail(A, "<na@x>", "Re: News", reply_to="<news@company>", refs="<news@company>"))
    nb = await f(db, mail(B, "<nb@x>", "Re: News", reply_to="<news@company>", refs="<news@company>"))
    na2 = await f(db, mail(A, "<na2@x>", "Re: News", reply_to="<news@company>", refs="<news@company>"))
    assert na.conversation_id != nb.conversation_id and nb.reason == "new"
    assert na2.conversation_id == na.conversation_id and na.conversation_id != conv_a

    # a forward without threading headers: the subject fallback, same customer
    fwd = await f(db, mail(A, "<fw@x>", "Fwd: Order 17"))
    assert (fwd.conversation_id, fwd.reason) == (conv_a, "subject")
    # another customer quoting A's reference number and subject: never merged
    quote = await f(db, mail(B, "<bq@x>", f"Re: [#{conv_a}] Order 17"))
    assert quote.conversation_id not in (conv_a, nb.conversation_id) and quote.reason == "new"
    # a reply that only has References (no In-Reply-To) still threads
    ref_only = await f(db, mail(A, "<ro@x>", "Something else", refs="<a2@x>"))
    assert (ref_only.conversation_id, ref_only.reason) == (conv_a, "references")

    # a References cycle files, once each, into one conversation
    d1 = await f(db, mail(D, "<d1@x>", "Loop", refs="<d2@x>"))
    d2 = await f(db, mail(D, "<d2@x>", "Loop", refs="<d1@x>"))
    d3 = await f(db, mail(D, "<d3@x>", "Loop", refs="<d1@x> <d2@x>"))
    assert d1.conversation_id == d2.conversation_id == d3.conversation_id

    # a reply to a closed conversation reopens it: queued again, for routing
    async with db.session() as s:
        await conversations.close(s, MemoryBus(), conversation_id=c1.conversation_id, by="agent")
    c3 = await f(db, mail(C, "<c3@x>", "Re: Help", reply_to="<c2@x>", refs="<c1@x> <c2@x>"))
    assert (c3.conversation_id, c3.reason) == (c1.conversation_id, "reopened")
    async with db.session() as s:
        conv = await s.get(Conversation, c1.conversation_id)
        assert conv is not None and conv.status == "queued" and conv.closed_at is None and conv.agent_id is None
        channels = set(await s.scalars(select(Conversation.channel)))
        assert channels == {"email"}
        # A: the order thread and the newsletter reply; B: the newsletter reply and the quote; C, D: one each
        per_customer = [
            (await s.scalar(select(EmailMessage.customer_id).where(EmailMessage.conversation_id == c)))
            for c in set(await s.scalars(select(Conversation.id)))
        ]
        assert sorted({x: per_customer.count(x) for x in per_customer}.values()) == [1, 1, 2, 2]
