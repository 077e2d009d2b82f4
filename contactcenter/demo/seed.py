"""Fill an empty database with a believable retail bank, "Harbour Bank": staff, products, customers, history.

Names and histories come from random.Random(seed), so a seed gives the same bank every time (dates are
relative to now). Staff go in through the auth service, customers through the CCR service (so identities
are normalised and checked as live ones are) and touches through `log_touches` in batches. Products and
orders are bulk-inserted, with the same order touch integration.service.record_order would log.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.analytics import service as analytics
from contactcenter.analytics.figures import Config
from contactcenter.auth.service import create_user, list_users
from contactcenter.bus.memory import MemoryBus
from contactcenter.ccr.models import Customer
from contactcenter.ccr.schemas import Channel, CustomerCreate, Direction, IdentityIn, IdentityKind, TouchIn, TouchKind
from contactcenter.ccr.service import create_customer, log_touches
from contactcenter.db import Database, utcnow
from contactcenter.demo import data
from contactcenter.demo import documents as demo_documents
from contactcenter.demo.articles import seed_articles
from contactcenter.demo.campaigns import start_demo_campaign
from contactcenter.demo.data import Person, ProductDef
from contactcenter.integration.models import Order, Product
from contactcenter.integration.schemas import OrderStatus
from contactcenter.settings import Settings
from contactcenter.types import Role

HISTORY = timedelta(days=548)  # 18 months
TOUCH_BATCH = 2_000
MAX_CUSTOMERS = 100_000  # distinct phone numbers in the range used below


def demo_password(username: str) -> str:
    return f"{username}-demo-pass"


class _Planner:
    """Builds one customer's orders and touches, within a touch budget."""

    def __init__(self, rng: random.Random, p: Person, agents: Sequence[int], now: datetime) -> None:
        self.rng, self.p, self.agents = rng, p, agents
        self.end = now - timedelta(days=210) if p.drifting else now
        self.start = now - HISTORY
        self.seq = 0

    def when(self) -> datetime:
        # Skewed towards the recent end, as real contact histories are.
        span = (self.end - self.start).total_seconds()
        return self.end - timedelta(seconds=span * self.rng.random() ** 1.4)

    def add(
        self,
        kind: TouchKind,
        at: datetime,
        summary: str,
        payload: dict[str, Any],
        *,
        direction: Direction | None = None,
        channel: Channel | None = None,
        agent: bool = False,
        conversation: str | None = None,
    ) -> None:
        default_channel, default_direction = data.KIND_DEFAULTS[kind]
        self.p.touches.append(
            TouchIn(
                customer_id=self.p.id,
                channel=channel or default_channel,
                kind=kind,
                direction=direction or default_direction,
                occurred_at=max(at, self.start),
                agent_id=self.rng.choice(self.agents) if agent else None,
                conversation_id=conversation,
                summary=summary[:500],
                payload=payload,
            )
        )

    def conversation(self, channel: str) -> str:
        self.seq += 1
        return f"demo-{channel}-{self.p.n}-{self.seq}"

    def orders(self, count: int, segment_index: int) -> list[tuple[ProductDef, datetime]]:
        weights = [pd.weights[segment_index] for pd in data.PRODUCTS]
        by_sku = {pd.sku: pd for pd in data.PRODUCTS}
        picked: list[ProductDef] = []
        while len(picked) < count:
            pd = self.rng.choices(data.PRODUCTS, weights)[0]
            if pd in picked and pd.category not in {"investment", "isa"}:
                continue
            picked.append(pd)
            assoc = data.ASSOCIATIONS.get(pd.sku)
            if assoc and len(picked) < count and self.rng.random() < assoc[1]:
                picked.append(by_sku[assoc[0]])
        return sorted(((pd, self.when()) for pd in picked), key=lambda x: x[1])

    def page_view(self, pd: ProductDef | None, at: datetime) -> None:
        path, title = (pd.path, pd.name) if pd else self.rng.choice(data.GENERAL_PAGES)
        payload = {"path": path, "title": title, "seconds": self.rng.randint(5, 240)}
        self.add(TouchKind.page_view, at, f"Viewed {title}", payload)

    def call(self, text: str, at: datetime, direction: Direction, low: int = 45, high: int = 1500) -> None:
        payload = {"duration_s": self.rng.randint(low, high)}
        conv = self.conversation("call")
        self.add(TouchKind.call, at, f"Call: {text}", payload, direction=direction, agent=True, conversation=conv)

    def chat(self, pd: ProductDef, at: datetime, budget: int) -> int:
        conv = self.conversation("chat")
        question, answer = self.rng.choice(data.CHATS)
        lines = [(Direction.inbound, question), (Direction.outbound, answer)]
        lines.append((Direction.inbound, self.rng.choice(data.CHAT_FOLLOWUPS)))
        lines = lines[: min(budget, self.rng.randint(2, 3))]
        for i, (direction, text) in enumerate(lines):
            body, when = text.format(product=pd.name), at + timedelta(seconds=40 * i)
            agent = direction is Direction.outbound
            self.add(TouchKind.message, when, body, {"text": body}, direction=direction, agent=agent, conversation=conv)
        if len(lines) < budget and self.rng.random() < 0.3:
            self.push(pd, at + timedelta(minutes=3), Channel.chat, conv)
            return len(lines) + 1
        return len(lines)

    def push(self, pd: ProductDef, at: datetime, channel: Channel, conv: str | None = None) -> None:
        name, ctype = self.rng.choice(data.DOCUMENTS)
        doc = name.format(product=pd.name)
        payload = {"document": doc, "content_type": ctype}
        self.add(TouchKind.document_push, at, f"Sent {doc}", payload, channel=channel, agent=True, conversation=conv)

    def email(self, pd: ProductDef, at: datetime, budget: int) -> int:
        subject = self.rng.choice(data.EMAILS_IN).format(product=pd.name)
        self.add(TouchKind.email, at, f"Email: {subject}", {"subject": subject, "from": self.p.email})
        if budget > 1 and self.rng.random() < 0.7:
            reply = f"Re: {subject}" if self.rng.random() < 0.6 else self.rng.choice(data.EMAILS_OUT)
            reply = reply.format(product=pd.name)
            later = at + timedelta(hours=self.rng.randint(1, 30))
            payload = {"subject": reply, "to": self.p.email}
            self.add(TouchKind.email, later, f"Email sent: {reply}", payload, direction=Direction.outbound, agent=True)
            return 2
        return 1

    def callback(self, pd: ProductDef, at: datetime, budget: int) -> int:
        topic = self.rng.choice(data.CALLBACK_TOPICS).format(product=pd.name)
        slot = (at + timedelta(days=self.rng.randint(0, 3))).replace(minute=0, second=0, microsecond=0)
        payload = {"topic": topic, "requested_for": slot.isoformat(), "phone": self.p.e164}
        self.add(TouchKind.callback_request, at, f"Callback requested about {topic}", payload)
        if budget > 1 and slot < self.end:
            self.call(f"returned the callback about {topic}", slot, Direction.outbound, 120, 900)
            return 2
        return 1

    def fill(self, budget: int, interests: Sequence[ProductDef]) -> None:
        kinds = ("page", "chat", "call", "email", "callback", "note", "cobrowse", "push")
        weights = (30, 20, 18, 12, 7, 7, 3, 3)
        while budget > 0:
            kind = self.rng.choices(kinds, weights)[0]
            pd = self.rng.choice(interests) if self.rng.random() < 0.75 else self.rng.choice(data.PRODUCTS)
            at = self.when()
            used = 1
            if kind == "page":
                self.page_view(pd if self.rng.random() < 0.7 else None, at)
            elif kind == "chat":
                used = self.chat(pd, at, budget)
            elif kind == "call":
                inbound = self.rng.random() < 0.8
                text = self.rng.choice(data.CALLS_IN if inbound else data.CALLS_OUT).format(product=pd.name)
                self.call(text, at, Direction.inbound if inbound else Direction.outbound)
            elif kind == "email":
                used = self.email(pd, at, budget)
            elif kind == "callback":
                used = self.callback(pd, at, budget)
            elif kind == "note":
                branch = str(self.p.profile["home_branch"])
                text = self.rng.choice(data.BRANCH_NOTES).format(branch=branch, product=pd.name)
                self.add(TouchKind.note, at, text, {"body": "", "author": f"Adviser, {branch}"})
            elif kind == "cobrowse":
                payload = {"path": pd.path, "seconds": self.rng.randint(60, 900)}
                self.add(TouchKind.cobrowse, at, f"Co-browsed the {pd.name} page", payload, agent=True)
            else:
                self.push(pd, at, Channel.web)
            budget -= used


def _order(rng: random.Random, p: Person, k: int, pd: ProductDef, at: datetime, now: datetime) -> Order:
    lo, hi = pd.amount
    scale = next(scale for name, _, scale in data.SEGMENTS if name == p.segment)
    raw = rng.uniform(lo, hi) * (scale if lo != hi else 1.0)
    step = 50 if raw > 1_000 else 1
    amount = Decimal(round(raw / step) * step).quantize(Decimal("0.01"))
    if now - at < timedelta(days=14):
        status = OrderStatus.placed
    else:
        status = rng.choices([OrderStatus.active, OrderStatus.closed, OrderStatus.cancelled], [80, 12, 8])[0]
    ref = f"core-ord-{p.n}-{k}"
    return Order(customer_id=p.id, product_id=0, amount=amount, status=status.value, external_ref=ref, placed_at=at)


def _order_touch(order: Order, pd: ProductDef) -> TouchIn:
    # The same touch integration.service.record_order logs, written in bulk here for speed.
    return TouchIn(
        customer_id=order.customer_id,
        channel=Channel.system,
        kind=TouchKind.order,
        direction=Direction.inbound,
        occurred_at=order.placed_at,
        summary=f"Ordered {pd.name} ({order.amount})",
        payload={"order_id": order.id, "sku": pd.sku, "amount": str(order.amount), "status": order.status},
    )


async def _add_products(s: AsyncSession) -> dict[str, int]:
    # The catalogue comes from the core banking system in real life; the demo writes it directly.
    rows = [Product(sku=pd.sku, name=pd.name, category=pd.category, price=pd.price) for pd in data.PRODUCTS]
    s.add_all(rows)
    await s.commit()
    return {r.sku: r.id for r in rows}


async def seed_demo(settings: Settings, *, customers: int = 300, seed: int = 7) -> str:
    """Create the demo bank in an empty database; does nothing when any staff user exists."""
    if not 0 <= customers <= MAX_CUSTOMERS:
        raise ValueError(f"customers must be between 0 and {MAX_CUSTOMERS}")
    started = time.perf_counter()
    rng = random.Random(seed)
    db = Database(settings.database_url)
    # Seeded history is not news: a private in-process bus keeps it off any live consoles.
    bus = MemoryBus()
    try:
        async with db.session() as s:
            existing = await list_users(s)
            if existing:
                names = ", ".join(u.username for u in existing[:5])
                return f"Database already seeded: {len(existing)} staff user(s) exist ({names}). Nothing changed."
            staff: dict[str, int] = {}
            for username, display, role in data.DEMO_STAFF:
                user = await create_user(
                    s, username=username, display_name=display, role=Role(role), password=demo_password(username)
                )
                staff[username] = user.id
            articles = await seed_articles(s, author_id=staff["pat"])
            product_ids = await _add_products(s)
            await demo_documents.add_library(s, uploaded_by=staff["alice"])
            now = utcnow()
            people = data.people(rng, customers)
            for p in people:
                identities = [
                    IdentityIn(kind=IdentityKind.external, value=f"core:{p.n}"),
                    IdentityIn(kind=IdentityKind.email, value=p.email),
                    IdentityIn(kind=IdentityKind.phone, value=p.phone),
                ]
                body = CustomerCreate(display_name=p.name, segment=p.segment, identities=identities)
                p.id = (await create_customer(s, data=body, region="GB")).id
            await s.execute(update(Customer), [{"id": p.id, "profile": p.profile} for p in people])
            await s.commit()

            agents = [staff["alice"], staff["bob"], staff["alice"], staff["bob"], staff["sam"]]
            segment_index = {name: i for i, (name, _, _) in enumerate(data.SEGMENTS)}
            orders: list[tuple[Order, ProductDef]] = []
            touches = 0
            pending: list[TouchIn] = []
            for p in people:
                plan = _Planner(rng, p, agents, now)
                n_orders = rng.randint(0, 6)
                budget = rng.randint(5, 40 - n_orders)
                bought = plan.orders(n_orders, segment_index[p.segment])
                for k, (pd, at) in enumerate(bought, start=1):
                    order = _order(rng, p, k, pd, at, now)
                    order.product_id = product_ids[pd.sku]
                    orders.append((order, pd))
                    if budget > 1 and rng.random() < 0.6:
                        plan.page_view(pd, at - timedelta(days=rng.randint(1, 12)))
                        budget -= 1
                interests = [pd for pd, _ in bought] + rng.choices(data.PRODUCTS, k=2)
                plan.fill(budget, interests)
                pending.extend(p.touches)
                if len(pending) >= TOUCH_BATCH:
                    touches += len(await log_touches(s, bus, touches=pending))
                    pending = []
            # Orders and their touches go in together, as record_order does one at a time.
            s.add_all(o for o, _ in orders)
            await s.flush()
            pending += [_order_touch(o, pd) for o, pd in orders]
            touches += len(await log_touches(s, bus, touches=pending))
            await s.commit()
            # Tiers, attrition, associations and next products, as `contactcenter analytics run` computes them.
            run = await analytics.run_all(s, config=Config.from_settings(settings))
            targeted = await start_demo_campaign(s, author="Pat Planner")
    finally:
        await bus.close()
        await db.dispose()
    return _summary(
        settings,
        customers=customers,
        orders=len(orders),
        touches=touches,
        associations=run.associations,
        articles=articles,
        targeted=targeted,
        seconds=time.perf_counter() - started,
    )


def _summary(
    settings: Settings,
    *,
    customers: int,
    orders: int,
    touches: int,
    associations: int,
    articles: int,
    targeted: int,
    seconds: float,
) -> str:
    lines = [
        f"{data.BANK} demo data ready in {seconds:.1f} s:",
        f"  {customers} customers, {len(data.PRODUCTS)} products, {orders} orders, {touches} touches",
        f"  value tiers, attrition risk and next products computed; {associations} product associations",
        f"  {articles} help articles in English with Spanish, French and Chinese translations",
        f"  campaign 'Home insurance for likely buyers' running for {targeted} customers",
        f"Sign in at http://{settings.host}:{settings.port}/login with one of these demo logins:",
    ]
    lines += [f"  {role:<11} {u:<6} password {demo_password(u)}" for u, _, role in data.DEMO_STAFF]
    lines.append("Demo passwords are public: never seed a database that faces the internet.")
    return "\n".join(lines)
