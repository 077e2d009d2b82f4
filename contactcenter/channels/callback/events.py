"""What callback publishes. Nothing of its own yet: a callback in routing is a conversation, announced by the
conversations core (`conversation.changed`), and every request and attempt is a CCR touch (`ccr.touch_logged`).
"""

from __future__ import annotations

from contactcenter.ccr.events import TOPIC_TOUCHES
from contactcenter.conversations.events import TOPIC_CONVERSATIONS

TOPICS = (TOPIC_CONVERSATIONS, TOPIC_TOUCHES)
