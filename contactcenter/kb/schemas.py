"""Bodies and replies of the knowledge base."""

from __future__ import annotations

import enum
import re
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

SLUG = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
LANG = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*$")
MAX_BODY = 100_000  # characters of markdown per translation


def primary_lang(tag: str | None, default: str) -> str:
    """ "zh-Hans-CN" -> "zh"; an unusable tag -> the default language."""
    if not tag or not LANG.match(tag):
        return default
    return tag.replace("_", "-").split("-")[0].lower()


class Status(enum.StrEnum):
    draft = "draft"
    published = "published"


class TranslationIn(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    body_md: str = Field(min_length=1, max_length=MAX_BODY)


class ArticleIn(BaseModel):
    slug: str = Field(min_length=1, max_length=80, pattern=SLUG)
    category: str = Field(default="general", min_length=1, max_length=60)
    status: Status = Status.draft
    lang: str = Field(default="en", min_length=2, max_length=12)
    title: str = Field(min_length=1, max_length=200)
    body_md: str = Field(min_length=1, max_length=MAX_BODY)

    @field_validator("lang")
    @classmethod
    def _lang(cls, v: str) -> str:
        if not LANG.match(v):
            raise ValueError("a language tag such as en, zh or es-MX")
        return primary_lang(v, "en")


class ArticleUpdate(BaseModel):
    category: str | None = Field(default=None, min_length=1, max_length=60)
    status: Status | None = None


class TranslationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    lang: str
    title: str
    body_html: str
    updated_at: datetime


class ArticleOut(BaseModel):
    """The staff view: every translation and the figures."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    slug: str
    category: str
    status: Status
    views: int
    helped: int
    not_helped: int
    updated_at: datetime
    translations: list[TranslationOut] = []


class PublicArticle(BaseModel):
    """What a customer reads: one translation (theirs, or the default language's)."""

    slug: str
    category: str
    lang: str
    title: str
    body_html: str


class Hit(BaseModel):
    slug: str
    lang: str
    title: str
    summary: str
    category: str


class VoteIn(BaseModel):
    helped: bool


class VoteOut(BaseModel):
    helped: int
    not_helped: int


class Asked(enum.StrEnum):
    chat = "chat"
    callback = "callback"


class FailedSearchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(min_length=1, max_length=200)
    lang: str | None = Field(default=None, max_length=35)
    asked: Asked


class FailedSearchOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    query: str
    lang: str
    asked: Asked
    at: datetime


class FailedSearches(BaseModel):
    total: int
    recent: list[FailedSearchOut]


class FailedQuery(BaseModel):
    """A text searched before a failed self-service, its spellings grouped (case and spacing ignored)."""

    query: str  # the most frequent spelling
    count: int
    last_at: datetime
    chat: int  # of those, the visitor then started a chat
    callback: int  # or asked for a callback
    langs: list[str]  # the widget's languages, most frequent first


class FailedTop(BaseModel):
    days: int
    total: int  # failed self-services in the period
    distinct: int  # distinct texts among them
    queries: list[FailedQuery]  # most frequent first, at most `limit`
