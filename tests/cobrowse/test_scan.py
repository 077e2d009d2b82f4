"""The server-side scan: card numbers (Luhn) and IBANs are masked wherever they are in an event."""

from __future__ import annotations

from collections import Counter

import pytest

from contactcenter.cobrowse.scan import MAX_DEPTH, TooDeep, luhn, redact_text, scan

VISA = "4111111111111111"
IBAN = "DE89 3704 0044 0532 0130 00"


@pytest.mark.parametrize(
    "text",
    [
        f"Card {VISA} on file",
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "5500\u00a00000\u00a00000\u00a00004",
        "378282246310005",  # Amex, 15 digits
        "order 12345678904111111111111111",  # a card glued to other digits
        "\uff14\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11",  # fullwidth
    ],
)
def test_card_numbers_are_masked(text: str) -> None:
    found: Counter[str] = Counter()
    out = redact_text(text, found)
    assert found["card_number"] >= 1
    assert "4111" not in out and "1111 1111" not in out and "0000" not in out and "8282" not in out
    assert len(out) == len(text)


def test_iban_is_masked_and_a_wrong_check_digit_is_not() -> None:
    found: Counter[str] = Counter()
    assert "3704" not in redact_text(f"pay to {IBAN} today", found)
    assert found["iban"] == 1
    wrong: Counter[str] = Counter()
    redact_text("DE88 3704 0044 0532 0130 00", wrong)
    assert wrong["iban"] == 0


@pytest.mark.parametrize(
    "text",
    ["4111 1111 1111 1112", "Call 0800 123 4567", "2026-12-02 13:45", "1234567890", "Price 1,299.00 EUR"],
)
def test_ordinary_text_passes(text: str) -> None:
    found: Counter[str] = Counter()
    assert redact_text(text, found) == text and not found


def test_luhn() -> None:
    assert luhn(VISA) and luhn("79927398713") and not luhn("79927398710")


def test_scan_walks_every_string_of_an_event_and_copies() -> None:
    event = {
        "type": 2,
        "data": {"node": {"childNodes": [{"type": 3, "textContent": f"card {VISA}"}], "attributes": {"value": IBAN}}},
        "timestamp": 1,
    }
    result = scan([event])
    text = str(result.value)
    assert VISA not in text and "3704" not in text
    assert dict(result.found) == {"card_number": 1, "iban": 1}
    assert event["data"]["node"]["childNodes"][0]["textContent"] == f"card {VISA}"  # type: ignore[index]


def test_scan_refuses_absurd_nesting_without_recursion() -> None:
    deep: list[object] = []
    node = deep
    for _ in range(MAX_DEPTH + 5):
        child: list[object] = []
        node.append(child)
        node = child
    with pytest.raises(TooDeep):
        scan(deep)


def test_a_huge_digit_run_is_masked_whole_and_cheaply() -> None:
    found: Counter[str] = Counter()
    out = redact_text("7" * 200_000, found)
    assert set(out) == {"*"} and found["card_number"] == 1
