"""The apps of these tests may send webhooks to the receiver the test starts on 127.0.0.1."""

from __future__ import annotations

import pytest

from contactcenter.settings import Settings


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Loopback allowed (only 127.0.0.1 as written: other private hosts stay refused); quick polls and retries.
    return settings.model_copy(
        update={
            "webhook_allowed_hosts": "127.0.0.1",
            "webhook_timeout_s": 5.0,
            "webhook_poll_s": 0.2,
            "webhook_backoff_s": 0.05,
            "webhook_backoff_max_s": 0.2,
        }
    )
