"""Health, readiness and Prometheus metrics."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from contactcenter.auth import deps
from contactcenter.ops.schemas import Health, Ready

router = APIRouter()


@router.get("/healthz", response_model=Health)
async def healthz(_: Annotated[None, Depends(deps.public)]) -> Health:
    return Health(status="ok")


@router.get("/readyz", response_model=Ready, responses={503: {"model": Ready}})
async def readyz(request: Request, _: Annotated[None, Depends(deps.public)]) -> Response:
    db_ok = await request.app.state.db.ping()
    bus_ok = await request.app.state.bus.ping()
    body = Ready(
        status="ok" if db_ok and bus_ok else "unavailable",
        database=db_ok,
        bus=bus_ok,
        bus_backend=request.app.state.bus.name,
    )
    return JSONResponse(body.model_dump(), status_code=200 if db_ok and bus_ok else 503)


@router.get("/metrics")
async def metrics(request: Request, _: Annotated[None, Depends(deps.public)]) -> Response:
    return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
