"""IANA time zones: validation and the search behind autocomplete."""

from __future__ import annotations

import functools
import re
import zoneinfo
from dataclasses import dataclass
from datetime import timedelta, timezone, tzinfo

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


@dataclass(frozen=True, slots=True)
class Abbreviation:
    zone: str  # the IANA zone it is read as: "6pm EST" is 18:00 wall time there, summer or winter
    meaning: str
    also: str = ""  # what else it stands for, when it is ambiguous


# Abbreviations people type after a time. An abbreviation names a region's time, so it is read as that
# region's zone (with its daylight saving): "6pm EST" in July is 18:00 in New York, as the writer means.
ABBREVIATIONS = {
    "EST": Abbreviation("America/New_York", "US Eastern"), "EDT": Abbreviation("America/New_York", "US Eastern"),
    "ET": Abbreviation("America/New_York", "US Eastern"),
    "CST": Abbreviation("America/Chicago", "US Central", "China Standard Time (Asia/Shanghai)"),
    "CDT": Abbreviation("America/Chicago", "US Central"), "CT": Abbreviation("America/Chicago", "US Central"),
    "MST": Abbreviation("America/Denver", "US Mountain"), "MDT": Abbreviation("America/Denver", "US Mountain"),
    "MT": Abbreviation("America/Denver", "US Mountain"),
    "PST": Abbreviation("America/Los_Angeles", "US Pacific"), "PDT": Abbreviation("America/Los_Angeles", "US Pacific"),
    "PT": Abbreviation("America/Los_Angeles", "US Pacific"),
    "AKST": Abbreviation("America/Anchorage", "Alaska"), "AKDT": Abbreviation("America/Anchorage", "Alaska"),
    "HST": Abbreviation("Pacific/Honolulu", "Hawaii"),
    "AST": Abbreviation("America/Halifax", "Atlantic", "Arabia Standard Time (Asia/Riyadh)"),
    "ADT": Abbreviation("America/Halifax", "Atlantic"),
    "NST": Abbreviation("America/St_Johns", "Newfoundland"), "NDT": Abbreviation("America/St_Johns", "Newfoundland"),
    "BRT": Abbreviation("America/Sao_Paulo", "Brasília"),
    "GMT": Abbreviation("Europe/London", "UK", "plain UTC (write UTC)"),
    "BST": Abbreviation("Europe/London", "British Summer", "Bangladesh Standard Time (Asia/Dhaka)"),
    "WET": Abbreviation("Europe/Lisbon", "Western European"), "WEST": Abbreviation("Europe/Lisbon", "Western European"),
    "CET": Abbreviation("Europe/Berlin", "Central European"), "CEST": Abbreviation("Europe/Berlin", "Central European"),
    "EET": Abbreviation("Europe/Athens", "Eastern European"), "EEST": Abbreviation("Europe/Athens", "Eastern European"),
    "MSK": Abbreviation("Europe/Moscow", "Moscow"),
    "IST": Abbreviation(
        "Asia/Kolkata", "India Standard", "Irish Standard Time (Europe/Dublin) or Israel Standard Time (Asia/Jerusalem)"
    ),
    "PKT": Abbreviation("Asia/Karachi", "Pakistan"),
    "ICT": Abbreviation("Asia/Bangkok", "Indochina"), "WIB": Abbreviation("Asia/Jakarta", "Western Indonesia"),
    "SGT": Abbreviation("Asia/Singapore", "Singapore"), "HKT": Abbreviation("Asia/Hong_Kong", "Hong Kong"),
    "PHT": Abbreviation("Asia/Manila", "Philippine"),
    "JST": Abbreviation("Asia/Tokyo", "Japan"), "KST": Abbreviation("Asia/Seoul", "Korea"),
    "AWST": Abbreviation("Australia/Perth", "Australian Western"),
    "ACST": Abbreviation("Australia/Adelaide", "Australian Central"),
    "ACDT": Abbreviation("Australia/Adelaide", "Australian Central"),
    "AEST": Abbreviation("Australia/Sydney", "Australian Eastern"),
    "AEDT": Abbreviation("Australia/Sydney", "Australian Eastern"),
    "NZST": Abbreviation("Pacific/Auckland", "New Zealand"), "NZDT": Abbreviation("Pacific/Auckland", "New Zealand"),
}  # fmt: skip

# `UTC+2`, `GMT-05:00`, `utc+5:30`, and a bare `+02:00` / `-0500`.
_OFFSET = re.compile(
    r"(?:utc|gmt)\s*(?P<sign>[+-])(?P<h>\d{1,2})(?::?(?P<m>\d{2}))?|(?P<bsign>[+-])(?P<bh>\d{2}):?(?P<bm>\d{2})",
    re.IGNORECASE,
)
MAX_OFFSET = timedelta(hours=14)  # UTC-12 to UTC+14 are the offsets in use


@dataclass(frozen=True, slots=True)
class ZoneReading:
    """A zone as somebody wrote it: the zone, its name, and a sentence saying how it was read."""

    zone: tzinfo
    name: str
    note: str


def offset_named(text: str, field: str = "timezone") -> timedelta | None:
    """The UTC offset `text` spells (`UTC+2` → +2 h), None if it spells none; an offset no place uses is refused."""
    match = _OFFSET.fullmatch(text.strip())
    if match is None:
        return None
    sign, hours, minutes = (match["sign"], match["h"], match["m"]) if match["sign"] else match.group(4, 5, 6)
    offset = timedelta(hours=int(hours), minutes=int(minutes or 0)) * (-1 if sign == "-" else 1)
    if int(minutes or 0) > 59 or not -timedelta(hours=12) <= offset <= MAX_OFFSET:
        raise InvalidField(field, f"{text.strip()!r} is not an offset in use; they run from UTC-12 to UTC+14")
    return offset


def offset_text(offset: timedelta) -> str:
    if not offset:
        return "UTC"
    sign, rest = ("-", -offset) if offset < timedelta(0) else ("+", offset)
    hours, minutes = divmod(int(rest.total_seconds()) // 60, 60)
    return f"UTC{sign}{hours}" + (f":{minutes:02d}" if minutes else "")


def abbreviation_note(word: str, entry: Abbreviation) -> str:
    note = f"{word} read as {entry.zone} ({entry.meaning} time)"
    if entry.also:
        note += f"; {word} can also mean {entry.also}: write that zone's name if you meant it"
    return note


def read_zone(text: str, field: str = "timezone") -> ZoneReading | None:
    """A zone written after a time (`EST`, `CET`, `UTC+2`, `Europe/Berlin`, `Munich`), or None if `text` is no
    zone. Offsets stay fixed offsets: `18:00 UTC+2` is 16:00 UTC whatever the season."""
    word = text.strip()
    entry = ABBREVIATIONS.get(word.upper())
    if entry is not None:
        return ZoneReading(zoneinfo.ZoneInfo(entry.zone), entry.zone, abbreviation_note(word.upper(), entry))
    if word.casefold() in ("utc", "z"):
        return ZoneReading(zoneinfo.ZoneInfo("UTC"), "UTC", "read in UTC")
    offset = offset_named(word, field)
    if offset is not None:
        return ZoneReading(timezone(offset), offset_text(offset), f"read at {offset_text(offset)}")
    city = _CITIES_FOLDED.get(" ".join(word.split()).casefold())
    if city is not None:
        return ZoneReading(zoneinfo.ZoneInfo(city), city, f"{word} read as {city}")
    if "/" in word and word[:1].isalpha():  # "Europe/Berlin", not the date "12/24"
        zone = resolve_zone(word, field)
        return ZoneReading(zone, str(zone), f"read in {zone}")
    return None


def zone_with_note(name: str, field: str = "timezone") -> tuple[zoneinfo.ZoneInfo, str | None]:
    """The zone a person names: an IANA name, a city in CITY_ZONES ("Munich" → Europe/Berlin), an abbreviation
    ("EST" → America/New_York) or a whole-hour offset ("UTC+2" → Etc/GMT-2, whose sign POSIX inverts); and a
    sentence saying how a name that is not the zone's own was read."""
    reading = read_zone(name, field)
    if reading is None:
        return resolve_zone(name, field), None
    if isinstance(reading.zone, zoneinfo.ZoneInfo):
        return reading.zone, None if reading.name.casefold() == name.strip().casefold() else reading.note
    offset = reading.zone.utcoffset(None)
    hours, rest = divmod(offset, timedelta(hours=1))
    if rest:
        raise InvalidField(
            field, f"no time zone keeps {reading.name} all year; pick the city's zone, such as Asia/Kolkata"
        )
    zone = zoneinfo.ZoneInfo(f"Etc/GMT{-hours:+d}" if hours else "UTC")
    return zone, f"{name.strip()} read as {zone} (a fixed offset, without daylight saving)"


def zone_choices(query: str, limit: int = 25) -> list[tuple[str, str]]:
    """(label, zone name) pairs for autocomplete: an abbreviation typed in full first ("EST" → US Eastern),
    then matching cities, then IANA names."""
    q = " ".join(query.split()).casefold()
    abbreviations = [
        (f"{word} · {entry.meaning} time ({entry.zone})", entry.zone)
        for word, entry in ABBREVIATIONS.items()
        if q and word.casefold() == q
    ]
    cities = [(f"{city} ({zone})", zone) for city, zone in CITY_ZONES.items() if q and q in city.casefold()]
    cities.sort(key=lambda pair: (not pair[0].casefold().startswith(q), pair[0]))
    return (abbreviations + cities + [(zone, zone) for zone in search_zones(query, limit)])[:limit]
