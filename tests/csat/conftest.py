"""The chat tests' live server and protocol client: a chat is the quickest conversation to close."""

from tests.chat.conftest import live, roomy_limits

__all__ = ["live", "roomy_limits"]
