"""Bodies of the campaign routes: the planner's form, the preview, the campaign and its results."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Tier = Literal["bronze", "silver", "gold", "platinum"]
Segment = Literal["mass", "affluent", "private", "small_business"]
Sku = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
CampaignId = Annotated[str, Field(min_length=1, max_length=48, pattern=r"^[a-z0-9][a-z0-9-]*$")]
# Higher first, on the scale of the rules' priorities (the demo rules use 20-40); 50 was every campaign's.
Priority = Annotated[int, Field(ge=0, le=100)]
DEFAULT_PRIORITY = 50


class TargetIn(BaseModel):
    """Who the campaign is for; every criterion given must hold (empty lists: anyone)."""

    model_config = ConfigDict(extra="forbid")

    tiers: list[Tier] = Field(default_factory=list, max_length=4)
    segments: list[Segment] = Field(default_factory=list, max_length=4)
    # A product the customer is likely to want: from their next products (PTC), from the products they hold
    # (PTP: they hold a product associated with it), or either.
    product: Sku | None = None
    product_via: Literal["ptc", "ptp", "either"] = "either"
    min_attrition_risk: float | None = Field(default=None, ge=0, le=1)
    consented_only: bool = True  # leave out customers who said no to marketing
    exclude_owners: bool = True  # leave out customers who already hold the campaign's product


class CampaignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: CampaignId
    name: str = Field(min_length=1, max_length=120)
    target: TargetIn
    product_sku: Sku
    script_id: str = Field(min_length=1, max_length=120, pattern=r"^[a-z0-9_-]+$")
    starts_on: date
    ends_on: date
    holdout_pct: float = Field(default=10.0, ge=0, le=50)
    priority: Priority = DEFAULT_PRIORITY

    @model_validator(mode="after")
    def _period(self) -> CampaignIn:
        if self.ends_on < self.starts_on:
            raise ValueError("the end date is before the start date")
        if (self.ends_on - self.starts_on).days > 366:
            raise ValueError("a campaign runs a year at most")
        return self


class PreviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: CampaignId | None = None  # given: the hold-out split is the one a start would make

    target: TargetIn
    product_sku: Sku
    holdout_pct: float = Field(default=10.0, ge=0, le=50)


class TargetRow(BaseModel):
    customer_id: int
    name: str
    segment: str | None
    tier: str | None
    attrition_risk: float | None


class PreviewOut(BaseModel):
    size: int  # customers the list would hold now
    treated: int  # of them, offered the campaign (the rest are held out: estimated from the share)
    held_out: int
    sample: list[TargetRow]  # the first few, by id


class CampaignOut(BaseModel):
    id: str
    name: str
    target: TargetIn
    product_sku: str
    script_id: str
    starts_on: date
    ends_on: date
    holdout_pct: float
    status: Literal["draft", "running", "stopped"]
    priority: int
    target_size: int | None
    created_by: str
    created_at: datetime
    started_at: datetime | None
    stopped_at: datetime | None


class CampaignList(BaseModel):
    campaigns: list[CampaignOut]


class GroupResults(BaseModel):
    """One group of the target list: treated (offered) or held out (never shown, counted the same way)."""

    targeted: int
    contacted: int  # customers who made contact on any channel while the campaign ran
    accepted: int  # customers whose agent took the suggestion up (always 0 for the hold-out)
    converted: int  # customers who bought the product (at wrap-up, or an order within the window)
    ordered: int  # customers of the group who ordered the product since the start, contacted or not
    conversion_rate: float | None  # converted / contacted
    order_rate: float | None  # ordered / targeted


class ResultsOut(BaseModel):
    campaign_id: str
    targeted: int
    contacted: int
    accepted: int
    converted: int
    treated: GroupResults
    holdout: GroupResults
    uplift: float | None  # conversion rate of the treated contacted minus that of the held-out contacted
    order_uplift: float | None  # order rate of the treated minus that of the held out (everyone targeted)


class ListedTarget(BaseModel):
    customer_id: int
    name: str
    held_out: bool


class TargetList(BaseModel):
    targets: list[ListedTarget]


class EventOut(BaseModel):
    at: datetime
    by: str
    action: Literal["created", "edited", "started", "stopped", "restarted"]
    detail: dict[str, Any]  # edited: {"changed": [field, ...]}; started, restarted: {"added": n, "size": n}


class History(BaseModel):
    events: list[EventOut]  # oldest first
