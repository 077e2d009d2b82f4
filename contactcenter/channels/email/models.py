"""Email's tables: the raw message store (every accepted mail's bytes, committed before the SMTP 250), the
parsed messages filed into conversations, and the ids each message refers to (threading's phantoms)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from contactcenter.ccr.models import BigId
from contactcenter.db import Base, utcnow


class EmailRaw(Base):
    """The bytes exactly as received (decision 33): a DB row, so it is durable with the commit that precedes
    the 250 on either backend, and parsing can fail later without losing the message."""

    __tablename__ = "email_raw"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    mail_from: Mapped[str] = mapped_column(String(320))
    rcpt_to: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {"to": [...]}
    peer: Mapped[str] = mapped_column(String(100), default="")
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    # "new" until the ingest worker files it ("done"), in the same transaction as its email_messages row.
    state: Mapped[str] = mapped_column(String(16), default="new", server_default="new", index=True)


class EmailMessage(Base):
    """One received mail as the console shows it, in its conversation; raw_id unique: filed once."""

    __tablename__ = "email_messages"
    __table_args__ = (Index("ix_email_messages_customer_subject", "customer_id", "subject_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    raw_id: Mapped[int] = mapped_column(ForeignKey("email_raw.id"), unique=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    customer_id: Mapped[int]  # the sender's customer (a plain id: the CCR's row)
    message_id: Mapped[str | None] = mapped_column(String(500), index=True)
    in_reply_to: Mapped[str | None] = mapped_column(String(500))
    ref_ids: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {"ids": [...]}: References
    subject: Mapped[str] = mapped_column(String(500), default="")
    subject_key: Mapped[str] = mapped_column(String(200), default="")  # normalised, for the subject fallback
    from_addr: Mapped[str] = mapped_column(String(320), default="")
    from_name: Mapped[str] = mapped_column(String(120), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    html: Mapped[str] = mapped_column(Text, default="")  # sanitised (nh3)
    display_text: Mapped[str] = mapped_column(Text, default="")  # the new part, quote stripped
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    automatic: Mapped[bool] = mapped_column(default=False)
    unreadable: Mapped[bool] = mapped_column(default=False)
    defects: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    # Why it is in this conversation: in-reply-to, references, subject, new, reopened, split.
    reason: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class EmailRef(Base):
    """An id a message refers to (In-Reply-To or References): a parent that arrives later finds its
    children here, JWZ's phantom container kept in the database."""

    __tablename__ = "email_refs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    email_message_id: Mapped[int] = mapped_column(ForeignKey("email_messages.id", ondelete="CASCADE"), index=True)
    ref: Mapped[str] = mapped_column(String(500), index=True)
    direct: Mapped[bool] = mapped_column(default=False)  # In-Reply-To rather than References


class EmailOut(Base):
    """What we wrote in an email conversation: an agent's reply or an auto-acknowledgement (the outbox: stored
    with its exact bytes before any send, claimed by one worker at a time), or an agent's note (never sent).
    Its Message-ID is here so a customer's answer to it threads back (filing looks it up like a received one)."""

    __tablename__ = "email_out"
    __table_args__ = (Index("ix_email_out_due", "status", "next_at"), Index("ix_email_out_ack", "to_addr", "kind"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    customer_id: Mapped[int]
    kind: Mapped[str] = mapped_column(String(8))  # reply | ack | note | survey (the rating request)
    agent_id: Mapped[int | None] = mapped_column(default=None)
    agent_name: Mapped[str] = mapped_column(String(120), default="")
    message_id: Mapped[str | None] = mapped_column(String(500), unique=True)  # None for a note
    in_reply_to: Mapped[str | None] = mapped_column(String(500), default=None)
    ref_ids: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {"ids": [...]}: References
    to_addr: Mapped[str] = mapped_column(String(320), default="")
    subject: Mapped[str] = mapped_column(String(500), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(default=list)  # [{"name", "type", "size"}]
    data: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)  # the message exactly as sent
    # queued -> sent, or failed (refused for good; the agent may send it again); note: never sent.
    status: Mapped[str] = mapped_column(String(8))
    attempts: Mapped[int] = mapped_column(default=0)
    # When it is due; while a worker holds it, the end of that worker's lease.
    next_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(300), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)


class EmailClock(Base):
    """A first-response clock: started by the customer's first message of a thread (or the one reopening
    it), stopped only by a person's reply reaching the relay; one running clock per conversation."""

    __tablename__ = "email_clocks"
    __table_args__ = (Index("ix_email_clocks_running", "stopped_at", "due_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    email_message_id: Mapped[int] = mapped_column(ForeignKey("email_messages.id"))  # the message that started it
    started_at: Mapped[datetime]
    due_at: Mapped[datetime]
    stopped_at: Mapped[datetime | None] = mapped_column(default=None)
    stopped_by: Mapped[int | None] = mapped_column(default=None)  # the email_out reply that stopped it
    # When the agent and supervisors were told it is due soon / overdue (alerts.py: each once, by one process).
    warned_at: Mapped[datetime | None] = mapped_column(default=None)
    breached_at: Mapped[datetime | None] = mapped_column(default=None)


class EmailImapCursor(Base):
    """How far the IMAP poller has read one mailbox (imap.py): every UID up to `last_uid` is stored (in the
    transaction that moved it), up to `done_uid` marked seen or deleted on the server as configured. The
    holder and its lease keep two processes from reading the mailbox at once."""

    __tablename__ = "email_imap_cursors"

    mailbox: Mapped[str] = mapped_column(String(300), primary_key=True)
    uidvalidity: Mapped[int] = mapped_column(BigId, default=0)
    last_uid: Mapped[int] = mapped_column(BigId, default=0)
    done_uid: Mapped[int] = mapped_column(BigId, default=0)
    holder: Mapped[str | None] = mapped_column(String(80), default=None)
    until: Mapped[datetime] = mapped_column(default=utcnow)
    polled_at: Mapped[datetime | None] = mapped_column(default=None)
    stored: Mapped[int] = mapped_column(BigId, default=0)  # messages stored from this mailbox, all time
    last_error: Mapped[str | None] = mapped_column(String(300), default=None)
