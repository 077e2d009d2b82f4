"""Bodies and replies of the rules, scripts and suggestions API (docs/api.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from contactcenter.validation import Text

RuleId = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")


class Problem(BaseModel):
    """One thing wrong with a rule or a script: where (file or rule), which row (1-based) and what."""

    path: str
    row: int | None = None
    message: str


class Stats(BaseModel):
    shown: int = 0
    accepted: int = 0
    dismissed: int = 0
    converted: int = 0
    conversion_rate: float | None = None
    holdout: int = 0
    holdout_converted: int = 0
    # Conversion rate of shown minus that of the holdout (percentage points as a fraction); None without both.
    uplift: float | None = None


class VersionOut(BaseModel):
    version: int
    author: str
    published_at: datetime
    comment: str


class RuleSummary(BaseModel):
    id: str
    name: str
    version: int
    published_at: datetime
    author: str
    comment: str
    holdout_pct: float
    stats: Stats
    # The version that runs: `version` unless that one was stopped (then an earlier one, or None).
    in_force: int | None = None
    # Why the published version is out of force, e.g. "stopped: ran longer than 250 ms at 2026-12-02T02:50Z".
    stopped: str | None = None


class RuleList(BaseModel):
    rules: list[RuleSummary]


class RuleDetail(BaseModel):
    id: str
    name: str
    version: int
    holdout_pct: float
    content: dict[str, Any]
    versions: list[VersionOut]


class ContactIn(BaseModel):
    channel: Text = Field(default="chat", max_length=16)
    queue: Text = Field(default="general", max_length=40)
    topic: Text | None = Field(default=None, max_length=200)
    page: Text | None = Field(default=None, max_length=500)


class RuleTestIn(BaseModel):
    content: dict[str, Any]
    customer_id: int | None = Field(default=None, gt=0)
    sample: int | None = Field(default=None, ge=1, le=200)
    contact: ContactIn | None = None


class RowMatch(BaseModel):
    row_id: str
    index: int
    outputs: dict[str, Any]
    reason: str


class RuleTestResult(BaseModel):
    customer_id: int
    customer_name: str
    matched: bool
    rows: list[RowMatch]
    script: str | None


class RuleTestOut(BaseModel):
    results: list[RuleTestResult]


class PublishIn(BaseModel):
    content: dict[str, Any]
    comment: Text = Field(default="", max_length=500)
    name: Text | None = Field(default=None, min_length=1, max_length=120)


class RollbackIn(BaseModel):
    version: int = Field(ge=1)
    comment: Text = Field(default="", max_length=500)


class HoldoutIn(BaseModel):
    holdout_pct: float = Field(ge=0, le=50)


class HoldoutOut(BaseModel):
    id: str
    holdout_pct: float


class VersionStats(Stats):
    version: int


class StatsOut(BaseModel):
    versions: list[VersionStats]


class ScriptSummary(BaseModel):
    id: str
    title: str


class ScriptList(BaseModel):
    scripts: list[ScriptSummary]


class ScriptOut(BaseModel):
    id: str
    title: str
    source: str


class FactOut(BaseModel):
    name: str
    type: str
    description: str
    example: Any


class FactList(BaseModel):
    facts: list[FactOut]


class SuggestionOut(BaseModel):
    id: int
    rule_id: str
    version: int
    title: str
    offer: str
    script_id: str
    script_html: str
    priority: float
    reason: str
    status: str
    # Why analytics thinks this customer wants the offered product (PTC), when it is one of their next products.
    ptc_reason: str | None = None


class SuggestionList(BaseModel):
    suggestions: list[SuggestionOut]


class DismissIn(BaseModel):
    reason: Text = Field(min_length=1, max_length=500)


class ConvertIn(BaseModel):
    product: Text = Field(min_length=1, max_length=120)
    amount: float = Field(ge=0, le=1e10)


class FeedbackOut(BaseModel):
    id: int
    status: str
