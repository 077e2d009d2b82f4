"""Normalising identities so one person's email or phone always reads the same."""

from __future__ import annotations

import re

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from contactcenter.ccr.schemas import IdentityKind
from contactcenter.http import ApiError

_EXTERNAL = re.compile(r"^[a-z][a-z0-9_-]{0,31}:[A-Za-z0-9_.:/-]{1,200}$")
_VISITOR = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def normalize_email(value: str) -> str:
    try:
        info = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ApiError(422, "invalid_email", str(exc)) from exc
    return info.normalized.lower()


def normalize_phone(value: str, region: str) -> str:
    try:
        num = phonenumbers.parse(value.strip(), region)
    except phonenumbers.NumberParseException as exc:
        raise ApiError(422, "invalid_phone", f"not a phone number: {exc}") from exc
    if not phonenumbers.is_valid_number(num):
        raise ApiError(422, "invalid_phone", f"{value!r} is not a valid phone number")
    return str(phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164))


def normalize_identity(kind: IdentityKind, value: str, *, region: str) -> str:
    """The canonical form of an identity, or a 422 ApiError naming what is wrong."""
    if kind is IdentityKind.email:
        return normalize_email(value)
    if kind is IdentityKind.phone:
        return normalize_phone(value, region)
    if kind is IdentityKind.visitor:
        if not _VISITOR.match(value):
            raise ApiError(422, "invalid_visitor_id", "visitor id must be 8-64 url-safe characters")
        return value
    if not _EXTERNAL.match(value):
        raise ApiError(422, "invalid_external_id", "external id must look like '<system>:<id>', e.g. 'crm:A-1021'")
    return value


def looks_like_phone(q: str) -> bool:
    digits = sum(c.isdigit() for c in q)
    return digits >= 6 and all(c.isdigit() or c in "+-() ." for c in q)
