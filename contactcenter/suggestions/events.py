"""Events the suggestions capability publishes, after the database commit."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from contactcenter.bus import Event
from contactcenter.realtime.events import Audience, Push
from contactcenter.realtime.schemas import Frame

# Every process listens here and reloads its cache for the rule named (a publish reaches all in < 1 s).
TOPIC_RULES = "suggestions.rules"


class RuleChanged(Event):
    type: Literal["suggestions.rule_changed"] = "suggestions.rule_changed"
    rule_id: str
    version: int


class SuggestionsFrame(Frame):
    """Agents only: the conversation's suggestions may have changed; fetch them again (docs/api.md)."""

    type: Literal["suggestions"] = "suggestions"
    conversation_id: str


def suggestions_changed(conversation_id: str, *, customer_id: int, agent_id: int | None) -> Push:
    """On the real-time topic: the console of the conversation's agent (and supervisors following it) should
    fetch its suggestions again."""
    return Push(
        to=Audience(conversation_id=conversation_id, agent_id=agent_id, supervisors="following"),
        frame=SuggestionsFrame(conversation_id=conversation_id).model_dump_json(),
    )


# Agents' and orders' outcomes of suggestions (webhooks and analytics listen), after the commit.
TOPIC_FEEDBACK = "suggestions.feedback"


class SuggestionAccepted(Event):
    type: Literal["suggestions.accepted"] = "suggestions.accepted"
    suggestion_id: int
    rule_id: str
    version: int
    offer: str
    customer_id: int
    conversation_id: str
    agent_id: int | None
    accepted_at: datetime


class SaleRecorded(Event):
    """A suggestion converted: at wrap-up by the agent (`source` "wrap_up") or by a matching order ("order")."""

    type: Literal["suggestions.sale"] = "suggestions.sale"
    suggestion_id: int
    rule_id: str
    version: int
    product: str
    amount: str
    source: str
    customer_id: int
    conversation_id: str
    agent_id: int | None
    converted_at: datetime
