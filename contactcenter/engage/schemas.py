"""Bodies and answers of the invitation routes (docs/api.md "Proactive invitations")."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_URL = 2000
Offer = Literal["chat", "callback", "articles"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CheckIn(Strict):
    """The widget, with browsing consent: the page it is on (its address, no query) and the seconds there."""

    url: str = Field(min_length=1, max_length=MAX_URL)
    seconds: int = Field(ge=0, le=86_400)
    lang: str | None = Field(default=None, max_length=35)


class Article(BaseModel):
    slug: str
    title: str


class OfferOut(BaseModel):
    id: int
    offer: Offer
    topic: str
    queue: str
    slot_start: datetime | None = None  # callback: the next free slot
    articles: list[Article] = []  # articles: the help articles found for the topic


class CheckOut(BaseModel):
    invitation: OfferOut | None = None
    # Ask again after this many seconds (a rule on this page waits for more time here); null: not on this page.
    next_check_s: int | None = None


class AnswerIn(Strict):
    answer: Literal["accepted", "dismissed"]


class AnswerOut(BaseModel):
    id: int
    answer: str
    answered_at: datetime


class InviteRule(Strict):
    """One row of the invitation table: every condition given must hold (an empty one holds always)."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")
    name: str = Field(min_length=1, max_length=120)
    enabled: bool = True
    page: str = Field(default="", max_length=200)  # web.page: a glob ("*/pricing*"); "" any page
    min_seconds: int | None = Field(default=None, ge=1, le=86_400)  # web.seconds_here >=
    min_visits: int | None = Field(default=None, ge=1, le=1000)  # web.visits_to_page >=
    cart_left: bool | None = None  # web.cart_left ==
    topic: str = Field(min_length=1, max_length=120)  # what the chat is about; what the articles are found by


class RuleSetIn(Strict):
    rules: list[InviteRule] = Field(max_length=50)
    comment: str = Field(default="", max_length=500)


class RuleSetOut(BaseModel):
    version: int  # 0: the defaults, never published
    rules: list[InviteRule]
    comment: str
    created_at: datetime | None


class Group(BaseModel):
    invitations: int
    shown: int
    accepted: int
    dismissed: int
    contacted: int  # a conversation started within CC_ENGAGE_ATTRIBUTION_DAYS after
    ordered: int  # an order placed within that time
    abandoned: int  # neither


class Day(BaseModel):
    day: str
    invited: Group
    held_out: Group


class ResultsOut(BaseModel):
    days: int
    invited: Group
    held_out: Group
    by_offer: dict[str, Group]
    by_day: list[Day]


class SessionGroup(BaseModel):
    sessions: int  # ended sessions that viewed a product page
    contacted: int  # a conversation of any channel from the session's start to the gap after its end
    ordered: int  # an order in that time
    abandoned: int  # neither


class SessionDay(BaseModel):
    day: str  # the day the session started (UTC)
    invited: SessionGroup  # an invitation was shown in the session
    held_out: SessionGroup  # a rule picked the visitor, who was held out
    never: SessionGroup  # no rule picked the visitor in the session


class SessionsOut(BaseModel):
    days: int
    gap_minutes: float  # no page view for this long: the visitor has left
    ongoing: int  # product-viewing sessions not ended yet, not counted in the groups
    invited: SessionGroup
    held_out: SessionGroup
    never: SessionGroup
    by_day: list[SessionDay]
