"""Our signatures are Standard Webhooks': the reference library verifies them; tampering and forgery fail."""

from __future__ import annotations

import base64
import time

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from contactcenter.webhooks.signing import PREFIX, headers, new_secret, sign

BODY = '{"type":"touch.logged","timestamp":"2026-12-02T10:00:00Z","data":{"touch_id":1}}'


def test_secrets_are_32_random_bytes_in_the_whsec_form() -> None:
    a, b = new_secret(), new_secret()
    assert a.startswith(PREFIX) and a != b
    assert len(base64.b64decode(a.removeprefix(PREFIX))) == 32


def test_the_reference_library_verifies_what_we_sign() -> None:
    secret, now = new_secret(), int(time.time())
    h = headers(secret, msg_id="msg_1", timestamp=now, body=BODY)
    assert h["webhook-signature"].startswith("v1,")
    assert Webhook(secret).verify(BODY, h) == {
        "type": "touch.logged",
        "timestamp": "2026-12-02T10:00:00Z",
        "data": {"touch_id": 1},
    }


def test_a_known_vector() -> None:
    # HMAC-SHA256(key, "id.timestamp.body") by hand: the header is exactly v1,<base64 of it>.
    import hashlib
    import hmac

    key = b"0123456789abcdef0123456789abcdef"
    secret = PREFIX + base64.b64encode(key).decode()
    want = base64.b64encode(hmac.new(key, b"msg_x.1700000000.{}", hashlib.sha256).digest()).decode()
    assert sign(secret, msg_id="msg_x", timestamp=1700000000, body="{}") == f"v1,{want}"


@pytest.mark.parametrize(
    "change",
    ["body", "id", "timestamp", "secret", "signature"],
)
def test_tampering_or_forgery_fails_verification(change: str) -> None:
    secret, now = new_secret(), int(time.time())
    h = headers(secret, msg_id="msg_1", timestamp=now, body=BODY)
    body, key = BODY, secret
    if change == "body":
        body = BODY.replace('"touch_id":1', '"touch_id":2')
    elif change == "id":
        h["webhook-id"] = "msg_2"
    elif change == "timestamp":
        h["webhook-timestamp"] = str(now - 1)
    elif change == "secret":
        key = new_secret()  # an attacker signing with their own key
    else:
        h["webhook-signature"] = "v1," + base64.b64encode(b"\0" * 32).decode()
    with pytest.raises(WebhookVerificationError):
        Webhook(key).verify(body, h)
