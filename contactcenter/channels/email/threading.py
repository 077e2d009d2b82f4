"""Threading inbound mail: JWZ over Message-ID / In-Reply-To / References (containers, phantoms for ids not
seen, a cycle check), and then the sender's customer, so replies of two people to one newsletter never share
a conversation. Pure functions: the service reads the related messages and carries out the decision."""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

SUBJECT_WINDOW = timedelta(days=14)  # the subject fallback only joins a recent conversation
_PREFIX = re.compile(r"^\s*((re|fwd?|aw|wg|sv|vs|antw|tr|rif)(\[\d+\])?\s*:|\[[^\]]{0,40}\])\s*", re.IGNORECASE)


def strip_prefixes(subject: str) -> str:
    """The subject without reply/forward prefixes and [tags] (Outlook's Thread-Topic)."""
    s = subject
    while True:
        cut = _PREFIX.sub("", s, count=1)
        if cut == s:
            return s
        s = cut


def subject_key(subject: str) -> str:
    """The subject without reply/forward prefixes and [tags], case- and space-folded."""
    return " ".join(strip_prefixes(subject).lower().split())[:200]


@dataclass(frozen=True)
class Mail:
    """What threading needs of a message (a stored one, or the one arriving)."""

    message_id: str | None
    in_reply_to: Sequence[str] = ()
    references: Sequence[str] = ()
    customer_id: int = 0
    conversation_id: str = ""
    subject_key: str = ""
    received_at: datetime | None = None
    closed: bool = False  # its conversation is closed

    def refs(self) -> list[str]:
        """References, then In-Reply-To's id when References does not end with it (JWZ step 1)."""
        out = [r for r in self.references if r != self.message_id]
        for r in self.in_reply_to[:1]:
            if r != self.message_id and (not out or out[-1] != r):
                out.append(r)
        return out


@dataclass
class Container:
    id: str
    mail: Mail | None = None  # None: a phantom, an id referred to but not seen
    parent: Container | None = None
    children: list[Container] = field(default_factory=list)

    def root(self) -> Container:
        c, seen = self, 0
        while c.parent is not None and seen < 10_000:
            c, seen = c.parent, seen + 1
        return c

    def is_ancestor_of(self, other: Container) -> bool:
        c: Container | None = other
        while c is not None:
            if c is self:
                return True
            c = c.parent
        return False


def build(mails: Sequence[Mail]) -> dict[str, Container]:
    """JWZ steps 1-2: a container per id (phantoms for ids only referred to), parents linked along each
    message's references; a link that would make a cycle is not made. Keyed by message id."""
    table: dict[str, Container] = {}
    anon = 0

    def get(mid: str) -> Container:
        if mid not in table:
            table[mid] = Container(mid)
        return table[mid]

    def link(parent: Container, child: Container) -> None:
        if child.parent is not None or parent is child or child.is_ancestor_of(parent):
            return
        child.parent = parent
        parent.children.append(child)

    for m in mails:
        if m.message_id is None or (m.message_id in table and table[m.message_id].mail is not None):
            anon += 1  # no id, or a duplicate id: a container of its own
            this = Container(f"\x00{anon}", mail=m)
            table[this.id] = this
        else:
            this = get(m.message_id)
            this.mail = m
        chain = [get(r) for r in m.refs()]
        for a, b in itertools.pairwise(chain):
            link(a, b)
        if chain:
            # The message's own parent is its last reference (it overrides a guess made from another's list).
            if this.parent is not None and this.parent is not chain[-1] and not this.is_ancestor_of(chain[-1]):
                this.parent.children.remove(this)
                this.parent = None
            link(chain[-1], this)
    return table


@dataclass(frozen=True)
class Decision:
    conversation_id: str | None  # None: open a new conversation
    reason: str  # in-reply-to, references, subject, new (the service adds "reopened")
    closed: bool = False  # the conversation it joins is closed: reopen it


def decide(
    new: Mail, related: Sequence[Mail], by_subject: Sequence[Mail] = (), now: datetime | None = None
) -> Decision:
    """Where `new` goes, given the stored messages related to it by id (parents, children, siblings under a
    phantom) and, for mail without threading headers, the sender's messages with the same subject key."""
    mine = [m for m in related if m.customer_id == new.customer_id and m.conversation_id]
    if mine:
        table = build([*mine, new])
        of = {id(c.mail): c for c in table.values() if c.mail is not None}
        root = of[id(new)].root()
        in_thread = [m for m in mine if of[id(m)].root() is root]
        if in_thread:
            by_id = {m.message_id: m for m in in_thread if m.message_id}
            pick: Mail | None = None
            reason = "references"
            if new.in_reply_to and new.in_reply_to[0] in by_id:
                pick, reason = by_id[new.in_reply_to[0]], "in-reply-to"
            else:
                for r in reversed(new.refs()):
                    if r in by_id:
                        pick = by_id[r]
                        break
            if pick is None:  # a child that arrived first, or a sibling under a phantom: the newest of them
                kids = [m for m in in_thread if new.message_id and new.message_id in m.in_reply_to[:1]]
                if kids:
                    reason = "in-reply-to"
                pick = max(kids or in_thread, key=lambda m: m.received_at or datetime.min)
            return Decision(pick.conversation_id, reason, pick.closed)
    if new.in_reply_to or new.references or not new.subject_key:
        return Decision(None, "new")
    recent = [
        m
        for m in by_subject
        if m.customer_id == new.customer_id
        and m.subject_key == new.subject_key
        and m.conversation_id
        and (now is None or m.received_at is None or now - m.received_at <= SUBJECT_WINDOW)
    ]
    if recent:
        pick = max(recent, key=lambda m: m.received_at or datetime.min)
        return Decision(pick.conversation_id, "subject", pick.closed)
    return Decision(None, "new")
