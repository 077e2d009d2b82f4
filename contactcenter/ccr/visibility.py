"""Who reads what on a customer's timeline (issue 11, item 8; docs/api.md, docs/security.md).

Touches carry conversation content: a chat message's text (private notes included) in the summary, the
visitor's name and address in a chat's start, a note's body, a wrap-up note. Agents, supervisors and admins
serve customers and read all of it (private notes are staff notes: every role that answers customers may read
them; visitors never reach the timeline). Planners write rules over counts and kinds of touches, never their
words: they get every touch with its kind, channel, direction, time and ids, and a summary that only says
what kind of touch it was, with an empty payload.
"""

from __future__ import annotations

from contactcenter.ccr.schemas import Direction, TimelinePage, TouchKind, TouchOut
from contactcenter.types import Role

CONTENT_ROLES = frozenset({Role.agent, Role.supervisor, Role.admin})
_LABELS = {
    TouchKind.message: "Message",
    TouchKind.note: "Note",
    TouchKind.conversation: "Conversation",
    TouchKind.email: "Email",
    TouchKind.call: "Call",
}


def sees_content(role: Role) -> bool:
    return role in CONTENT_ROLES


def without_content(t: TouchOut) -> TouchOut:
    label = _LABELS.get(t.kind, t.kind.value.replace("_", " ").capitalize())
    if t.kind is TouchKind.message and t.direction is Direction.internal:
        label = "Private note"
    return t.model_copy(update={"summary": f"{label} (content not shown to your role)", "payload": {}})


def for_role(page: TimelinePage, role: Role) -> TimelinePage:
    if sees_content(role):
        return page
    return page.model_copy(update={"items": [without_content(t) for t in page.items]})
