"""Bad input and attacks: invalid numbers, slots in the past / outside hours / too far / full, unknown
queues, floods, forged and expired links, and every staff route's role check. Nothing refused is stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import FastAPI

from contactcenter.channels.callback import links
from tests.callback.conftest import FakeClock, People, key, visitor

PHONE = "+44 20 7946 0020"


async def test_bad_requests_are_refused_and_nothing_is_stored(app: FastAPI, clock: FakeClock, people: People) -> None:
    sup = (await people("sup"))["sup"]
    v = await visitor(app)
    free = (await v.get("/api/callback/slots")).json()
    base = {"name": "Eve", "phone": PHONE}
    anon = await v.post("/api/callback/requests", json=base | {"idempotency_key": key()}, headers={"Authorization": ""})
    assert anon.status_code == 401
    forged = {"Authorization": "Bearer " + "x" * 60}
    assert (await v.post("/api/callback/requests", json=base, headers=forged)).status_code == 401
    now = clock.now
    tomorrow = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0)
    past = now.replace(minute=0 if now.minute < 30 else 30, second=0) - timedelta(minutes=30)
    refused = {
        "invalid_phone": [{"phone": "12345"}, {"phone": "+1 555"}, {"phone": "call me"}],
        "invalid_request": [
            {"phone": None},
            {"idempotency_key": "bad key!"},
            {"idempotency_key": "short"},
            {"name": "Eve\x00"},
            {"mode": "fax"},
        ],
        "slot_in_past": [{"slot_start": past.isoformat()}],
        "slot_outside_hours": [
            {"slot_start": (tomorrow + timedelta(hours=23, minutes=30)).isoformat()},  # closed 23:30-24:00
            {"slot_start": (datetime.fromisoformat(free[0]["start"]) + timedelta(minutes=10)).isoformat()},
        ],
        "slot_too_far": [{"slot_start": (tomorrow + timedelta(days=9)).isoformat()}],
        "slot_without_timezone": [{"slot_start": (tomorrow + timedelta(hours=10)).replace(tzinfo=None).isoformat()}],
        "queue_not_found": [{"queue": "nowhere"}],
    }
    for code, changes in refused.items():
        for change in changes:
            r = await v.post("/api/callback/requests", json={"idempotency_key": key(), **base, **change})
            assert r.status_code == 422 and r.json()["error"] == code, (change, r.text)
    assert (await sup.c.get("/api/callback/requests")).json() == []

    # A slot takes CC_CALLBACK_SLOT_CAPACITY (2) bookings; then it is refused and no longer offered.
    slot = free[1]["start"]
    for _ in range(2):
        r = await v.post("/api/callback/requests", json={"idempotency_key": key(), **base, "slot_start": slot})
        assert r.status_code == 201
    r = await v.post("/api/callback/requests", json={"idempotency_key": key(), **base, "slot_start": slot})
    assert r.status_code == 409 and r.json()["error"] == "slot_full"
    assert slot not in [s["start"] for s in (await v.get("/api/callback/slots")).json()]

    # A flood: 6 new requests an hour per visitor (3 valid ones above, the full slot's too); a retried key
    # does not count, nor did the refused ones.
    first = {"idempotency_key": key(), **base, "mode": "browser", "phone": None}
    assert (await v.post("/api/callback/requests", json=first)).status_code == 201
    for _ in range(2):
        r = await v.post("/api/callback/requests", json={"idempotency_key": key(), **base})
        assert r.status_code == 201
    r = await v.post("/api/callback/requests", json={"idempotency_key": key(), **base})
    assert r.status_code == 429 and r.json()["error"] == "too_many_callbacks" and int(r.headers["Retry-After"]) >= 1
    again = await v.post("/api/callback/requests", json=first)
    assert again.status_code == 200 and again.json()["mode"] == "browser"
    assert len((await sup.c.get("/api/callback/requests")).json()) == 5
    await v.aclose()


async def test_links_cancel_and_reschedule_and_refuse_forgeries_and_staff_routes_check_roles(
    app: FastAPI, clock: FakeClock, people: People
) -> None:
    p = await people("a1", "sup", "plan")
    a1, sup, plan = p["a1"], p["sup"], p["plan"]
    v = await visitor(app)
    free = (await v.get("/api/callback/slots")).json()
    made = []
    for slot in (free[1]["start"], free[2]["start"]):
        body = {"idempotency_key": key(), "name": "Ben", "phone": PHONE, "slot_start": slot}
        made.append((await v.post("/api/callback/requests", json=body)).json())
    token = made[0]["link_token"]
    seen = (await v.get(f"/api/callback/links/{token}")).json()
    assert (seen["status"], seen["phone_hint"], seen["reference"]) == ("booked", "+44…20", made[0]["reference"])
    assert "phone" not in seen
    foreign = await v.get(f"/api/callback/links/{token}", headers={"Origin": "https://evil.example"})
    assert foreign.status_code == 403 and foreign.json()["error"] == "origin_not_allowed"

    other_key = links.sign("y" * 40, callback_id=made[0]["id"], expires=int(clock.now.timestamp()) + 3600)
    tampered = [other_key, token.replace(made[0]["id"], made[1]["id"]), token[:-2] + "AA", "x", "a.b.c"]
    for bad in tampered:
        for method, path in (("GET", ""), ("POST", "/cancel")):
            r = await v.request(method, f"/api/callback/links/{bad}{path}")
            assert r.status_code == 404 and r.json()["error"] == "link_invalid", (bad, r.text)

    r = await v.post(f"/api/callback/links/{token}/reschedule", json={"slot_start": free[3]["start"]})
    assert r.status_code == 200 and r.json()["slot_start"] == free[3]["start"]
    past = (clock.now - timedelta(hours=1)).astimezone(UTC).replace(minute=0, second=0)
    r = await v.post(f"/api/callback/links/{token}/reschedule", json={"slot_start": past.isoformat()})
    assert r.status_code == 422 and r.json()["error"] == "slot_in_past"

    # Staff routes: agents and planners are refused; supervisors see number, slot and attempts and cancel.
    for who in (a1, plan):
        assert (await who.c.get("/api/callback/requests")).status_code == 403
        assert (await who.c.post(f"/api/callback/requests/{made[1]['id']}/cancel")).status_code == 403
        assert (await who.c.get("/api/callback/promise")).status_code == 403
    assert (await v.get("/api/callback/requests")).status_code == 401  # a visitor token is no staff session
    listed = (await sup.c.get("/api/callback/requests")).json()
    assert [(c["phone"], c["slot_start"], c["attempts"]) for c in listed] == [
        ("+442079460020", free[2]["start"], 0),
        ("+442079460020", free[3]["start"], 0),
    ]
    r = await sup.c.post(f"/api/callback/requests/{made[1]['id']}/cancel")
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    r = await v.post(f"/api/callback/links/{token}/cancel")
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    r = await v.post(f"/api/callback/links/{token}/cancel")
    assert r.status_code == 409 and r.json()["error"] == "callback_not_pending"
    assert (await sup.c.get("/api/callback/requests")).json() == []
    assert free[2]["start"] in [s["start"] for s in (await v.get("/api/callback/slots")).json()]

    clock.advance(72 * 3600)  # CC_CALLBACK_LINK_HOURS later
    r = await v.get(f"/api/callback/links/{token}")
    assert r.status_code == 410 and r.json()["error"] == "link_expired"
    await v.aclose()
