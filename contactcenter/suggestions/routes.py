"""Rules, scripts and facts for planners; suggestions and their outcomes for agents (docs/api.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.auth import deps
from contactcenter.auth.service import StaffPrincipal
from contactcenter.bus import Bus
from contactcenter.http import ApiError, get_bus, get_session
from contactcenter.suggestions import feedback, service, trial
from contactcenter.suggestions.catalogue import all_facts
from contactcenter.suggestions.runtime import Runtime
from contactcenter.suggestions.schemas import (
    ConvertIn,
    DismissIn,
    FactList,
    FactOut,
    FeedbackOut,
    HoldoutIn,
    HoldoutOut,
    PublishIn,
    RollbackIn,
    RuleDetail,
    RuleList,
    RuleTestIn,
    RuleTestOut,
    ScriptList,
    ScriptOut,
    ScriptSummary,
    StatsOut,
    SuggestionList,
    VersionOut,
)

router = APIRouter()
Session = Annotated[AsyncSession, Depends(get_session)]
BusDep = Annotated[Bus, Depends(get_bus)]
Planner = Annotated[StaffPrincipal, Depends(deps.planners)]
Agent = Annotated[StaffPrincipal, Depends(deps.agents)]
RuleIdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")]
IdPath = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.suggestions
    return rt


RuntimeDep = Annotated[Runtime, Depends(_runtime)]


def _invalid(exc: service.RuleInvalid) -> JSONResponse:
    first = exc.problems[0].message if exc.problems else "invalid rule"
    body = {
        "error": "invalid_rule",
        "detail": f"{len(exc.problems)} problem(s); first: {first}",
        "problems": [p.model_dump() for p in exc.problems],
    }
    return JSONResponse(body, status_code=422)


@router.get("/api/rules", response_model=RuleList)
async def rules(session: Session, _: Planner) -> RuleList:
    return await service.list_rules(session)


@router.get("/api/rules/{rule_id}", response_model=RuleDetail)
async def rule(rule_id: RuleIdPath, session: Session, _: Planner) -> RuleDetail:
    return await service.get_rule(session, rule_id=rule_id)


@router.get("/api/rules/{rule_id}/versions/{version}", response_model=RuleDetail)
async def rule_version(rule_id: RuleIdPath, version: IdPath, session: Session, _: Planner) -> RuleDetail:
    return await service.get_rule(session, rule_id=rule_id, version=version)


@router.post("/api/rules/{rule_id}/test", response_model=RuleTestOut)
async def test_draft(
    rule_id: RuleIdPath, body: RuleTestIn, session: Session, rt: RuntimeDep, _: Planner
) -> RuleTestOut | JSONResponse:
    try:
        return await trial.run(session, rt, rule_id=rule_id, data=body)
    except service.RuleInvalid as exc:
        return _invalid(exc)


@router.post("/api/rules/{rule_id}/publish", response_model=VersionOut)
async def publish(
    rule_id: RuleIdPath, body: PublishIn, session: Session, bus: BusDep, rt: RuntimeDep, who: Planner
) -> VersionOut | JSONResponse:
    try:
        out = await service.publish(
            session,
            bus,
            rule_id=rule_id,
            content=body.content,
            comment=body.comment,
            author=who.display_name,
            name=body.name,
            scripts=rt.scripts.scripts.keys(),
        )
    except service.RuleInvalid as exc:
        return _invalid(exc)
    await rt.reload_all()  # this process at once; the others on the bus event
    return out


@router.post("/api/rules/{rule_id}/rollback", response_model=VersionOut)
async def rollback(
    rule_id: RuleIdPath, body: RollbackIn, session: Session, bus: BusDep, rt: RuntimeDep, who: Planner
) -> VersionOut | JSONResponse:
    try:
        out = await service.rollback(
            session,
            bus,
            rule_id=rule_id,
            version=body.version,
            comment=body.comment,
            author=who.display_name,
            scripts=rt.scripts.scripts.keys(),
        )
    except service.RuleInvalid as exc:
        return _invalid(exc)
    await rt.reload_all()
    return out


@router.put("/api/rules/{rule_id}/holdout", response_model=HoldoutOut)
async def holdout(
    rule_id: RuleIdPath, body: HoldoutIn, session: Session, bus: BusDep, rt: RuntimeDep, _: Planner
) -> HoldoutOut:
    pct = await service.set_holdout(session, bus, rule_id=rule_id, holdout_pct=body.holdout_pct)
    await rt.reload_all()
    return HoldoutOut(id=rule_id, holdout_pct=pct)


@router.get("/api/rules/{rule_id}/stats", response_model=StatsOut)
async def rule_stats(rule_id: RuleIdPath, session: Session, _: Planner) -> StatsOut:
    return await feedback.rule_stats(session, rule_id=rule_id)


@router.get("/api/scripts", response_model=ScriptList)
async def scripts(rt: RuntimeDep, _: Planner) -> ScriptList:
    return ScriptList(
        scripts=[ScriptSummary(id=s.id, title=s.title) for s in sorted(rt.scripts.scripts.values(), key=lambda s: s.id)]
    )


@router.get("/api/scripts/{script_id}", response_model=ScriptOut)
async def script(script_id: str, rt: RuntimeDep, _: Planner) -> ScriptOut:
    s = rt.scripts.scripts.get(script_id)
    if s is None:
        raise ApiError(404, "script_not_found", f"no script {script_id!r}")
    return ScriptOut(id=s.id, title=s.title, source=s.source)


@router.get("/api/facts", response_model=FactList)
async def facts(_: Planner) -> FactList:
    return FactList(
        facts=[FactOut(name=f.name, type=f.type, description=f.description, example=f.example) for f in all_facts()]
    )


@router.get("/api/conversations/{conversation_id}/suggestions", response_model=SuggestionList)
async def suggestions(conversation_id: str, session: Session, rt: RuntimeDep, who: Agent) -> SuggestionList:
    return await feedback.suggest(session, rt, conversation_id=conversation_id, who=who)


@router.post("/api/suggestions/{suggestion_id}/accept", response_model=FeedbackOut)
async def accept(suggestion_id: IdPath, session: Session, bus: BusDep, who: Agent) -> FeedbackOut:
    return await feedback.accept(session, suggestion_id=suggestion_id, who=who, bus=bus)


@router.post("/api/suggestions/{suggestion_id}/dismiss", response_model=FeedbackOut)
async def dismiss(suggestion_id: IdPath, body: DismissIn, session: Session, who: Agent) -> FeedbackOut:
    return await feedback.dismiss(session, suggestion_id=suggestion_id, reason=body.reason, who=who)


@router.post("/api/suggestions/{suggestion_id}/convert", response_model=FeedbackOut)
async def convert(suggestion_id: IdPath, body: ConvertIn, session: Session, bus: BusDep, who: Agent) -> FeedbackOut:
    return await feedback.convert(
        session, suggestion_id=suggestion_id, product=body.product, amount=body.amount, who=who, bus=bus
    )
