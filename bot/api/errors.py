"""The API's errors: each becomes a JSON body with a `message`, and for 422 the bad fields by path.

`{"message": "The given data was invalid.", "errors": {"resources.0.starts": ["must carry a time zone"]}}`
is Laravel's shape, which PERSCOM answers with; DisCal clients read `Message`, so the DisCal routes
repeat the message under that key too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from bot.domain.errors import Conflict, InvalidField
from bot.domain.models import Event

INVALID = "The given data was invalid."


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        *,
        errors: Mapping[str, list[str]] | None = None,
        headers: Mapping[str, str] | None = None,
        close: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = dict(errors) if errors else None
        self.headers = dict(headers or {})
        self.close = close  # end the connection after answering (the rest of the request is not wanted)

    def body(self) -> dict:
        body: dict = {"message": self.message}
        if self.errors is not None:
            body["errors"] = self.errors
        return body


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)


def unauthorized(message: str = "A valid API token is required: Authorization: Bearer <token>.") -> ApiError:
    return ApiError(401, message, headers={"WWW-Authenticate": 'Bearer realm="calbot"'})


def forbidden(message: str) -> ApiError:
    return ApiError(403, message)


def not_found(what: str = "resource") -> ApiError:
    return ApiError(404, f"No such {what}.")


def invalid(errors: Mapping[str, list[str]]) -> ApiError:
    return ApiError(422, INVALID, errors=errors)


class FieldErrors:
    """Collects every bad field of a request, so one 422 names them all."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, path: str, message: str) -> None:
        messages = self.errors.setdefault(path, [])
        if message not in messages:
            messages.append(message)

    def __bool__(self) -> bool:
        return bool(self.errors)

    def raise_if_any(self) -> None:
        if self.errors:
            raise invalid(self.errors)


def domain_field(error: InvalidField | Conflict, names: Mapping[str, str], prefix: str = "") -> str:
    """The API field path of a domain error's field: `prefix` plus the API's name for it."""
    field = error.field
    if field in names:
        field = names[field]
    else:
        head, dot, rest = field.partition(".")
        if dot and head in names:
            field = f"{names[head]}.{rest}"
    return prefix + field


# What a field the domain refused is set to so that validation can go on and find the next bad field.
_NEUTRAL: dict[str, dict[str, Any]] = {
    "name": {"name": "event"},
    "description": {"description": ""},
    "content": {"content": ""},
    "location": {"location": ""},
    "url": {"url": None},
    "image": {"image": None},
    "ends": {"ends": None},
    "end": {"ends": None},
    "registration_deadline": {"registration_deadline": None},
    "deadline": {"registration_deadline": None},
    "capacity": {"capacity": None},
    "timezone": {"timezone": "UTC"},
    "notifications_interval": {"notifications_interval": ()},
    "notifications_channels": {"notifications_channels": ()},
    **{
        name: {"recurrence": None}
        for name in ("repeat", "every", "count", "until", "on", "by_month", "by_set_position")
    },
}
MAX_ROUNDS = 12


def validate(event: Event, errors: FieldErrors, names: Mapping[str, str], prefix: str = "") -> Event | None:
    """The event validated, or None with every field the domain refuses recorded: each refused field is
    set to a neutral value and validation runs again, so one answer names them all."""
    found = False
    for _round in range(MAX_ROUNDS):
        try:
            valid = event.validated()
        except InvalidField as error:
            errors.add(domain_field(error, names, prefix), error.reason)
            found = True
            fix = _NEUTRAL.get(error.field) or _NEUTRAL.get(error.field.rpartition(".")[0])
            if fix is None or all(getattr(event, k) == v for k, v in fix.items()):
                return None
            event = dataclasses.replace(event, **fix)
        else:
            return None if found else valid
    return None
