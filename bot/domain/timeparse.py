"""Reading the instants people type: ISO 8601 and everyday forms.

Pure: `now` and the zone to read wall times in are arguments. Every result is an aware UTC datetime.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from .durations import parse_duration
from .errors import InvalidField
from .timezones import read_zone

DATE_ORDERS = ("DMY", "MDY", "YMD")

_WEEKDAYS = {
    name: index
    for index, names in enumerate(
        (
            ("mon", "monday"),
            ("tue", "tues", "tuesday"),
            ("wed", "wednesday"),
            ("thu", "thur", "thurs", "thursday"),
            ("fri", "friday"),
            ("sat", "saturday"),
            ("sun", "sunday"),
        )
    )
    for name in names
}
_MONTHS = {
    name: index
    for index, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_MONTH_NAMES = "|".join(sorted(_MONTHS, key=len, reverse=True))

_TIME = re.compile(
    r"(?<![\d.:/-])(?:"
    r"(?P<h24>\d{1,2}):(?P<m24>\d{2})(?:\s*(?P<ampm1>[ap])\.?m\.?)?"
    r"|(?P<h12>\d{1,2})\s*(?P<ampm2>[ap])\.?m\.?"
    r"|(?P<hh>\d{1,2})h(?P<mh>\d{2})?"
    r"|(?P<word>noon|midnight)"
    r")(?![\d:])"
)
_ISO_DATE = re.compile(r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})")
_DOTTED = re.compile(r"(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4}|\d{2})?")
_SLASHED = re.compile(r"(?P<a>\d{1,4})/(?P<b>\d{1,2})(?:/(?P<c>\d{2,4}))?")
_DAY_MONTH = re.compile(
    rf"(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<mon>{_MONTH_NAMES})\.?(?:\s+(?P<y>\d{{4}}))?"
)
_MONTH_DAY = re.compile(rf"(?P<mon>{_MONTH_NAMES})\.?\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?(?:\s+(?P<y>\d{{4}}))?")
_FILLER = re.compile(r"\b(?:at|on|the)\b|,")
_HINT = "try '2026-12-24 18:00', 'tomorrow 18:00', 'friday 8pm' or 'in 2 hours'"
_ORDER_WORDS = {"DMY": "day/month", "MDY": "month/day"}
_DATE_ORDER_SETTING = "a manager can change how this server reads them with /settings date-order"
_ZONE_SUFFIX = re.compile(r"^(?P<rest>.*\S)\s+(?P<zone>(?:utc|gmt)\s*[+-]\s*[\d:]+|\S+)$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Reading:
    """An instant read from what somebody typed, and how anything open to doubt was read: a zone named after
    the time (`6pm EST`), a numeric date that reads two ways. Replies echo the notes.

    `wall` is the wall time it was typed as (naive, in the zone it was read in; None where the text named an
    instant: an offset, "now", "in 2 hours"). Where that wall time does not exist (a spring-forward gap) the
    instant is later the same day, but a series repeats the wall time typed (`Event.anchor`)."""

    instant: datetime
    notes: tuple[str, ...] = ()
    wall: datetime | None = None


# Instants calbot accepts: far enough for any calendar, near enough that arithmetic never overflows.
EARLIEST_YEAR, LATEST_YEAR = 1970, 9000


def in_range(instant: datetime, field: str) -> datetime:
    if not EARLIEST_YEAR <= instant.year <= LATEST_YEAR:
        raise InvalidField(field, f"must be between the years {EARLIEST_YEAR} and {LATEST_YEAR}")
    return instant


def wall_to_utc(local: datetime, zone: tzinfo) -> datetime:
    """A naive wall-clock time in `zone` → the UTC instant.

    With fold=0 a time inside a spring-forward gap is read with the offset before the gap, so it
    moves forward by the gap's length, as RFC 5545 §3.3.5 says; an ambiguous fall-back time takes
    its first occurrence.
    """
    return local.replace(tzinfo=zone, fold=0).astimezone(UTC)


def parse_when(
    text: str,
    *,
    now: datetime,
    zone: tzinfo,
    field: str = "start",
    date_order: str = "DMY",
    require_time: bool = True,
) -> datetime:
    """Parse `text` as an instant; wall times without an offset are read in `zone`.

    With `require_time` a date alone ("friday") is refused rather than guessed as midnight.
    Forms that leave something out mean their next occurrence: a time alone is today's if still to
    come, else tomorrow's; a weekday ("saturday 9:00") is next week's if today's has passed; a date
    without a year is next year's if this year's has passed. "today", "this saturday" and full
    dates are taken as written, even when past.
    """
    return read_when(text, now=now, zone=zone, field=field, date_order=date_order, require_time=require_time).instant


def read_when(
    text: str,
    *,
    now: datetime,
    zone: tzinfo,
    field: str = "start",
    date_order: str = "DMY",
    require_time: bool = True,
) -> Reading:
    """`parse_when`, with notes on how it was read. A zone may follow the time (`6pm EST`, `18:00 CET`,
    `18:00 UTC+2`, `2026-12-24 18:00 Europe/Berlin`, calbot's own echo): the wall time is then read there."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    notes: list[str] = []
    raw = " ".join(text.strip().split())
    suffix = _ZONE_SUFFIX.match(raw)
    written = read_zone(suffix["zone"], field) if suffix else None
    if written is not None:
        raw, zone = suffix["rest"], written.zone
        notes.append(written.note)
    try:
        instant, wall = _parse_when(raw, now, zone, field, date_order, require_time, notes)
        in_range(instant, field)
    except OverflowError:  # "in 99999999 days", "9999-12-31 23:00" west of UTC
        raise InvalidField(field, f"must be between the years {EARLIEST_YEAR} and {LATEST_YEAR}") from None
    return Reading(instant, tuple(notes), wall)


def parse_clock_time(text: str, field: str) -> time:
    """`09:00`, `9am`, `18h30`, `noon`: a time of day."""
    rest, parsed = _take_time(text.strip().lower())
    if parsed is None or rest.strip():
        raise InvalidField(field, f"{text[:40]!r} is not a time of day; write it as 09:00 or 9am")
    return parsed


def local_midnight(day: date, zone: tzinfo) -> datetime:
    """The UTC instant a local day begins (its first instant, where DST skips midnight)."""
    return wall_to_utc(datetime.combine(day, time(0, 0)), zone)


def day_bounds(day: date, zone: tzinfo) -> tuple[datetime, datetime]:
    return local_midnight(day, zone), local_midnight(day + timedelta(days=1), zone)


def month_bounds(text: str, zone: tzinfo, field: str = "month") -> tuple[datetime, datetime, date]:
    """`2026-12` → the instants its first and the following month's first day begin, and that first day."""
    match = re.fullmatch(r"\s*(\d{4})-(\d{1,2})\s*", text)
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise InvalidField(field, f"{text[:40]!r} is not a month; write it as YYYY-MM, e.g. 2026-12")
    first = date(int(match.group(1)), int(match.group(2)), 1)
    if not EARLIEST_YEAR <= first.year <= LATEST_YEAR:
        raise InvalidField(field, f"must be between the years {EARLIEST_YEAR} and {LATEST_YEAR}")
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return local_midnight(first, zone), local_midnight(following, zone), first


def _parse_when(
    text: str, now: datetime, zone: tzinfo, field: str, date_order: str, require_time: bool, notes: list[str]
) -> tuple[datetime, datetime | None]:
    """The instant, and the wall time it was typed as (None for an instant: "now", "in 2 hours", an offset)."""
    raw = text
    if not raw:
        raise InvalidField(field, f"is empty; {_HINT}")
    lowered = raw.lower()

    if lowered == "now":
        return now.astimezone(UTC), None
    relative = re.fullmatch(r"in\s+(.+)|(.+?)\s+from\s+now", lowered)
    if relative:
        span = relative.group(1) or relative.group(2)
        return now.astimezone(UTC) + parse_duration(span, field), None

    iso = _parse_iso(raw, zone)
    if iso is not None:
        instant, wall, has_time = iso
        if not has_time and require_time:
            raise InvalidField(field, f"{text!r} has a date but no time; add one, e.g. '{raw} 18:00'")
        return instant, wall

    local_now = now.astimezone(zone)
    rest, wall_time = _take_time(lowered)
    rest = " ".join(_FILLER.sub(" ", rest).split())
    day, roll = _parse_day(rest, local_now.date(), field, text, date_order, notes)

    date_only = wall_time is None
    if date_only:
        if day is None or require_time:
            raise InvalidField(field, f"could not read {text!r}" + ("; it has no time" if day else "") + f"; {_HINT}")
        wall_time = time(0, 0)
    if day is None:
        # A time alone means its next occurrence.
        day = local_now.date()
        if wall_to_utc(datetime.combine(day, wall_time), zone) <= now:
            day += timedelta(days=1)
    elif roll is not None:
        # A date alone is past only once its whole day is ("friday" on a Friday is today).
        past = day < local_now.date() if date_only else wall_to_utc(datetime.combine(day, wall_time), zone) <= now
        if past:
            day = _same_day_next_year(day) if roll == "year" else day + timedelta(days=7)
    wall = datetime.combine(day, wall_time)
    return wall_to_utc(wall, zone), wall


def _parse_iso(raw: str, zone: tzinfo) -> tuple[datetime, datetime | None, bool] | None:
    if not re.match(r"\d{4}-\d{2}-\d{2}", raw):
        return None
    candidate = raw[:-1] + "+00:00" if raw.endswith(("Z", "z")) else raw
    try:
        parsed = datetime.fromisoformat(candidate)
    except ValueError:
        return None
    has_time = len(raw) > 10
    if parsed.tzinfo is None:
        return wall_to_utc(parsed, zone), parsed, has_time
    return parsed.astimezone(UTC), None, has_time


def _take_time(text: str) -> tuple[str, time | None]:
    # The last time-looking token wins ("dec 24 6pm").
    match = next(reversed(list(_TIME.finditer(text))), None)
    if match is None:
        return text, None
    g = match.groupdict()
    if g["word"]:
        parsed = time(12, 0) if g["word"] == "noon" else time(0, 0)
    else:
        hour = int(g["h24"] or g["h12"] or g["hh"])
        minute = int(g["m24"] or g["mh"] or 0)
        ampm = g["ampm1"] or g["ampm2"]
        if ampm:
            if not 1 <= hour <= 12:
                return text, None
            hour = hour % 12 + (12 if ampm == "p" else 0)
        if hour > 23 or minute > 59:
            return text, None
        parsed = time(hour, minute)
    return text[: match.start()] + " " + text[match.end() :], parsed


def _parse_day(
    text: str, today: date, field: str, original: str, date_order: str, notes: list[str]
) -> tuple[date | None, str | None]:
    """The date `text` names, and how to roll it if the instant turns out past: "week" for a bare
    weekday, "year" for a date without a year, None to keep it as written."""
    if not text:
        return None, None
    if text in ("today", "tonight"):
        return today, None
    if text == "tomorrow":
        return today + timedelta(days=1), None
    weekday = re.fullmatch(r"(?:(next|this)\s+)?([a-z]+)", text)
    if weekday and weekday.group(2) in _WEEKDAYS:
        ahead = (_WEEKDAYS[weekday.group(2)] - today.weekday()) % 7
        if weekday.group(1) == "next" and ahead == 0:
            ahead = 7
        return today + timedelta(days=ahead), "week" if weekday.group(1) is None else None

    for pattern in (_ISO_DATE, _DOTTED, _DAY_MONTH, _MONTH_DAY, _SLASHED):
        match = pattern.fullmatch(text)
        if match:
            break
    else:
        raise InvalidField(field, f"could not read the date in {original!r}; {_HINT}")

    g = match.groupdict()
    if pattern is _SLASHED:
        year, month, day = _order_numeric(g["a"], g["b"], g["c"], date_order, field, original)
        if len(g["a"]) < 4:
            _note_other_reading(g["a"], g["b"], date_order, field, original, notes)
    else:
        month = _MONTHS[g["mon"]] if "mon" in g else int(g["m"])
        day, year = int(g["d"]), g["y"]
    if year is not None:
        year = int(year)
        if year < 100:
            year += 2000
    try:
        return date(year if year is not None else today.year, int(month), int(day)), "year" if year is None else None
    except ValueError:
        raise InvalidField(field, f"{original!r} is not a real date") from None


def _order_numeric(a: str, b: str, c: str | None, order: str, field: str, original: str) -> tuple[str | None, str, str]:
    if order not in DATE_ORDERS:
        raise ValueError(f"date_order must be one of {DATE_ORDERS}")
    if len(a) == 4:  # 2026/12/24 is unambiguous whatever the order
        if c is None:
            raise InvalidField(field, f"could not read the date in {original!r}; {_HINT}")
        return a, b, c
    if order == "YMD":
        raise InvalidField(field, f"{original!r} needs a four-digit year first (the guild writes Y/M/D)")
    first, second = (b, a) if order == "DMY" else (a, b)  # month, day
    return c, first, second


def _note_other_reading(a: str, b: str, order: str, field: str, original: str, notes: list[str]) -> None:
    """`03/04` reads as 3 April or 4 March: say which reading was taken and why. A date that is no date in
    the server's order but one in the other (`12/24` read day/month) is refused with both readings."""
    other = "MDY" if order == "DMY" else "DMY"
    (month, day), (other_month, other_day) = ((b, a), (a, b)) if order == "DMY" else ((a, b), (b, a))
    if a == b or not 1 <= int(other_month) <= 12 or not 1 <= int(other_day) <= 31:
        return
    other_reading = f"as {_ORDER_WORDS[other]} it is {int(other_day)} {_month_name(int(other_month))}"
    if not 1 <= int(month) <= 12 or not 1 <= int(day) <= 31:
        raise InvalidField(
            field,
            f"{original!r} is not a date read {_ORDER_WORDS[order]}, as this server reads numeric dates; "
            f"{other_reading}. Write it as 2026-12-24 or 24 Dec, or {_DATE_ORDER_SETTING}",
        )
    notes.append(
        f"`{a}/{b}` read {_ORDER_WORDS[order]} as {int(day)} {_month_name(int(month))} ({other_reading}; "
        f"{_DATE_ORDER_SETTING})"
    )


def _month_name(month: int) -> str:
    return date(2000, month, 1).strftime("%B")


def _same_day_next_year(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)
