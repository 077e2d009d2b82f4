"""Invitations over HTTP: the widget's check and answer (visitor token, browsing consent), the planner's rule
set and results (planners)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.auth import deps
from contactcenter.auth.service import StaffPrincipal, VisitorPrincipal
from contactcenter.bus import Bus
from contactcenter.db import Database, utcnow
from contactcenter.engage import abandon, results, rules, service
from contactcenter.engage.schemas import (
    AnswerIn,
    AnswerOut,
    CheckIn,
    CheckOut,
    ResultsOut,
    RuleSetIn,
    RuleSetOut,
    SessionsOut,
)
from contactcenter.http import get_bus, get_database, get_session, get_settings_dep
from contactcenter.settings import Settings

router = APIRouter()
Session = Annotated[AsyncSession, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
BusDep = Annotated[Bus, Depends(get_bus)]
DbDep = Annotated[Database, Depends(get_database)]
Visitor = Annotated[VisitorPrincipal, Depends(deps.visitor)]
Planner = Annotated[StaffPrincipal, Depends(deps.planners)]


@router.post("/api/engage/check", response_model=CheckOut)
async def check(body: CheckIn, db: DbDep, bus: BusDep, settings: SettingsDep, who: Visitor) -> CheckOut:
    """The page the visitor is on and the seconds there: an invitation when a rule says so, else when to ask
    again (docs/api.md)."""
    # SQLite: one writer per process at a time, so checks racing for the cap queue here, not on the lock.
    async with db.write_gate(), db.session() as s:
        return await service.check(s, bus, settings, customer_id=who.customer_id, body=body, now=utcnow())


@router.post("/api/engage/invitations/{invitation_id}/answer", response_model=AnswerOut)
async def answer(invitation_id: int, body: AnswerIn, session: Session, who: Visitor) -> AnswerOut:
    return await service.answer(
        session, invitation_id=invitation_id, customer_id=who.customer_id, value=body.answer, now=utcnow()
    )


@router.get("/api/engage/rules", response_model=RuleSetOut)
async def rule_set(session: Session, settings: SettingsDep, _: Planner) -> RuleSetOut:
    return await rules.current(session, settings)


@router.put("/api/engage/rules", response_model=RuleSetOut)
async def publish(body: RuleSetIn, session: Session, who: Planner) -> RuleSetOut:
    return await rules.publish(session, body=body, author_id=who.user_id)


@router.get("/api/engage/results", response_model=ResultsOut)
async def figures(
    session: Session, settings: SettingsDep, _: Planner, days: Annotated[int, Query(ge=1, le=90)] = 30
) -> ResultsOut:
    return await results.results(session, days=days, attribution_days=settings.engage_attribution_days, now=utcnow())


@router.get("/api/engage/sessions", response_model=SessionsOut)
async def sessions(
    session: Session, settings: SettingsDep, _: Planner, days: Annotated[int, Query(ge=1, le=90)] = 30
) -> SessionsOut:
    """The abandon rate over every product-viewing session, invited, held out and never invited."""
    return await abandon.report(session, days=days, gap_minutes=settings.engage_session_gap_minutes, now=utcnow())
