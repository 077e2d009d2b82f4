"""Voice: browser calls through the server (aiortc), one peer connection per leg, bridged (decision 41)."""
