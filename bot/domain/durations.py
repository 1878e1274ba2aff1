"""Exact durations typed by people ("1h30m", "90 minutes") or in ISO 8601 ("PT1H30M")."""

from __future__ import annotations

import re
from datetime import timedelta

from .errors import InvalidField

_UNIT_SECONDS = {
    "w": 604800,
    "wk": 604800,
    "wks": 604800,
    "week": 604800,
    "weeks": 604800,
    "d": 86400,
    "day": 86400,
    "days": 86400,
    "h": 3600,
    "hr": 3600,
    "hrs": 3600,
    "hour": 3600,
    "hours": 3600,
    "m": 60,
    "min": 60,
    "mins": 60,
    "minute": 60,
    "minutes": 60,
    "s": 1,
    "sec": 1,
    "secs": 1,
    "second": 1,
    "seconds": 1,
}
_HUMAN_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]+)")
_ISO = re.compile(r"p(?:(?P<w>\d+)w)?(?:(?P<d>\d+)d)?(?:t(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?(?:(?P<s>\d+)s)?)?")


_NOMINAL_UNITS = {"w": 7, "d": 1}  # weeks and days, counted in calendar days


def calendar_parts(text: str) -> tuple[int, int] | None:
    """An everyday duration ("1 day", "2h30m", "90 minutes", "an hour", "0m") as (calendar days, exact
    seconds), keeping days and weeks apart from hours as RFC 5545 does; None if `text` is not one."""
    compact = re.sub(r"\b(?:an?|one)\s+(?=[a-z])", "1 ", text.strip().lower()).replace(" and ", " ")
    pieces = _HUMAN_PART.findall(compact)
    if not pieces or _HUMAN_PART.sub("", compact).strip():
        return None
    days = seconds = 0
    for number, unit in pieces:
        if unit not in _UNIT_SECONDS:
            return None
        size = _UNIT_SECONDS[unit]
        if size >= _UNIT_SECONDS["d"]:
            if "." in number:  # "1.5 days" has no calendar meaning
                return None
            days += int(number) * size // _UNIT_SECONDS["d"]
        else:
            seconds += round(float(number) * size)
    return days, seconds


def parse_duration(text: str, field: str = "duration") -> timedelta:
    """Parse a positive duration; `a` / `an` count as one ("in an hour")."""
    raw = text.strip().lower()
    if not raw:
        raise InvalidField(field, "is empty")
    iso = _ISO.fullmatch(raw)
    if iso and raw not in ("p", "pt") and not raw.endswith("t"):
        parts = {k: int(v) for k, v in iso.groupdict().items() if v}
        seconds = (
            parts.get("w", 0) * 604800
            + parts.get("d", 0) * 86400
            + parts.get("h", 0) * 3600
            + parts.get("m", 0) * 60
            + parts.get("s", 0)
        )
    else:
        compact = re.sub(r"\b(?:an?|one)\s+(?=[a-z])", "1 ", raw).replace(" and ", " ").replace(",", " ")
        pieces = _HUMAN_PART.findall(compact)
        leftover = _HUMAN_PART.sub("", compact).strip()
        if not pieces or leftover:
            raise InvalidField(field, f"{text!r} is not a duration; try '2h', '1h30m', '90 minutes' or 'PT2H'")
        seconds = 0.0
        for number, unit in pieces:
            if unit not in _UNIT_SECONDS:
                raise InvalidField(field, f"unknown unit {unit!r} in {text!r}")
            seconds += float(number) * _UNIT_SECONDS[unit]
    if seconds <= 0:
        raise InvalidField(field, "must be longer than zero")
    try:
        return timedelta(seconds=round(seconds))
    except OverflowError:  # beyond timedelta's 999,999,999 days (or a float that overflowed to inf)
        raise InvalidField(field, f"{text!r} is too long") from None
