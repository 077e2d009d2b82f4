"""Email's tables: the raw message store (every accepted mail's bytes, committed before the SMTP 250)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import LargeBinary, String
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
