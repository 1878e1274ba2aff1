"""Reading a JSON body field by field: each reader checks the JSON type, records what is wrong under the
field's path and goes on, so one 422 names every bad field. Pure helpers; no aiohttp."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from bot.domain.timeparse import EARLIEST_YEAR, LATEST_YEAR, Reading, wall_to_utc

from .errors import FieldErrors


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()  # the field is absent (an update keeps the current value)
MAX_ID = 2**63 - 1
NUMERIC = re.compile(r"-?[0-9]{1,19}")  # a whole number written as a string (ASCII digits only)
ID_TEXT = re.compile(r"[0-9]{1,18}")  # an id written as a string: 18 digits always fit MAX_ID
# DisCal's Unix milliseconds: from the first day of EARLIEST_YEAR to the last day of LATEST_YEAR (its midnight).
EPOCH_MS_MIN = int(datetime(EARLIEST_YEAR, 1, 1, tzinfo=UTC).timestamp() * 1000)
EPOCH_MS_MAX = int(datetime(LATEST_YEAR, 12, 31, tzinfo=UTC).timestamp() * 1000)


def kind(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list",
            dict: "an object"}.get(type(value), type(value).__name__)  # fmt: skip


class Reader:
    """The fields of one JSON object, read at `prefix` (e.g. `resources.3.`)."""

    def __init__(self, data: Mapping[str, Any], errors: FieldErrors, prefix: str = "") -> None:
        self.data, self.errors, self.prefix = data, errors, prefix
        self.seen: set[str] = set()  # the keys of `data` something was read from: the others went unread

    def unread(self, shown_only: Iterable[str] = ()) -> list[str]:
        """The keys of `data` nothing read, besides `shown_only` (what a client may send back as it read it), with
        the prefix: a misspelt field, or one this resource does not have."""
        return [self.prefix + key for key in sorted(set(self.data) - self.seen - set(shown_only))]

    def fail(self, key: str, message: str) -> Any:
        self.errors.add(self.prefix + key, message)
        return MISSING

    def raw(self, key: str, *aliases: str) -> tuple[str, Any]:
        """(the spelling used, its value); MISSING if none of the spellings is there."""
        for name in (key, *aliases):
            if name in self.data:
                self.seen.add(name)
                return name, self.data[name]
        return key, MISSING

    def string(self, key: str, *aliases: str, nullable: bool = True, required: bool = False) -> Any:
        name, value = self.raw(key, *aliases)
        if value is MISSING:
            return self.fail(name, "is required") if required else MISSING
        if value is None and nullable and not required:
            return None
        if not isinstance(value, str):
            return self.fail(name, f"must be a string, not {kind(value)}")
        return value

    def boolean(self, key: str, *aliases: str, required: bool = False) -> Any:
        name, value = self.raw(key, *aliases)
        if value is MISSING:
            return self.fail(name, "is required") if required else MISSING
        if not isinstance(value, bool):
            return self.fail(name, f"must be true or false, not {kind(value)}")
        return value

    def integer(
        self,
        key: str,
        *aliases: str,
        nullable: bool = False,
        required: bool = False,
        minimum: int | None = None,
        maximum: int | None = MAX_ID,
        digits: bool = False,
    ) -> Any:
        """A whole number; with `digits`, also a string of digits, signed or not (snowflakes outgrow
        JavaScript's numbers, and DisCal's own dashboard sent `"31"` and `"1519884000000"`)."""
        name, value = self.raw(key, *aliases)
        if value is MISSING:
            return self.fail(name, "is required") if required else MISSING
        if value is None and nullable:
            return None
        if digits and isinstance(value, str) and NUMERIC.fullmatch(value):
            value = int(value)
        if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            return self.fail(name, f"must be a whole number, not {kind(value)}")
        if minimum is not None and value < minimum:
            return self.fail(name, f"must be at least {minimum}")
        if maximum is not None and value > maximum:
            return self.fail(name, f"must be at most {maximum}")
        return value

    def strings(self, key: str, *aliases: str) -> Any:
        """A list of strings (a single string is taken as a list of one)."""
        name, value = self.raw(key, *aliases)
        if value is MISSING:
            return MISSING
        if isinstance(value, str):
            value = [value]
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return self.fail(name, "must be a list of strings")
        return value

    def mapping(self, key: str, *aliases: str, nullable: bool = True) -> Any:
        name, value = self.raw(key, *aliases)
        if value is MISSING:
            return MISSING
        if value is None and nullable:
            return None
        if not isinstance(value, dict):
            return self.fail(name, f"must be an object, not {kind(value)}")
        return value

    def instant(
        self, key: str, zone: tzinfo, *, required: bool = False, nullable: bool = True, day_after: bool = False
    ) -> Any:
        """An ISO 8601 date-time (`2023-11-07T05:31:56Z`, with an offset, or naive: read in `zone`) or a
        date (`2023-11-07`: its midnight in `zone`; with `day_after`, the midnight that ends it)."""
        typed = self.typed(key, zone, required=required, nullable=nullable, day_after=day_after)
        return typed if typed is MISSING or typed is None else typed.instant

    def typed(
        self, key: str, zone: tzinfo, *, required: bool = False, nullable: bool = True, day_after: bool = False
    ) -> Any:
        """`instant`, with the wall time it was written as (a naive date-time; an event's start keeps it)."""
        value = self.string(key, required=required, nullable=nullable)
        if value is MISSING or value is None:
            return value
        parsed = parse_instant(value, zone, day_after=day_after)
        if parsed is None:
            return self.fail(key, f"{value[:40]!r} is not an ISO 8601 date-time like 2023-11-07T05:31:56Z")
        if not EARLIEST_YEAR <= parsed.instant.year <= LATEST_YEAR:
            return self.fail(key, f"must be between the years {EARLIEST_YEAR} and {LATEST_YEAR}")
        return parsed

    def epoch_ms(self, key: str, *aliases: str, required: bool = False) -> Any:
        """Unix time in milliseconds, as DisCal sends it (a number or a string of digits)."""
        name = self.raw(key, *aliases)[0]
        value = self.integer(key, *aliases, required=required, minimum=None, maximum=None, digits=True)
        if value is MISSING:
            return MISSING
        if not EPOCH_MS_MIN <= value <= EPOCH_MS_MAX:
            return self.fail(name, f"must be Unix milliseconds between the years {EARLIEST_YEAR} and {LATEST_YEAR}")
        return from_ms(value)


def parse_instant(text: str, zone: tzinfo, *, day_after: bool = False) -> Reading | None:
    text = text.strip()
    if len(text) > 40:
        return None
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            if not EARLIEST_YEAR <= day.year <= LATEST_YEAR:
                return Reading(datetime(day.year, 1, 1, tzinfo=UTC))  # reported as out of range by the caller
            if day_after:
                day += timedelta(days=1)
            return Reading(wall_to_utc(datetime.combine(day, time(0, 0)), zone))
        parsed = datetime.fromisoformat(text.replace("z", "Z"))
    except (ValueError, OverflowError):
        return None
    if not EARLIEST_YEAR <= parsed.year <= LATEST_YEAR:
        return Reading(parsed)
    try:
        if parsed.tzinfo is not None:
            return Reading(parsed.astimezone(UTC))
        return Reading(wall_to_utc(parsed, zone), wall=parsed)
    except (ValueError, OverflowError):
        return None


def from_ms(value: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=value)


def to_ms(instant: datetime) -> int:
    return int(instant.timestamp()) * 1000


def iso(instant: datetime | None) -> str | None:
    """`2023-11-07T05:31:56Z`: UTC, whole seconds, as the PERSCOM document writes instants."""
    return None if instant is None else instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def row_id(text: Any) -> int | None:
    """An id given as a number or a string of ASCII digits ("12"), else None."""
    if isinstance(text, bool):
        return None
    if isinstance(text, int):
        return text if 0 < text <= MAX_ID else None
    if isinstance(text, str):
        digits = text.strip()
        if digits.isascii() and digits.isdigit() and len(digits) <= 19:
            value = int(digits)
            return value if 0 < value <= MAX_ID else None
    return None
