"""Per-process state of the suggestions capability: the rule cache, the scripts, the fact cache, and one bus
listener that keeps them current (a publish anywhere reaches this process within a second, no restart).

Pub/sub is at-most-once, so the listener is only the fast path: a poll every POLL_S seconds, and a full reload
after the subscription is lost, put the rules back in step whatever the bus did.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path
from typing import Annotated, Any

import structlog
from pydantic import Field, TypeAdapter, ValidationError

from contactcenter.analytics.events import TOPIC_ANALYTICS, FiguresChanged
from contactcenter.bus import Bus, BusMessage, Event
from contactcenter.bus.listen import listen
from contactcenter.campaigns.events import TOPIC_CAMPAIGNS, CampaignChanged
from contactcenter.ccr.events import TOPIC_TOUCHES, CustomersMerged, TouchLogged
from contactcenter.conversations import service as conversations
from contactcenter.conversations.events import TOPIC_CONVERSATIONS, ConversationChanged
from contactcenter.conversations.schemas import ConversationOut
from contactcenter.db import Database, utcnow
from contactcenter.integration.events import TOPIC_ORDERS, OrderRecorded
from contactcenter.realtime.events import TOPIC_REALTIME
from contactcenter.settings import Settings
from contactcenter.suggestions import feedback, service
from contactcenter.suggestions.engine import LoadedRule, Match, RuleSet
from contactcenter.suggestions.events import TOPIC_RULES, RuleChanged, suggestions_changed
from contactcenter.suggestions.facts import FactGatherer, Providers
from contactcenter.suggestions.sandbox import Sandbox
from contactcenter.suggestions.scripts import ScriptStore

log = structlog.get_logger("suggestions.runtime")
POLL_S = 5.0
# Touches that may change what a conversation should be offered: the console is told to fetch again.
RERUN_KINDS = frozenset({"conversation", "message", "page_view", "cobrowse"})
# No fact changes with a message inside the conversation (touches.* leave the conversation out, contact.* come
# from its start), so message touches re-run a conversation's rules at most once per this many seconds; page
# views and co-browse page changes always do (decision 21).
MESSAGE_RERUN_S = 30.0
_Heard = (
    RuleChanged | TouchLogged | CustomersMerged | OrderRecorded | ConversationChanged | FiguresChanged | CampaignChanged
)
_event: TypeAdapter[_Heard] = TypeAdapter(Annotated[_Heard, Field(discriminator="type")])


class Runtime:
    def __init__(self, *, settings: Settings, db: Database, bus: Bus, providers: Providers | None = None) -> None:
        self.settings, self.db, self.bus = settings, db, bus
        self.folder: Path = settings.rules_dir
        self.rules = RuleSet()
        self.sandbox = Sandbox(workers=settings.rules_workers, time_limit_s=settings.rules_time_limit_ms / 1000)
        self.scripts = ScriptStore.from_dir(self.folder / "scripts")
        self.facts = FactGatherer(providers or Providers(), ttl_s=settings.facts_ttl_s)
        self.subscribed = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []
        self.message_reruns: dict[str, float] = {}  # conversation id -> when a message last re-ran its rules
        self.facts_changed: dict[int, float] = {}  # customer id -> when another touch or an order arrived
        # Open conversation id -> (customer, agent), as the conversations topic last told (cleared when it was lost)
        self.open_conversations: dict[str, tuple[int, int | None]] = {}

    async def start(self, *, import_files: bool = True) -> None:
        """Import rules that are only in files (first start), load every rule, start listening."""
        if import_files and (self.folder / "manifest.json").exists():
            async with self.db.session() as s:
                done, problems = await service.import_rules(
                    s, self.bus, folder=self.folder, author="rules/ folder", only_new=True
                )
            if done:
                log.info("rules_imported", rules=done)
            for p in problems:
                log.warning("rules_folder_problem", path=p.path, row=p.row, message=p.message)
        await self.reload_all()
        self.tasks = [asyncio.create_task(self._listen()), asyncio.create_task(self._poll())]

    async def stop(self) -> None:
        for t in self.tasks:
            t.cancel()
        for t in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        await self.sandbox.close()

    async def evaluate(self, facts: dict[str, Any]) -> list[Match]:
        """Every rule in force for these facts, in the sandbox; a rule past the time limit is stopped."""
        found, stopped = await self.rules.run(self.sandbox, facts)
        for rule in stopped:
            await self._stop(rule)
        return found

    async def _stop(self, rule: LoadedRule) -> None:
        # Out of force here at once; in the database (the planner page shows it) and on every process next.
        if self.rules.rules.get(rule.id) is rule:
            self.rules.remove(rule.id)
        limit = self.settings.rules_time_limit_ms
        reason = f"stopped: ran longer than {limit} ms at {utcnow().isoformat(timespec='seconds')}"
        log.error("rule_stopped", rule=rule.id, version=rule.version, limit_ms=limit)
        async with self.db.session() as s:
            await service.stop_version(s, self.bus, rule_id=rule.id, version=rule.version, reason=reason)
        await self.reload_all()

    async def reload_all(self) -> None:
        """Bring the cache in line with the database (only changed versions are rebuilt)."""
        async with self.db.session() as s:
            current = await service.current_versions(s)
        for rule_id in set(self.rules.rules) - set(current):
            self.rules.remove(rule_id)
        for rule_id, (name, version, pct, content) in current.items():
            self.rules.put(rule_id=rule_id, name=name, version=version, holdout_pct=pct, content=content)

    async def _listen(self) -> None:
        topics = (TOPIC_RULES, TOPIC_TOUCHES, TOPIC_ORDERS, TOPIC_CONVERSATIONS, TOPIC_ANALYTICS, TOPIC_CAMPAIGNS)

        async def resubscribed(lost: bool) -> None:
            if lost:  # what changed while the bus was away: read it all again
                self.open_conversations.clear()
                await self.reload_all()

        async def on_message(msg: BusMessage) -> None:
            await self.handle(msg.data, msg.event)

        await listen(
            self.bus, topics, on_message, what="suggestions", subscribed=self.subscribed, on_subscribed=resubscribed
        )

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(POLL_S)
            try:
                await self.reload_all()
            except Exception as exc:
                log.warning("rules_poll_failed", error=repr(exc))

    async def handle(self, data: str, given: Event | None = None) -> None:
        """One event of the topics this runtime hears (typed; `given`: the event itself, in-process)."""
        if isinstance(given, _Heard):
            ev: _Heard = given
        else:
            try:
                ev = _event.validate_json(data)
            except ValidationError:
                return
        try:
            if isinstance(ev, ConversationChanged):
                await self._assigned(ev.conversation)
            elif isinstance(ev, RuleChanged):
                await self.reload_all()
            elif isinstance(ev, TouchLogged):
                self.facts.invalidate(ev.customer_id, keep_conversation=ev.conversation_id)
                if ev.kind != "message":
                    self.facts_changed[ev.customer_id] = time.monotonic()
                if ev.kind in RERUN_KINDS:
                    await self._rerun(ev)
            elif isinstance(ev, CustomersMerged):
                await self._merged(ev)
            elif isinstance(ev, CampaignChanged):
                self.facts.invalidate_all()  # campaigns.ids of anyone on its list (campaign offers are read live)
            elif isinstance(ev, FiguresChanged):
                # Analytics recomputed these customers (none listed: everyone, a full run).
                if not ev.customer_ids:
                    self.facts.invalidate_all()
                for customer_id in ev.customer_ids:
                    self.facts.invalidate(customer_id)
            else:
                self.facts.invalidate(ev.customer_id)
                self.facts_changed[ev.customer_id] = time.monotonic()
                await self._attribute(ev)
        except Exception as exc:  # one bad event must not stop the listener
            log.warning("suggestions_event_failed", what=ev.type, error=repr(exc))

    def _throttled(self, ev: TouchLogged) -> bool:
        if ev.kind != "message" or ev.conversation_id is None:
            return False
        now = time.monotonic()
        last = self.message_reruns.get(ev.conversation_id)
        # Within the window, unless something else about the customer changed since the last re-run.
        if last is not None and now - last < MESSAGE_RERUN_S and self.facts_changed.get(ev.customer_id, 0.0) < last:
            return True
        if len(self.message_reruns) > 50_000:  # forget what is older than a whole window
            self.message_reruns = {k: t for k, t in self.message_reruns.items() if now - t < MESSAGE_RERUN_S}
            self.facts_changed = {k: t for k, t in self.facts_changed.items() if now - t < MESSAGE_RERUN_S}
        self.message_reruns[ev.conversation_id] = now
        return False

    async def _rerun(self, ev: TouchLogged) -> None:
        if self._throttled(ev):
            return
        # Every process hears the touch; the first to count it tells the consoles.
        if await self.bus.hit(f"suggestions:touch:{ev.touch_id}", 60) != 1:
            return
        if ev.conversation_id is None:
            await self._hint_open(ev.customer_id)
            return
        known = self.open_conversations.get(ev.conversation_id)
        if known is not None:
            customer, agent = known
            event = suggestions_changed(ev.conversation_id, customer_id=customer, agent_id=agent)
            await self.bus.publish_event(TOPIC_REALTIME, event)
        elif ev.kind != "conversation":  # opened before this process heard of it (e.g. a restart): ask
            await self._hint_open(ev.customer_id, ev.conversation_id)
        # A conversation's start touch comes before its assignment, which hints the agent itself (_assigned):
        # a database read per start here put the runtime seconds behind a burst of 2,000 starts.

    async def _hint_open(self, customer_id: int, only: str | None = None) -> None:
        """Tell the consoles of the customer's open conversations (or of `only`) to fetch suggestions again."""
        async with self.db.session() as s:
            convs = await conversations.open_for_customer(s, customer_id=customer_id)
        for c in convs:
            if only in (None, c.id):
                event = suggestions_changed(c.id, customer_id=c.customer_id, agent_id=c.agent_id)
                await self.bus.publish_event(TOPIC_REALTIME, event)

    async def _merged(self, ev: CustomersMerged) -> None:
        # The target now holds the source's touches, orders and products: facts of both are stale, and an
        # open conversation of the target may be offered something else.
        for customer in (ev.source_id, ev.target_id):
            self.facts.invalidate(customer)
            self.facts_changed[customer] = time.monotonic()
        if await self.bus.hit(f"suggestions:merged:{ev.source_id}:{ev.target_id}", 60) == 1:
            await self._hint_open(ev.target_id)

    async def _assigned(self, conv: ConversationOut) -> None:
        # A conversation just reached an agent: their console should fetch its suggestions (the start touch
        # may have been announced before anyone was assigned).
        # Who answers each open conversation, so that a message's re-run needs no database read.
        if conv.status == "closed":
            self.open_conversations.pop(conv.id, None)
        elif len(self.open_conversations) < 100_000:
            self.open_conversations[conv.id] = (conv.customer_id, conv.agent_id)
        if conv.status != "assigned" or conv.agent_id is None:
            return
        if await self.bus.hit(f"suggestions:assigned:{conv.id}:{conv.agent_id}", 3600) != 1:
            return
        event = suggestions_changed(conv.id, customer_id=conv.customer_id, agent_id=conv.agent_id)
        await self.bus.publish_event(TOPIC_REALTIME, event)

    async def _attribute(self, ev: OrderRecorded) -> None:
        async with self.db.session() as s:
            # Orders are announced as they are recorded: "now" is when the window closes.
            rec = await feedback.attribute_order(
                s,
                customer_id=ev.customer_id,
                sku=ev.sku,
                amount=ev.amount,
                placed_at=utcnow(),
                window_days=self.settings.attribution_days,
                bus=self.bus,
            )
        if rec is not None:
            log.info("order_attributed", suggestion=rec, order=ev.order_id)
