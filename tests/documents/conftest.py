"""The chat tests' live server and protocol client, for document push (it runs beside a chat)."""

from tests.chat.conftest import live, roomy_limits

__all__ = ["live", "roomy_limits"]
