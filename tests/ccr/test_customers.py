"""Customers and identities: normalisation, attachment, search, merge with audit."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
from sqlalchemy import func, select

from contactcenter.bus.memory import MemoryBus
from contactcenter.ccr import service
from contactcenter.ccr.models import Customer, CustomerIdentity, CustomerMerge
from contactcenter.ccr.schemas import Channel, CustomerCreate, IdentityIn, IdentityKind, TouchIn, TouchKind
from contactcenter.db import Database
from contactcenter.http import ApiError
from contactcenter.integration import service as integration
from contactcenter.integration.models import Product
from contactcenter.integration.schemas import OrderIn
from contactcenter.types import Role
from tests.conftest import UserFactory, login

REGION = "GB"


def new(name: str, *idents: tuple[str, str]) -> CustomerCreate:
    return CustomerCreate(display_name=name, identities=[IdentityIn(kind=IdentityKind(k), value=v) for k, v in idents])


async def count(db: Database, model: type) -> int:
    async with db.session() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def test_identities_are_normalised(db: Database) -> None:
    async with db.session() as s:
        c = await service.create_customer(
            s,
            data=new("Ann", ("email", " Ann.Smith@Example.COM "), ("phone", "07911 123456"), ("external", "core:1001")),
            region=REGION,
        )
    assert {(i.kind.value, i.value) for i in c.identities} == {
        ("email", "ann.smith@example.com"),
        ("phone", "+447911123456"),
        ("external", "core:1001"),
    }


@pytest.mark.parametrize(
    ("kind", "value", "code"),
    [
        ("email", "not-an-email", "invalid_email"),
        ("phone", "12", "invalid_phone"),
        ("phone", "+44 1234", "invalid_phone"),
        ("external", "no colon here", "invalid_external_id"),
        ("visitor", "short", "invalid_visitor_id"),
    ],
)
async def test_bad_identities_are_refused_and_nothing_is_written(
    db: Database, kind: str, value: str, code: str
) -> None:
    before = await count(db, Customer)
    async with db.session() as s:
        with pytest.raises(ApiError) as err:
            await service.create_customer(s, data=new("Bad", (kind, value)), region=REGION)
    assert err.value.status == 422 and err.value.code == code
    assert await count(db, Customer) == before


async def test_identity_taken_is_409_and_leaves_no_half_customer(db: Database) -> None:
    async with db.session() as s:
        await service.create_customer(s, data=new("First", ("email", "x@example.com")), region=REGION)
    before = (await count(db, Customer), await count(db, CustomerIdentity))
    async with db.session() as s:
        with pytest.raises(ApiError) as err:
            await service.create_customer(
                s, data=new("Second", ("phone", "+447911123555"), ("email", "X@example.com")), region=REGION
            )
    assert err.value.status == 409
    assert (await count(db, Customer), await count(db, CustomerIdentity)) == before


async def test_resolve_attaches_known_identity_and_creates_unknown(db: Database) -> None:
    async with db.session() as s:
        c = await service.create_customer(s, data=new("Known", ("email", "known@example.com")), region=REGION)
        cid, created = await service.resolve_customer(
            s, kind=IdentityKind.email, value="KNOWN@example.com", display_name="x", region=REGION
        )
        assert (cid, created) == (c.id, False)
        cid2, created2 = await service.resolve_customer(
            s, kind=IdentityKind.email, value="new@example.com", display_name="New One", region=REGION
        )
        assert created2 and cid2 != c.id
        assert (await service.get_customer(s, customer_id=cid2)).display_name == "New One"


async def test_search_by_name_email_and_phone(db: Database) -> None:
    async with db.session() as s:
        a = await service.create_customer(
            s, data=new("Olivia Patel", ("email", "olivia@example.com"), ("phone", "+447911123321")), region=REGION
        )
        await service.create_customer(s, data=new("Oliver Jones"), region=REGION)
        await service.create_customer(s, data=new("100% Real_Name"), region=REGION)
        assert [c.display_name for c in await service.search_customers(s, q="oliv", region=REGION)] == [
            "Oliver Jones",
            "Olivia Patel",
        ]
        assert [c.id for c in await service.search_customers(s, q="OLIVIA@example.com", region=REGION)] == [a.id]
        assert [c.id for c in await service.search_customers(s, q="07911 123321", region=REGION)] == [a.id]
        # LIKE wildcards in the query are matched literally.
        assert [c.display_name for c in await service.search_customers(s, q="0%", region=REGION)] == ["100% Real_Name"]
        assert await service.search_customers(s, q="_", region=REGION) != []
        assert await service.search_customers(s, q="nobody like this", region=REGION) == []


async def test_merge_moves_identities_and_timeline_and_is_audited(db: Database) -> None:
    bus = MemoryBus()
    async with db.session() as s:
        a = await service.create_customer(s, data=new("A", ("email", "a@example.com")), region=REGION)
        b = await service.create_customer(s, data=new("B", ("phone", "+447911123999")), region=REGION)
        await service.log_touches(
            s,
            bus,
            touches=[
                TouchIn(customer_id=cid, channel=Channel.chat, kind=TouchKind.message, summary=f"hi {cid}")
                for cid in (a.id, a.id, b.id)
            ],
        )
        out = await service.merge_customers(s, bus, source_id=a.id, target_id=b.id, actor_id=1, reason="same person")
        assert (out.moved_identities, out.moved_touches) == (1, 2)
        merged = await service.get_customer(s, customer_id=b.id)
        assert {i.value for i in merged.identities} == {"a@example.com", "+447911123999"}
        assert len((await service.timeline(s, customer_id=b.id)).items) == 3
        assert (await service.get_customer(s, customer_id=a.id)).merged_into_id == b.id
        assert await service.live_customer_id(s, customer_id=a.id) == b.id
        audit = (await s.scalars(select(CustomerMerge))).one()
        assert (audit.source_id, audit.target_id, audit.reason) == (a.id, b.id, "same person")
        for src, dst, code in [
            (b.id, b.id, "same_customer"),
            (a.id, b.id, "already_merged"),
            (b.id, 99999, "customer_not_found"),
        ]:
            with pytest.raises(ApiError) as err:
                await service.merge_customers(s, bus, source_id=src, target_id=dst, actor_id=1, reason="x")
            assert err.value.code == code


async def test_orders_follow_a_merge_even_through_a_chain(db: Database) -> None:
    bus = MemoryBus()
    async with db.session() as s:
        a, b, c = [await service.create_customer(s, data=new(n), region=REGION) for n in ("A", "B", "C")]
        s.add(Product(sku="FUND-1", name="Global fund", category="funds", price=Decimal("100")))
        s.add(Product(sku="CARD-1", name="Gold card", category="cards", price=Decimal("0")))
        await s.commit()
        await integration.record_order(s, bus, data=OrderIn(customer_id=a.id, sku="FUND-1", amount=Decimal("250")))
        await integration.record_order(s, bus, data=OrderIn(customer_id=b.id, sku="CARD-1", amount=Decimal("0")))
        await service.merge_customers(s, bus, source_id=a.id, target_id=b.id, actor_id=1, reason="same person")
        await service.merge_customers(s, bus, source_id=b.id, target_id=c.id, actor_id=1, reason="same person")
        # C now holds A's and B's history: its orders and what it owns (a rules fact) include theirs.
        orders = await integration.list_orders(s, customer_id=c.id)
        assert sorted(o.sku for o in orders) == ["CARD-1", "FUND-1"] and {o.customer_id for o in orders} == {c.id}
        assert sorted(sku for sku, _, _ in await integration.owned_products(s, customer_id=c.id)) == [
            "CARD-1",
            "FUND-1",
        ]
        # An order sent later for a merged-away id lands on the customer that holds it now.
        late = await integration.record_order(s, bus, data=OrderIn(customer_id=a.id, sku="CARD-1", amount=Decimal("1")))
        assert late.customer_id == c.id and len(await integration.list_orders(s, customer_id=c.id)) == 3


async def test_customer_api_and_merge_needs_a_supervisor(client: httpx.AsyncClient, make_user: UserFactory) -> None:
    await login(client, await make_user(Role.agent))
    r = await client.post(
        "/api/customers", json={"display_name": "Zoe", "identities": [{"kind": "email", "value": "zoe@example.com"}]}
    )
    assert r.status_code == 201
    zoe = r.json()["id"]
    r = await client.post("/api/customers", json={"display_name": "Zed"})
    zed = r.json()["id"]
    r = await client.post(f"/api/customers/{zoe}/identities", json={"kind": "phone", "value": "+44 7911 123777"})
    assert r.status_code == 201 and {"kind": "phone", "value": "+447911123777"} in r.json()["identities"]
    r = await client.post(f"/api/customers/{zed}/identities", json={"kind": "email", "value": "zoe@example.com"})
    assert r.status_code == 409 and r.json()["error"] == "identity_taken"
    assert (await client.get("/api/customers", params={"q": "zoe@example.com"})).json()[0]["id"] == zoe
    assert (await client.get("/api/customers/abc")).status_code == 422
    assert (await client.get("/api/customers/424242")).json()["error"] == "customer_not_found"
    r = await client.post("/api/customers/merge", json={"source_id": zed, "target_id": zoe, "reason": "dup"})
    assert r.status_code == 403
