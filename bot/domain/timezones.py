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


# Cities people name that are not themselves in an IANA zone name.
CITY_ZONES = {
    "Atlanta": "America/New_York", "Boston": "America/New_York", "Miami": "America/New_York",
    "Philadelphia": "America/New_York", "Washington": "America/New_York", "Montreal": "America/Toronto",
    "Austin": "America/Chicago", "Dallas": "America/Chicago", "Houston": "America/Chicago",
    "Minneapolis": "America/Chicago", "Salt Lake City": "America/Denver", "Las Vegas": "America/Los_Angeles",
    "San Francisco": "America/Los_Angeles", "Seattle": "America/Los_Angeles", "San Diego": "America/Los_Angeles",
    "Rio de Janeiro": "America/Sao_Paulo", "Munich": "Europe/Berlin", "Frankfurt": "Europe/Berlin",
    "Hamburg": "Europe/Berlin", "Cologne": "Europe/Berlin", "Milan": "Europe/Rome", "Barcelona": "Europe/Madrid",
    "Manchester": "Europe/London", "Edinburgh": "Europe/London", "Geneva": "Europe/Zurich",
    "Delhi": "Asia/Kolkata", "New Delhi": "Asia/Kolkata", "Mumbai": "Asia/Kolkata", "Bangalore": "Asia/Kolkata",
    "Chennai": "Asia/Kolkata", "Beijing": "Asia/Shanghai", "Shenzhen": "Asia/Shanghai", "Osaka": "Asia/Tokyo",
    "Kyoto": "Asia/Tokyo", "Hanoi": "Asia/Ho_Chi_Minh", "Abu Dhabi": "Asia/Dubai", "Cape Town": "Africa/Johannesburg",
    "Canberra": "Australia/Sydney", "Wellington": "Pacific/Auckland", "Christchurch": "Pacific/Auckland",
}  # fmt: skip
_CITIES_FOLDED = {city.casefold(): zone for city, zone in CITY_ZONES.items()}


def zone_named(name: str, field: str = "timezone") -> zoneinfo.ZoneInfo:
    """An IANA name, or one of the cities in CITY_ZONES ("Munich" → Europe/Berlin)."""
    city = _CITIES_FOLDED.get(" ".join(name.split()).casefold())
    return zoneinfo.ZoneInfo(city) if city else resolve_zone(name, field)


def zone_choices(query: str, limit: int = 25) -> list[tuple[str, str]]:
    """(label, zone name) pairs for autocomplete: matching cities first, then IANA names."""
    q = " ".join(query.split()).casefold()
    cities = [(f"{city} ({zone})", zone) for city, zone in CITY_ZONES.items() if q and q in city.casefold()]
    cities.sort(key=lambda pair: (not pair[0].casefold().startswith(q), pair[0]))
    return (cities + [(zone, zone) for zone in search_zones(query, limit)])[:limit]
