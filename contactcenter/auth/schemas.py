"""Bodies and replies of the auth routes."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from contactcenter.types import Role
from contactcenter.validation import Text


class LoginBody(BaseModel):
    username: Text = Field(min_length=1, max_length=64)
    password: Text = Field(min_length=1, max_length=256)


class UserCreate(BaseModel):
    username: Text = Field(min_length=2, max_length=64, pattern=r"^[a-zA-Z0-9_.@-]+$")
    display_name: Text = Field(min_length=1, max_length=120)
    role: Role
    password: Text = Field(min_length=8, max_length=256)


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    display_name: str
    role: Role
    active: bool


class MeOut(BaseModel):
    user: UserOut
    csrf_token: str


class VisitorTokenOut(BaseModel):
    visitor_id: str
    customer_id: int
    token: str
    # Seconds the token is valid for; renew it before (POST /api/visitors/renew).
    expires_in: int


class VisitorMeOut(BaseModel):
    visitor_id: str
    customer_id: int
