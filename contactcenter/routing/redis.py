"""Redis routing backend: every decision is one run of routing.lua, so it is atomic across processes.
Callers pass `now` (time.time()); the app processes of one deployment share a clock."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Sequence
from importlib import resources
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import NoScriptError

from contactcenter.routing.backend import (
    AgentView,
    ContactView,
    QueueView,
    RoutingBackend,
    skills_json,
    weights_of,
)
from contactcenter.routing.model import (
    AgentSpec,
    Channel,
    ContactSpec,
    Offer,
    QueueSpec,
    RoutingError,
    State,
    qualifies,
)

P = "rt:"
HANDLE_SAMPLES = 200
_LUA = resources.files("contactcenter.routing").joinpath("routing.lua").read_text()
_SHA = hashlib.sha1(_LUA.encode()).hexdigest()
_SENDING: set[asyncio.Task[None]] = set()  # strong references to batches in flight


def _offers(rows: Any) -> list[Offer]:
    # cjson writes an empty Lua table as {}: no offers.
    if not isinstance(rows, list):
        return []
    return [Offer(str(c), int(a), str(q), Channel(ch), float(dl), bool(ok)) for c, a, q, ch, dl, ok in rows]


class RedisRouting(RoutingBackend):
    name = "redis"

    def __init__(self, client: aioredis.Redis, *, offer_s: float = 20.0) -> None:
        # decode_responses=True (the bus's client): answers are str; typed as Any like bus/redis.py does.
        self.client: Any = client
        self.offer_s = offer_s
        self._batch: list[tuple[str, str, asyncio.Future[str]]] = []
        self._upgraded = False

    async def _eval(self, op: str, payload: str) -> str:
        # Calls made while the loop is busy go out together as one pipeline on one connection (each script
        # still runs atomically on its own): one write and one read for many decisions instead of one each.
        fut: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._batch.append((op, payload, fut))
        if len(self._batch) == 1:
            asyncio.get_running_loop().call_soon(self._flush)
        return await fut

    def _flush(self) -> None:
        batch, self._batch = self._batch, []
        task = asyncio.ensure_future(self._send(batch))
        _SENDING.add(task)
        task.add_done_callback(_SENDING.discard)

    async def _send(self, batch: list[tuple[str, str, asyncio.Future[str]]]) -> None:
        results: list[Any]
        try:
            if len(batch) == 1:
                results = [await self._evalsha(*batch[0][:2])]
            else:
                async with self.client.pipeline(transaction=False) as pipe:
                    for op, payload, _ in batch:
                        pipe.evalsha(_SHA, 0, op, payload)
                    results = await pipe.execute(raise_on_error=False)
                for i, r in enumerate(results):
                    if isinstance(r, NoScriptError):
                        results[i] = await self._evalsha(*batch[i][:2])
        except Exception as e:  # whatever failed the round trip fails every call in it
            results = [e] * len(batch)
        for (_, _, fut), r in zip(batch, results, strict=True):
            if fut.done():  # the caller was cancelled
                continue
            if isinstance(r, BaseException):
                fut.set_exception(r)
            else:
                fut.set_result(r)

    async def _evalsha(self, op: str, payload: str) -> str:
        # EVALSHA straight on the client (redis-py's Script wrapper costs ~20-40 us a call)
        try:
            return str(await self.client.evalsha(_SHA, 0, op, payload))
        except NoScriptError:  # a fresh or flushed Redis: load once, then it stays cached
            await self.client.script_load(_LUA)
            return str(await self.client.evalsha(_SHA, 0, op, payload))

    async def _run(self, op: str, **args: Any) -> dict[str, Any]:
        # No nulls: cjson's null is truthy in Lua, so an absent argument is simply left out.
        sent = {k: v for k, v in args.items() if v is not None} | {"offer_s": self.offer_s}
        if not self._upgraded:  # state left by an older routing.lua is brought up to date first
            await self._evalsha("upgrade", "{}")
            self._upgraded = True
        out: dict[str, Any] = json.loads(await self._eval(op, json.dumps(sent, separators=(",", ":"))))
        if "err" in out:
            raise RoutingError(out["err"], _DETAILS.get(out["err"], out["err"]).format(**args))
        return out

    async def add_queue(self, spec: QueueSpec) -> None:
        await self.client.hset(f"{P}queues", spec.id, skills_json(dict(spec.skills)))
        # Agents' queue lists follow from their skills: recompute them for the new or changed queue.
        for aid in await self.client.smembers(f"{P}agents"):
            sk = await self.client.hget(f"{P}a:{aid}", "sk")
            cap = await self.client.hget(f"{P}a:{aid}", "cap")
            w = await self.client.hget(f"{P}a:{aid}", "w")
            if sk is not None and cap is not None and w is not None:
                aa = await self.client.hget(f"{P}a:{aid}", "aa") == "1"
                spec_a = AgentSpec(int(aid), json.loads(sk), float(cap), json.loads(w), auto_accept=aa)
                await self.add_agent(spec_a, now=0.0, queues=await self.queues())

    async def queues(self) -> list[QueueSpec]:
        rows = await self.client.hgetall(f"{P}queues")
        return [QueueSpec(q, json.loads(sk)) for q, sk in sorted(rows.items())]

    async def add_agent(
        self,
        spec: AgentSpec,
        *,
        now: float,
        queues: list[QueueSpec] | None = None,
        held: Sequence[ContactSpec] = (),
    ) -> list[Offer]:
        known = queues if queues is not None else await self.queues()
        qs = [q.id for q in known if qualifies(spec.skills, q.skills)]
        queue_ids = {q.id for q in known}
        out = await self._run(
            "agent",
            id=spec.id,
            cap=spec.capacity,
            w=weights_of(spec),
            qs=qs,
            qs_json=json.dumps(qs),
            sk=skills_json(dict(spec.skills)),
            aa="1" if spec.auto_accept else "0",
            held=[[h.id, h.queue, h.channel.value] for h in held if h.queue in queue_ids],
            now=now,
        )
        return _offers(out["offers"])

    async def set_state(
        self, agent_id: int, state: State, *, now: float, reason: str = "", until: float = 0.0
    ) -> list[Offer]:
        out = await self._run("state", id=agent_id, st=state.value, reason=reason, until=until, now=now)
        return _offers(out["offers"])

    async def heartbeat(self, agent_id: int, *, now: float, ttl_s: float) -> list[Offer]:
        return _offers((await self._run("beat", id=agent_id, ttl=ttl_s, now=now))["offers"])

    async def enqueue(self, spec: ContactSpec, *, now: float) -> list[Offer]:
        out = await self._run("enqueue", id=spec.id, q=spec.queue, ch=spec.channel.value, pr=spec.priority, now=now)
        return _offers(out["offers"])

    async def accept(self, agent_id: int, contact_id: str, *, now: float) -> Offer:
        return _offers((await self._run("accept", agent=agent_id, id=contact_id, now=now))["offers"])[0]

    async def decline(self, agent_id: int, contact_id: str, *, now: float) -> list[Offer]:
        return _offers((await self._run("decline", agent=agent_id, id=contact_id, now=now))["offers"])

    async def finish(self, contact_id: str, *, now: float) -> tuple[int | None, list[Offer]]:
        out = await self._run("finish", id=contact_id, now=now)
        return (int(out["agent"]) if out["agent"] is not False else None), _offers(out["offers"])

    async def transfer(
        self, contact_id: str, *, now: float, queue: str | None = None, agent_id: int | None = None
    ) -> list[Offer]:
        out = await self._run("transfer", id=contact_id, q=queue, agent=agent_id, now=now)
        return _offers(out["offers"])

    async def tick(self, *, now: float) -> list[Offer]:
        return _offers((await self._run("tick", now=now))["offers"])

    async def agent(self, agent_id: int) -> AgentView | None:
        # Two pipelined round trips whatever the agent holds (one per held contact cost a reconnecting
        # console's hello a dozen round trips on a busy process).
        async with self.client.pipeline(transaction=False) as p:
            p.hgetall(f"{P}a:{agent_id}")
            p.hkeys(f"{P}ah:{agent_id}")
            h, cids = await p.execute()
        if not h or "st" not in h:
            return None
        held: dict[str, str] = {}
        if cids:
            async with self.client.pipeline(transaction=False) as p:
                for cid in cids:
                    p.hget(f"{P}c:{cid}", "st")
                held = {cid: st or "assigned" for cid, st in zip(cids, await p.execute(), strict=True)}
        state = State(h["st"])
        if state is State.available and held:
            state = State.busy
        qs = tuple(json.loads(h.get("qs") or "[]"))
        return AgentView(agent_id, state, h["rs"], float(h["un"]), float(h["load"]), float(h["cap"]), held, qs)

    async def agents(self) -> list[AgentView]:
        out = []
        for aid in sorted(int(a) for a in await self.client.smembers(f"{P}agents")):
            view = await self.agent(aid)
            if view is not None:
                out.append(view)
        return out

    async def contact(self, contact_id: str) -> ContactView | None:
        h = await self.client.hgetall(f"{P}c:{contact_id}")
        if not h:
            return None
        pos = 0
        if h["st"] == "queued":
            pos = int(await self.client.zrank(f"{P}w:{h['q']}|{h['ch']}", contact_id) or 0)
        agent = int(h["ag"]) if h["ag"] else None
        return ContactView(contact_id, h["q"], Channel(h["ch"]), h["st"], agent, pos, float(h["at"]))

    async def queue_views(self) -> list[QueueView]:
        out = []
        for q in await self.queues():
            n = int(await self.client.zcard(f"{P}wt:{q.id}"))
            oldest = await self.client.zrange(f"{P}wt:{q.id}", 0, 0, withscores=True)
            out.append(QueueView(q.id, n, float(oldest[0][1]) if oldest else None))
        return out

    async def record_handle(self, queue: str, seconds: float) -> None:
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.lpush(f"{P}ht:{queue}", seconds)
            pipe.ltrim(f"{P}ht:{queue}", 0, HANDLE_SAMPLES - 1)
            await pipe.execute()

    async def handle_times(self, queue: str) -> list[float]:
        return [float(x) for x in await self.client.lrange(f"{P}ht:{queue}", 0, -1)]


_DETAILS = {
    "agent_not_found": "that agent has no routing profile",
    "bad_state": "busy follows from the contacts an agent holds; it cannot be set",
    "queue_not_found": "no such queue",
    "contact_exists": "contact {id} is already routed",
    "offer_withdrawn": "contact {id} is not on offer any more",
    "offer_not_yours": "contact {id} is offered to another agent",
    "contact_not_found": "no routed contact {id}",
    "not_assigned": "contact {id} is not with an agent",
    "agent_unavailable": "that agent is not available with room for this contact",
}
