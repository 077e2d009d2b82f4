"""Health, readiness and Prometheus metrics."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from contactcenter.auth import deps
from contactcenter.http import error_response
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
    token = request.app.state.settings.metrics_token
    if token is not None:  # CC_METRICS_TOKEN: the scraper sends "Authorization: Bearer <token>"
        given = request.headers.get("authorization", "")
        expected = f"Bearer {token.get_secret_value()}"
        if not hmac.compare_digest(given.encode(), expected.encode()):
            return error_response(401, "not_authenticated", "a valid metrics token is required")
    return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
