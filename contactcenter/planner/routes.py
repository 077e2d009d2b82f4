"""Planner pages: server-rendered shells; their scripts read and write rules (/api/rules), campaigns
(/api/campaigns) and the invitation rules and results (/api/engage/rules, /api/engage/results). Also the
charting library every staff page with a chart shares (/vendor/chart.js)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from contactcenter.auth import deps
from contactcenter.auth.service import StaffPrincipal
from contactcenter.headers import EDITOR_CSP
from contactcenter.http import ApiError, get_settings_dep, get_templates
from contactcenter.settings import Settings

router = APIRouter()
Templates = Annotated[Jinja2Templates, Depends(get_templates)]
Planner = Annotated[StaffPrincipal, Depends(deps.planners)]
# Chart.js from the npm registry (package.json), served by the app itself: no CDN (decision 51).
CHART_JS = ("chart.js", "dist", "chart.umd.min.js")


@router.get("/vendor/chart.js", include_in_schema=False)
async def chart_js(
    settings: Annotated[Settings, Depends(get_settings_dep)], _: Annotated[None, Depends(deps.public)]
) -> Response:
    """Chart.js's UMD build (window.Chart), for web/static/charts.js: the wallboard's and planner's charts."""
    path = settings.web_dir.parent.joinpath("node_modules", *CHART_JS)
    try:
        body = path.read_bytes()
    except FileNotFoundError:
        raise ApiError(404, "not_found", "chart.js is not installed (npm install)") from None
    return Response(body, media_type="text/javascript", headers={"Cache-Control": "public, max-age=3600"})


@router.get("/staff/planner", response_class=HTMLResponse)
async def rules_page(request: Request, templates: Templates, who: Planner) -> HTMLResponse:
    return templates.TemplateResponse(request, "planner_rules.html", {"me": who, "nav": "planner"})


@router.get("/staff/planner/rules/{rule_id}", response_class=HTMLResponse)
async def editor_page(
    request: Request, templates: Templates, who: Planner, rule_id: Annotated[str, Path(min_length=1, max_length=200)]
) -> HTMLResponse:
    # The page loads the rule itself (and says so plainly when it does not exist).
    ctx = {"me": who, "nav": "planner", "rule_id": rule_id}
    page = templates.TemplateResponse(request, "planner_editor.html", ctx)
    page.headers["Content-Security-Policy"] = EDITOR_CSP
    return page


@router.get("/staff/planner/campaigns", response_class=HTMLResponse)
async def campaigns_page(request: Request, templates: Templates, who: Planner) -> HTMLResponse:
    # The list and the new-campaign form; data from /api/campaigns, /api/products, /api/scripts.
    return templates.TemplateResponse(request, "planner_campaigns.html", {"me": who, "nav": "campaigns"})


@router.get("/staff/planner/campaigns/{campaign_id}", response_class=HTMLResponse)
async def campaign_page(
    request: Request,
    templates: Templates,
    who: Planner,
    campaign_id: Annotated[str, Path(min_length=1, max_length=48, pattern=r"^[a-z0-9][a-z0-9-]*$")],
) -> HTMLResponse:
    ctx = {"me": who, "nav": "campaigns", "campaign_id": campaign_id}
    return templates.TemplateResponse(request, "planner_campaign.html", ctx)


@router.get("/staff/planner/invitations", response_class=HTMLResponse)
async def invitations_page(request: Request, templates: Templates, who: Planner) -> HTMLResponse:
    # The invitation rule table (edited and published by the page) and the results against the hold-out.
    return templates.TemplateResponse(request, "planner_invitations.html", {"me": who, "nav": "invitations"})
