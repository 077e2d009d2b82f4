"""The chat tests' live server and protocol client, with voice's media on loopback (aioice leaves
127.0.0.1 out unless the host addresses are pinned) and recordings under the test's directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from contactcenter.settings import Settings
from tests.chat.conftest import live

__all__ = ["live", "voice_settings"]


@pytest.fixture(autouse=True)
def voice_settings(settings: Settings, tmp_path: Path) -> Settings:
    settings.voice_host_addresses = "127.0.0.1"
    settings.voice_recordings_dir = tmp_path / "recordings"
    return settings
