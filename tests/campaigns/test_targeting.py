"""Target lists on the hand-checkable bank (tests/analytics/dataset.py): the preview's size is known in
advance for each criterion, and a start writes exactly the previewed customers."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from contactcenter.campaigns.targeting import held_out
from contactcenter.types import Role
from tests.campaigns.helpers import bank, body, staff
from tests.conftest import UserFactory


async def _preview(planner: httpx.AsyncClient, product_sku: str = "TRAVEL", **target: Any) -> dict[str, Any]:
    r = await planner.post("/api/campaigns/preview", json={"target": target, "product_sku": product_sku})
    assert r.status_code == 200, r.text
    got: dict[str, Any] = r.json()
    return got


# Holders of an antecedent of X -> TRAVEL (EVERY 1.375, MORT 2.75) who do not hold TRAVEL: c9..c12, c17..c20;
# c10 refused marketing. Their next products (PTC) hold TRAVEL for the same reason.
@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ({"product": "TRAVEL", "product_via": "ptp"}, [9, 11, 12, 17, 18, 19, 20]),
        ({"product": "TRAVEL", "product_via": "ptc"}, [9, 11, 12, 17, 18, 19, 20]),
        ({"product": "TRAVEL", "product_via": "ptp", "consented_only": False}, [9, 10, 11, 12, 17, 18, 19, 20]),
        ({"product": "TRAVEL", "tiers": ["silver"]}, [9, 11]),  # silver: c5..c11
        ({"product": "TRAVEL", "tiers": ["bronze"]}, [12, 17, 18, 19, 20]),
        ({"product": "TRAVEL", "segments": ["affluent"]}, [9]),
        ({"product": "MORT", "product_via": "ptp"}, [9, 11, 12, 17, 18, 19, 20]),  # EVERY -> MORT, not owners
    ],
)
async def test_preview_size_is_known_in_advance(
    app: FastAPI, make_user: UserFactory, target: dict[str, Any], expected: list[int]
) -> None:
    ids = await bank(app)
    planner, _ = await staff(app, make_user, Role.planner)
    got = await _preview(planner, **target)
    assert got["size"] == len(expected)
    assert [r["customer_id"] for r in got["sample"]] == [ids[n] for n in expected]
    await planner.aclose()


async def test_attrition_risk_and_owners(app: FastAPI, make_user: UserFactory) -> None:
    ids = await bank(app)
    planner, _ = await staff(app, make_user, Role.planner)
    # Risk 0.7 and above: c5 (0.7), c21 (0.95), c22 (0.7); c21 and c22 hold SAVE already.
    got = await _preview(planner, product_sku="SAVE", min_attrition_risk=0.7)
    assert [r["customer_id"] for r in got["sample"]] == [ids[5]]
    got = await _preview(planner, product_sku="SAVE", min_attrition_risk=0.7, exclude_owners=False)
    assert [r["customer_id"] for r in got["sample"]] == [ids[5], ids[21], ids[22]]
    assert got["sample"][0]["tier"] == "silver" and got["sample"][0]["attrition_risk"] == pytest.approx(0.7)
    # A product nobody knows is nobody's next product.
    assert (await _preview(planner, product="NOPE"))["size"] == 0
    await planner.aclose()


async def test_start_writes_the_previewed_list_with_its_holdout(app: FastAPI, make_user: UserFactory) -> None:
    ids = await bank(app)
    planner, _ = await staff(app, make_user, Role.planner)
    data = body("travel-ptp", product="TRAVEL", product_via="ptp") | {"holdout_pct": 50}
    assert (await planner.post("/api/campaigns", json=data)).status_code == 201
    preview = await planner.post(
        "/api/campaigns/preview",
        json={"id": "travel-ptp", "target": data["target"], "product_sku": "TRAVEL", "holdout_pct": 50},
    )
    seen = [r["customer_id"] for r in preview.json()["sample"]]
    expected_held = [c for c in seen if held_out("travel-ptp", c, 50)]
    assert preview.json()["held_out"] == len(expected_held)
    r = await planner.post("/api/campaigns/travel-ptp/start")
    assert r.status_code == 200 and r.json()["status"] == "running" and r.json()["target_size"] == len(seen)
    listed = (await planner.get("/api/campaigns/travel-ptp/targets")).json()["targets"]
    assert [t["customer_id"] for t in listed] == seen
    assert [t["customer_id"] for t in listed if t["held_out"]] == expected_held
    # Paging on by id.
    page = (await planner.get(f"/api/campaigns/travel-ptp/targets?after={seen[2]}&limit=2")).json()["targets"]
    assert [t["customer_id"] for t in page] == seen[3:5]
    assert ids[10] not in seen
    await planner.aclose()
