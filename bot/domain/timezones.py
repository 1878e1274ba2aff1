"""IANA time zones: validation and the search behind autocomplete."""

from __future__ import annotations

import functools
import zoneinfo

from .errors import InvalidField


@functools.cache
def _zone_names() -> tuple[str, ...]:
    # "posixrules", "Factory" and the like are not zones a person means.
    return tuple(sorted(n for n in zoneinfo.available_timezones() if "/" in n or n == "UTC"))


@functools.cache
def _by_folded_name() -> dict[str, str]:
    return {name.casefold(): name for name in _zone_names()}


def resolve_zone(name: str, field: str = "timezone") -> zoneinfo.ZoneInfo:
    """The zone called `name` (case-insensitive; spaces stand for underscores)."""
    key = name.strip().replace(" ", "_").casefold()
    canonical = _by_folded_name().get(key)
    if canonical is None:
        raise InvalidField(field, f"unknown time zone {name!r}; use an IANA name such as Europe/Berlin")
    return zoneinfo.ZoneInfo(canonical)


def search_zones(query: str, limit: int = 25) -> list[str]:
    """Zone names containing `query`, those whose city starts with it first."""
    q = query.strip().replace(" ", "_").casefold()
    if not q:
        return list(_zone_names()[:limit])
    starts, contains = [], []
    for name in _zone_names():
        folded = name.casefold()
        if folded.rsplit("/", 1)[-1].startswith(q) or folded.startswith(q):
            starts.append(name)
        elif q in folded:
            contains.append(name)
    return (starts + contains)[:limit]
