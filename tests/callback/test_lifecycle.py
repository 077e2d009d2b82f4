"""A callback's life with a fake clock on both deployments: asked for (stored, idempotent), offered,
no answer, retried after the delay, reached; retries running out; every request and attempt on the
timeline; the promise-kept figure."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import FastAPI

from tests.callback.conftest import FakeClock, People, Staff, key, online, run_due, visitor

PHONE = "+44 20 7946 0018"


async def _conversations(staff: Staff) -> list[dict[str, object]]:
    r = await staff.c.get("/api/conversations", params={"status": "open"})
    return [c for c in r.json() if c["channel"] == "callback"]


async def test_asap_no_answer_is_retried_after_the_delay_then_reached(
    app: FastAPI, clock: FakeClock, people: People
) -> None:
    p = await people("a1", "a2", "sup")
    a1, a2, sup = p["a1"], p["a2"], p["sup"]
    await online(app, a1)
    v = await visitor(app)
    body = {"idempotency_key": key(), "name": "Olivia", "phone": PHONE, "topic": "Mortgage"}
    r = await v.post("/api/callback/requests", json=body)
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["status"] == "open" and first["attempts"] == 1 and first["reference"].startswith("CB-")
    assert first["phone_hint"] == "+44…18" and first["link_token"]
    again = await v.post("/api/callback/requests", json=body)  # the widget retries: the same callback
    assert again.status_code == 200 and again.json()["id"] == first["id"]
    listed = (await sup.c.get("/api/callback/requests")).json()
    assert [c["id"] for c in listed] == [first["id"]] and listed[0]["phone"] == "+442079460018"

    (conv,) = await _conversations(a1)  # auto-accepted by the only agent on duty
    assert conv["agent_id"] == a1.id
    seen = (await a1.c.get(f"/api/callback/conversations/{conv['id']}")).json()
    assert (seen["id"], seen["mode"], seen["topic"]) == (first["id"], "phone", "Mortgage")
    r = await a2.c.post(f"/api/callback/requests/{first['id']}/outcome", json={"outcome": "no_answer"})
    assert r.status_code == 403 and r.json()["error"] == "not_your_callback"
    r = await a1.c.post(f"/api/callback/requests/{first['id']}/outcome", json={"outcome": "no_answer"})
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["attempts"]) == ("booked", 1)
    assert datetime.fromisoformat(r.json()["due_at"]) == clock.now + timedelta(seconds=600)
    assert await _conversations(a1) == []  # the attempt is over: the agent is free

    clock.advance(599)
    assert await run_due(app, clock) == 0  # not yet
    clock.advance(2)
    assert await run_due(app, clock) == 1
    assert await run_due(app, clock) == 0  # claimed once, never twice
    (conv2,) = await _conversations(a1)
    assert conv2["id"] != conv["id"]
    r = await a1.c.post(f"/api/callback/requests/{first['id']}/outcome", json={"outcome": "reached", "note": "ok"})
    assert (r.json()["status"], r.json()["attempts"], r.json()["last_outcome"]) == ("reached", 2, "reached")
    r = await a1.c.post(f"/api/callback/requests/{first['id']}/outcome", json={"outcome": "reached"})
    assert r.status_code == 409 and r.json()["error"] == "callback_not_open"
    assert (await sup.c.get("/api/callback/requests")).json() == []  # nothing pending any more

    customer = (await v.get("/api/visitors/me")).json()["customer_id"]
    items = (await sup.c.get(f"/api/customers/{customer}/timeline")).json()["items"]
    mine = [(t["kind"], t["summary"]) for t in items if t["channel"] == "callback"]
    assert sum(k == "callback_request" for k, _ in mine) == 1
    attempts = sorted(s for k, s in mine if k == "call")
    assert len(attempts) == 2 and attempts[0].startswith("Callback attempt 1: No answer; trying again at")
    assert attempts[1] == "Callback attempt 2: Reached"
    promise = (await sup.c.get("/api/callback/promise")).json()
    assert (promise["due"], promise["kept"], promise["kept_pct"]) == (1, 1, 100.0)
    await v.aclose()


async def test_busy_until_attempts_run_out_closes_with_a_note_and_a_missed_window_counts(
    app: FastAPI, clock: FakeClock, people: People
) -> None:
    p = await people("a1", "sup")
    a1, sup = p["a1"], p["sup"]
    v = await visitor(app)
    r = await v.post("/api/callback/requests", json={"idempotency_key": key(), "name": "Ann", "phone": PHONE})
    cid = r.json()["id"]
    assert r.json()["status"] == "open"  # in routing, waiting: nobody is on duty
    r = await a1.c.post(f"/api/callback/requests/{cid}/outcome", json={"outcome": "busy"})
    assert r.status_code == 409 and r.json()["error"] == "callback_not_started"
    clock.advance(901)  # past the as-soon-as-possible window, still not started
    promise = (await sup.c.get("/api/callback/promise")).json()
    assert (promise["due"], promise["kept"]) == (1, 0)
    await online(app, a1)
    for attempt in (1, 2):
        r = await a1.c.post(f"/api/callback/requests/{cid}/outcome", json={"outcome": "busy"})
        assert r.status_code == 200 and r.json()["attempts"] == attempt, r.text
        if attempt == 1:
            clock.advance(600)
            assert await run_due(app, clock) == 1
    assert r.json()["status"] == "failed" and r.json()["note"] == "Busy after 2 attempts; closed"
    clock.advance(10_000)
    assert await run_due(app, clock) == 0  # over: never comes back
    await v.aclose()
