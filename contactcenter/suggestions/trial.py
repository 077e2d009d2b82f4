"""Trying a draft rule before publishing it: which rows match for a customer (or a sample), and why."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.ccr.summary import sample_customer_ids
from contactcenter.http import ApiError
from contactcenter.suggestions import service
from contactcenter.suggestions.engine import evaluate_draft
from contactcenter.suggestions.facts import contact_facts
from contactcenter.suggestions.runtime import Runtime
from contactcenter.suggestions.schemas import ContactIn, RowMatch, RuleTestIn, RuleTestOut, RuleTestResult

DEFAULT_SAMPLE = 20


async def run(session: AsyncSession, runtime: Runtime, *, rule_id: str, data: RuleTestIn) -> RuleTestOut:
    """Validate the draft (RuleInvalid if it may not be published), then evaluate it for each customer."""
    parsed = service.check_draft(data.content, rule_id=rule_id, scripts=runtime.scripts.scripts.keys())
    if data.customer_id is not None:
        ids = [data.customer_id]
    else:
        ids = await sample_customer_ids(session, limit=data.sample or DEFAULT_SAMPLE)
    c = data.contact or ContactIn()
    contact = contact_facts(channel=c.channel, queue=c.queue, topic=c.topic, page=c.page)
    facts_list: list[dict[str, Any]] = []
    for cid in ids:
        facts = await runtime.facts.gather(session, customer_id=cid, conversation_id=None, contact=contact)
        if facts is None:
            if data.customer_id is not None:
                raise ApiError(404, "customer_not_found", f"no customer {cid}")
            continue
        facts_list.append(facts)
    results = []
    for facts, found in zip(facts_list, evaluate_draft(parsed, data.content, facts_list), strict=True):
        found.sort(key=lambda m: (-m.priority, m.row.index))
        script = None
        if found:
            ctx = facts | {
                "agent": {"name": "Agent"},
                "suggestion": {"offer": found[0].text("offer"), "title": found[0].text("title"), "reason": ""},
            }
            script = runtime.scripts.render(found[0].text("script"), ctx)
        results.append(
            RuleTestResult(
                customer_id=facts["customer"]["id"],
                customer_name=facts["customer"]["name"],
                matched=bool(found),
                rows=[
                    RowMatch(row_id=m.row.id, index=m.row.index, outputs=m.outputs, reason=m.row.reason) for m in found
                ],
                script=script,
            )
        )
    return RuleTestOut(results=results)
