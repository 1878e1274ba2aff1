"""What a search of a guild's events may ask (PERSCOM's `POST /{v}/events/search`, Laravel Orion's search body):
conditions on the event's fields joined as Laravel joins them, a text to look for, and an order. Pure: the
API reads a body into an `EventQuery`, the storage runs it as SQL on either backend.

Conditions join left to right as Laravel's `where`/`orWhere` do, AND before OR: `a and b or c` is
`(a AND b) OR c`; a `Group` is one parenthesised condition."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from .errors import InvalidField

Kind = Literal["id", "text", "bool", "instant"]
# The fields a search may filter and sort by, and what their values are.
FIELDS: dict[str, Kind] = {
    "id": "id", "calendar_id": "id", "author_id": "id",
    "name": "text", "description": "text", "content": "text", "location": "text", "url": "text",
    "timezone": "text", "color": "text",
    "all_day": "bool", "repeats": "bool", "registration_enabled": "bool", "notifications_enabled": "bool",
    "starts": "instant", "ends": "instant", "registration_deadline": "instant", "created_at": "instant",
    "updated_at": "instant",
}  # fmt: skip
SEARCHED = ("name", "description", "content", "location")  # what the search text is looked for in
COMPARISONS = ("=", "!=", "<", "<=", ">", ">=")
OPERATORS = (*COMPARISONS, "like", "not like", "in", "not in")
JOINS = ("and", "or")
MAX_CONDITIONS = 50  # in a query, groups included
MAX_DEPTH = 3  # groups within groups
MAX_IN = 100  # values of an `in` list
MAX_SORTS = 5
MAX_TEXT = 255


@dataclass(frozen=True, slots=True)
class Condition:
    field: str
    operator: str
    value: Any  # None (with = or !=: is null / is not null), an int, a str, a bool, a datetime, or a tuple of them
    join: str = "and"  # how it joins the conditions before it


@dataclass(frozen=True, slots=True)
class Group:
    conditions: tuple[Condition | Group, ...]
    join: str = "and"


@dataclass(frozen=True, slots=True)
class Sort:
    field: str
    descending: bool = False


@dataclass(frozen=True, slots=True)
class EventQuery:
    filters: tuple[Condition | Group, ...] = ()
    text: str | None = None  # looked for in SEARCHED, as a substring
    case_sensitive: bool = False
    sorts: tuple[Sort, ...] = field(default=())

    def validated(self) -> EventQuery:
        """The query, or InvalidField naming the first bad part by its path (`filters.1.nested.0.value`)."""
        count = _check(self.filters, "filters", 1)
        if count > MAX_CONDITIONS:
            raise InvalidField("filters", f"holds {count} conditions; a search holds at most {MAX_CONDITIONS}")
        if self.text is not None and len(self.text) > MAX_TEXT:
            raise InvalidField("search.value", f"is longer than {MAX_TEXT} characters")
        if len(self.sorts) > MAX_SORTS:
            raise InvalidField("sort", f"holds {len(self.sorts)}; at most {MAX_SORTS}")
        for index, sort in enumerate(self.sorts):
            if sort.field not in FIELDS:
                raise InvalidField(f"sort.{index}.field", _unknown(sort.field))
        return self


def _unknown(name: str) -> str:
    return f"{name[:40]!r} cannot be searched; use one of {', '.join(FIELDS)}"


def _check(items: tuple[Condition | Group, ...], path: str, depth: int) -> int:
    count = 0
    for index, item in enumerate(items):
        where = f"{path}.{index}"
        if item.join not in JOINS:
            raise InvalidField(f"{where}.type", "must be and or or")
        if isinstance(item, Group):
            if depth >= MAX_DEPTH:
                raise InvalidField(f"{where}.nested", f"groups nest at most {MAX_DEPTH} deep")
            if not item.conditions:
                raise InvalidField(f"{where}.nested", "must not be empty")
            count += 1 + _check(item.conditions, f"{where}.nested", depth + 1)
            continue
        count += 1
        _check_condition(item, where)
    return count


def _check_condition(condition: Condition, where: str) -> None:
    kind = FIELDS.get(condition.field)
    if kind is None:
        raise InvalidField(f"{where}.field", _unknown(condition.field))
    if condition.operator not in OPERATORS:
        raise InvalidField(f"{where}.operator", f"must be one of {', '.join(OPERATORS)}")
    value = condition.value
    if condition.operator in ("in", "not in"):
        if not isinstance(value, tuple) or not 1 <= len(value) <= MAX_IN:
            raise InvalidField(f"{where}.value", f"must be a list of 1 to {MAX_IN} values")
        for item in value:
            _check_value(kind, item, f"{where}.value")
        return
    if condition.operator in ("like", "not like"):
        if kind != "text" or not isinstance(value, str):
            raise InvalidField(f"{where}.value", "like compares text fields with a text pattern (% and _)")
        return
    if value is None:
        if condition.operator not in ("=", "!="):
            raise InvalidField(f"{where}.value", "null compares with = or != only")
        return
    if kind in ("bool", "text") and condition.operator not in ("=", "!="):
        # Text is not ordered alike on SQLite and PostgreSQL (their collations differ): like, = and in only.
        raise InvalidField(f"{where}.operator", f"{condition.field} compares with =, !=, in or like only")
    _check_value(kind, value, f"{where}.value")


def _check_value(kind: Kind, value: Any, path: str) -> None:
    expected = {"id": int, "text": str, "bool": bool, "instant": datetime}[kind]
    if isinstance(value, bool) != (kind == "bool") or not isinstance(value, expected):
        raise InvalidField(path, {"id": "must be a whole number", "text": "must be a string",
                                  "bool": "must be true or false", "instant": "must be a date-time"}[kind])  # fmt: skip
    if kind == "id" and not 0 <= value < 2**63:
        raise InvalidField(path, "must be a whole number from 0 to 2^63-1")
    if kind == "text" and len(value) > MAX_TEXT:
        raise InvalidField(path, f"is longer than {MAX_TEXT} characters")
