"""Events the suggestions capability publishes, after the database commit."""

from __future__ import annotations

from typing import Literal

from contactcenter.bus import Event

# Every process listens here and reloads its cache for the rule named (a publish reaches all in < 1 s).
TOPIC_RULES = "suggestions.rules"


class RuleChanged(Event):
    type: Literal["suggestions.rule_changed"] = "suggestions.rule_changed"
    rule_id: str
    version: int


class SuggestionsChanged(Event):
    """On the real-time topic: the console of the conversation's agent should fetch its suggestions again."""

    type: Literal["suggestions.changed"] = "suggestions.changed"
    conversation_id: str
    customer_id: int
    agent_id: int | None
