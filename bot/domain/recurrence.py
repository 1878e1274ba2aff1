"""Recurring events: the rule, its RFC 5545 text, the PERSCOM and DisCal shapes, expansion, and words.

A series is anchored as a local wall time in an IANA zone: its start's, or the wall time typed when the start
cannot show it (02:30 typed for a spring-forward night begins at 03:30, but the series repeats at 02:30).
Occurrences are generated on the wall clock with `dateutil.rrule` and converted to UTC one by one
(`wall_to_utc`), so 18:00 stays 18:00 across daylight saving changes; a wall time inside a spring-forward gap
moves forward by the gap on that day only, and an ambiguous fall-back time takes its first occurrence, as RFC
5545 §3.3.5 says. The first occurrence is always the start itself (which may be the second instance of a
repeated hour, when it was sent as one). UNTIL is an instant (§3.3.10): a series holds the occurrences that
start at or before it, whatever their wall time. Pure.
"""

from __future__ import annotations

import dataclasses
import datetime as _datetime
import functools
import re
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from dateutil import rrule as _rrule

from .errors import InvalidField
from .timeparse import wall_to_utc

FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
               "October", "November", "December")  # fmt: skip
MAX_INTERVAL = 999
MAX_COUNT = 10_000
MAX_LIST = 366  # values in one BY* list (BYSETPOS has 732 meaningful ones; no rule needs them all)
_WEEKDAY_WORDS = {
    **{code.lower(): code for code in WEEKDAYS},
    **{name.lower(): WEEKDAYS[i] for i, name in enumerate(WEEKDAY_NAMES)},
    **{name[:3].lower(): WEEKDAYS[i] for i, name in enumerate(WEEKDAY_NAMES)},
    "tues": "TU", "thur": "TH", "thurs": "TH",
}  # fmt: skip
_ORDINAL_WORDS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4,
                  "fifth": 5, "5th": 5, "last": -1, "second-last": -2}  # fmt: skip
_BY_DAY = re.compile(r"([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)")


@dataclass(frozen=True, slots=True)
class Recurrence:
    """RFC 5545's RRULE, restricted to what calendars need (PERSCOM's schedule fields)."""

    frequency: str
    interval: int = 1
    count: int | None = None
    until: datetime | None = None  # an instant; the last occurrence starts at or before it
    by_day: tuple[str, ...] = ()  # "TU", "2TU" (second Tuesday), "-1FR" (last Friday)
    by_month: tuple[int, ...] = ()
    by_month_day: tuple[int, ...] = ()
    by_set_position: tuple[int, ...] = ()
    # RFC 5545's WKST: the day each week of the rule begins on. It moves the weeks of a WEEKLY rule, so it
    # changes which days an INTERVAL>1 (or a BYSETPOS) with BYDAY picks (§3.8.5.3's own example).
    week_start: str = "MO"

    def validated(self, field: str = "repeat") -> Recurrence:
        frequency = str(self.frequency).strip().upper()
        if frequency not in FREQUENCIES:
            raise InvalidField(field, f"unknown frequency {self.frequency!r}; use daily, weekly, monthly or yearly")
        week_start = str(self.week_start).strip().upper()
        if week_start not in WEEKDAYS:
            raise InvalidField(field, f"WKST={self.week_start} is not a weekday; use MO, TU, WE, TH, FR, SA or SU")
        if not 1 <= self.interval <= MAX_INTERVAL:
            raise InvalidField("every", f"must be a whole number from 1 to {MAX_INTERVAL}")
        if self.count is not None and not 1 <= self.count <= MAX_COUNT:
            raise InvalidField("count", f"must be a whole number from 1 to {MAX_COUNT}")
        if self.count is not None and self.until is not None:
            raise InvalidField("until", "give a count or an end date, not both")
        if self.until is not None and self.until.tzinfo is None:
            raise InvalidField("until", "must carry a time zone")
        for name, values in (("on", self.by_day), ("by_month", self.by_month), ("on", self.by_month_day),
                             ("by_set_position", self.by_set_position)):  # fmt: skip
            if len(values) > MAX_LIST:  # checked before each value is read: a huge list costs nothing
                raise InvalidField(name, f"holds {len(values)} values; a rule takes at most {MAX_LIST}")
        # "TU,TU,..." is "TU": a repeated day adds no occurrence, only length to every text that shows the rule.
        by_day = tuple(dict.fromkeys(_by_day(d) for d in self.by_day))
        _check_numbered_weekdays(by_day, frequency, bool(self.by_month))
        if any(not 1 <= m <= 12 for m in self.by_month):
            raise InvalidField("by_month", "months are 1 to 12")
        if any(not (1 <= abs(d) <= 31) for d in self.by_month_day):
            raise InvalidField("on", "days of the month are 1 to 31, or -1 to -31 counted from its end")
        if any(not (1 <= abs(p) <= 366) for p in self.by_set_position):
            raise InvalidField("by_set_position", "positions are 1 to 366, or -1 to -366 from the end")
        return dataclasses.replace(
            self,
            frequency=frequency,
            week_start=week_start,
            until=self.until and self.until.astimezone(UTC),
            by_day=by_day,
            by_month=tuple(sorted(set(self.by_month))),
            by_month_day=tuple(sorted(set(self.by_month_day))),
            by_set_position=tuple(sorted(set(self.by_set_position))),
        )

    # ---- RFC 5545 text

    def rrule_text(self) -> str:
        parts = [f"FREQ={self.frequency}"]
        if self.interval != 1:
            parts.append(f"INTERVAL={self.interval}")
        if self.count is not None:
            parts.append(f"COUNT={self.count}")
        if self.until is not None:
            parts.append(f"UNTIL={self.until.astimezone(UTC):%Y%m%dT%H%M%SZ}")
        for name, values in (
            ("BYDAY", self.by_day),
            ("BYMONTH", self.by_month),
            ("BYMONTHDAY", self.by_month_day),
            ("BYSETPOS", self.by_set_position),
        ):
            if values:
                parts.append(f"{name}={','.join(str(v) for v in values)}")
        if self.week_start != "MO":  # RFC 5545's default
            parts.append(f"WKST={self.week_start}")
        return ";".join(parts)


def _check_numbered_weekdays(by_day: tuple[str, ...], frequency: str, in_months: bool) -> None:
    """RFC 5545 §3.3.10: a numbered BYDAY ("2TU", "-1FR") counts within the month of a MONTHLY rule, or of
    a YEARLY rule with BYMONTH (at most a 5th), else within the year of a YEARLY rule (at most a 53rd);
    other frequencies take none. dateutil fails inside its walk on a number past these (53MO monthly)."""
    numbers = [int(n) for n in (_BY_DAY.fullmatch(d).group(1) for d in by_day) if n]
    if not numbers:
        return
    if frequency not in ("MONTHLY", "YEARLY"):
        raise InvalidField("on", "a numbered weekday (2tu, -1fr) needs a monthly or yearly repeat")
    if frequency == "MONTHLY" or in_months:
        if any(abs(n) > 5 for n in numbers):
            raise InvalidField("on", "a month has at most 5 of each weekday: number them 1 to 5, or -1 to -5")
    elif any(abs(n) > 53 for n in numbers):
        raise InvalidField("on", "a year has at most 53 of each weekday: number them 1 to 53, or -1 to -53")


def _by_day(text: str) -> str:
    code = str(text).strip().upper().replace("+", "")
    match = _BY_DAY.fullmatch(code)
    if not match or (match.group(1) and not 1 <= abs(int(match.group(1))) <= 53):
        raise InvalidField("on", f"{text!r} is not a weekday; use mo tu we th fr sa su, or 2tu, -1fr")
    return f"{int(match.group(1))}{match.group(2)}" if match.group(1) else match.group(2)


def parse_rrule(text: str, field: str = "repeat") -> Recurrence:
    """`FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH` (with or without `RRULE:`)."""
    try:
        return _parse_rrule(text.strip())
    except InvalidField as error:  # errors of the rule as a whole are the caller's field
        raise InvalidField(field if error.field == "repeat" else error.field, error.reason) from None


@functools.lru_cache(maxsize=4096)
def _parse_rrule(raw: str) -> Recurrence:
    # Many series share a rule ("FREQ=WEEKLY"); the result is immutable, so it is parsed once.
    field = "repeat"
    if raw.upper().startswith("RRULE:"):
        raw = raw[6:]
    values: dict[str, str] = {}
    for part in filter(None, raw.split(";")):
        name, sep, value = part.partition("=")
        if not sep or not value:
            raise InvalidField(field, f"{part!r} is not NAME=VALUE in the RRULE")
        values[name.strip().upper()] = value.strip()
    unknown = set(values) - {"FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "BYMONTH", "BYMONTHDAY", "BYSETPOS", "WKST"}
    if unknown:
        raise InvalidField(field, f"RRULE part {sorted(unknown)[0]} is not supported")
    if "FREQ" not in values:
        raise InvalidField(field, "an RRULE needs FREQ (DAILY, WEEKLY, MONTHLY or YEARLY)")

    def numbers(name: str) -> tuple[int, ...]:
        try:
            return tuple(int(v) for v in values[name].split(",")) if name in values else ()
        except ValueError:
            raise InvalidField(field, f"{name} must list whole numbers") from None

    try:
        interval = int(values.get("INTERVAL", "1"))
        count = int(values["COUNT"]) if "COUNT" in values else None
    except ValueError:
        raise InvalidField(field, "INTERVAL and COUNT must be whole numbers") from None
    return Recurrence(
        frequency=values["FREQ"],
        interval=interval,
        count=count,
        until=_rrule_until(values["UNTIL"], field) if "UNTIL" in values else None,
        by_day=tuple(values["BYDAY"].split(",")) if "BYDAY" in values else (),
        by_month=numbers("BYMONTH"),
        by_month_day=numbers("BYMONTHDAY"),
        by_set_position=numbers("BYSETPOS"),
        week_start=values.get("WKST", "MO"),
    ).validated(field)


def _rrule_until(text: str, field: str) -> datetime:
    for pattern in ("%Y%m%dT%H%M%SZ", "%Y%m%d"):
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise InvalidField(field, f"UNTIL={text} is not a UTC date-time like 20261231T235959Z")


def from_options(
    repeat: str,
    *,
    every: int | None = None,
    count: int | None = None,
    until: datetime | None = None,
    on: str | None = None,
) -> Recurrence:
    """The slash-command form: `repeat` daily|weekly|monthly|yearly with `every`, `count` or `until`, `on`;
    or `repeat` a raw RFC 5545 RRULE, which then says everything itself."""
    text = repeat.strip()
    if "=" in text:
        if any(v is not None for v in (every, count, until, on)):
            raise InvalidField("repeat", "an RRULE says everything itself; leave every, count, until and on empty")
        return parse_rrule(text)
    by_day, by_month_day = parse_on(on) if on else ((), ())
    return Recurrence(
        frequency=text, interval=every or 1, count=count, until=until, by_day=by_day, by_month_day=by_month_day
    ).validated()


def parse_on(text: str, field: str = "on") -> tuple[tuple[str, ...], tuple[int, ...]]:
    """`tue,thu` → weekdays; `2tu`, `-1fr`, `last friday`, `2nd tuesday` → numbered weekdays;
    `1,15`, `-1` → days of the month."""
    by_day: list[str] = []
    by_month_day: list[int] = []
    for item in filter(None, (i.strip().lower() for i in re.split(r"[,;]|\band\b", text))):
        words = item.split()
        if len(words) == 2 and words[0] in _ORDINAL_WORDS and words[1] in _WEEKDAY_WORDS:
            by_day.append(f"{_ORDINAL_WORDS[words[0]]}{_WEEKDAY_WORDS[words[1]]}")
        elif item in _WEEKDAY_WORDS:
            by_day.append(_WEEKDAY_WORDS[item])
        elif re.fullmatch(r"[+-]?\d{1,2}", item):
            by_month_day.append(int(item))
        elif _BY_DAY.fullmatch(item.upper().replace("+", "")):
            by_day.append(_by_day(item))
        else:
            raise InvalidField(field, f"{item!r} is not a weekday (tue), a numbered weekday (2tu, -1fr) or a day (15)")
    return tuple(by_day), tuple(by_month_day)


# ---- the shapes of the two API documents


def from_perscom(schedule: dict[str, Any], field: str = "schedule") -> Recurrence:
    """PERSCOM's schedule: frequency, interval, end_type (never|on|after), count, until, by_day,
    by_month, by_month_day, by_set_position. `until` is an instant (ISO 8601)."""
    end_type = str(schedule.get("end_type") or "never").lower()
    if end_type not in ("never", "on", "after"):
        raise InvalidField(f"{field}.end_type", "must be never, on or after")
    until = schedule.get("until")
    if end_type == "on":
        if not until:
            raise InvalidField(f"{field}.until", "is required when end_type is on")
        try:
            until = datetime.fromisoformat(str(until).replace("Z", "+00:00"))
        except ValueError:
            raise InvalidField(f"{field}.until", f"{until!r} is not an ISO 8601 date-time") from None
        if until.tzinfo is None:
            until = until.replace(tzinfo=UTC)
    if end_type == "after" and not schedule.get("count"):
        raise InvalidField(f"{field}.count", "is required when end_type is after")

    def ints(name: str) -> tuple[int, ...]:
        value = schedule.get(name) or []
        values = value if isinstance(value, list) else [value]
        if len(values) > MAX_LIST:  # before each value is read: a huge list costs nothing
            raise InvalidField(f"{field}.{name}", f"holds {len(values)} values; a rule takes at most {MAX_LIST}")
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            raise InvalidField(f"{field}.{name}", "must be a list of whole numbers")
        return tuple(values)

    by_day = schedule.get("by_day") or []
    return Recurrence(
        frequency=str(schedule.get("frequency") or ""),
        interval=_whole(schedule.get("interval", 1) or 1, f"{field}.interval"),
        count=_whole(schedule["count"], f"{field}.count") if end_type == "after" else None,
        until=until if end_type == "on" else None,
        by_day=tuple(by_day if isinstance(by_day, list) else [by_day]),
        by_month=ints("by_month"),
        by_month_day=ints("by_month_day"),
        by_set_position=ints("by_set_position"),
    ).validated(f"{field}.frequency")


def to_perscom(rule: Recurrence) -> dict[str, Any]:
    end_type = "after" if rule.count else "on" if rule.until else "never"
    return {
        "frequency": rule.frequency,
        "interval": rule.interval,
        "end_type": end_type,
        "count": rule.count,
        "until": rule.until and f"{rule.until:%Y-%m-%dT%H:%M:%SZ}",
        "by_day": list(rule.by_day),
        "by_month": list(rule.by_month),
        "by_month_day": list(rule.by_month_day),
        "by_set_position": list(rule.by_set_position),
    }


def from_discal(
    recurrence: dict[str, Any], field: str = "recurrence", kept: Recurrence | None = None
) -> Recurrence | None:
    """DisCal's {recur, frequency, count (-1 or 0: forever; also spelled recurCount), interval}.

    `kept` is the series' rule before an update. DisCal's shape cannot carry BYDAY, BYMONTH, UNTIL or WKST, so
    an update in the same frequency keeps them, and a count left out, or sent back as shown, keeps the rule's
    end: a client that reads a Monday-Wednesday-Friday series and writes back what it read changes nothing."""
    if not recurrence.get("recur"):
        return None
    frequency = str(recurrence.get("frequency") or "DAILY")
    same = kept is not None and frequency.strip().upper() == kept.frequency
    interval = recurrence.get("interval", kept.interval if same else 1)
    interval = _whole(interval or 1, f"{field}.interval")
    sent = recurrence.get("count", recurrence.get("recurCount"))
    count = _whole(sent if sent is not None else -1, f"{field}.count", minimum=-1)
    if same:
        if sent is None or count == to_discal(kept)["count"]:
            return dataclasses.replace(kept, interval=interval).validated(f"{field}.frequency")
        ends = {"count": count if count > 0 else None, "until": None}
        return dataclasses.replace(kept, interval=interval, **ends).validated(f"{field}.frequency")
    return Recurrence(frequency=frequency, interval=interval, count=count if count > 0 else None).validated(
        f"{field}.frequency"
    )


def to_discal(rule: Recurrence | None) -> dict[str, Any]:
    if rule is None:
        return {"recur": False, "frequency": "DAILY", "count": -1, "interval": 1}
    return {"recur": True, "frequency": rule.frequency, "count": rule.count or -1, "interval": rule.interval}


def _whole(value: Any, field: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidField(field, f"must be a whole number of at least {minimum}")
    return value


# ---- expansion

# A rule shows that it happens: one without an occurrence this soon after its start is refused, so no stored
# series is one that is searched for and never found.
RULE_HORIZON_YEARS = 5
RULE_HORIZON = timedelta(days=366 * RULE_HORIZON_YEARS)
# A series' UNTIL is at most this long after its start.
LONGEST_SERIES_YEARS = 100
LONGEST_SERIES = timedelta(days=36525)
# How far `next_occurrences` looks ahead unless told.
LOOKAHEAD = timedelta(days=366 * 50)
# The wall times a search may reach: within them, no zone's offset carries an instant outside datetime's years.
_FIRST_WALL, _LAST_WALL = datetime(1, 2, 1), datetime(9998, 12, 31)  # noqa: DTZ001 - wall times
_FREQUENCIES = {"DAILY": _rrule.DAILY, "WEEKLY": _rrule.WEEKLY, "MONTHLY": _rrule.MONTHLY, "YEARLY": _rrule.YEARLY}
_DAYS = (_rrule.MO, _rrule.TU, _rrule.WE, _rrule.TH, _rrule.FR, _rrule.SA, _rrule.SU)

_DATEUTIL_WALK = _rrule.rrule._iter
_CAPPABLE = {"datetime", "MAXYEAR"} <= set(_DATEUTIL_WALK.__code__.co_names)


@functools.lru_cache(maxsize=64)
def _walk_ending(year: int) -> Callable[[_rrule.rrule], Iterator[datetime]]:
    """dateutil's own walk over a rule's periods, ending after `year` instead of 9999.

    dateutil compares UNTIL (and COUNT) only with the dates its BYxxx filters let through, so a rule they never
    let through (FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30) walks period by period to the year 9999: seconds of CPU,
    whatever UNTIL says (dateutil issues 1094, 1393 and 1441; no option bounds the walk). The walk does end
    where `datetime.MAXYEAR` says: this is the same code, run with a `datetime` module whose MAXYEAR is `year`,
    so it stops after that year's last period exactly as it would after 9999's. Should a dateutil release walk
    differently (`_CAPPABLE` false), rules run uncapped and the timing test of a rule that never happens fails.
    """
    shim = types.ModuleType("datetime")
    shim.__dict__.update(vars(_datetime))
    shim.MAXYEAR = year
    walk = _DATEUTIL_WALK
    namespace = {**walk.__globals__, "datetime": shim}
    return types.FunctionType(walk.__code__, namespace, walk.__name__, walk.__defaults__, walk.__closure__)


class _CappedRule(_rrule.rrule):
    """A dateutil rrule whose walk ends after the year `last_year` (see `_walk_ending`)."""

    def __init__(self, *args: Any, last_year: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._last_year = last_year

    def _iter(self) -> Iterator[datetime]:
        return _walk_ending(self._last_year)(self) if _CAPPABLE else super()._iter()


def _wall(instant: datetime, zone: tzinfo, days: int = 0) -> datetime:
    """`instant` on `zone`'s wall clock (naive), `days` later, kept within the wall times a search may reach."""
    try:
        wall = instant.astimezone(zone).replace(tzinfo=None, fold=0) + timedelta(days=days)
    except OverflowError:
        wall = _LAST_WALL if instant.year > 5000 else _FIRST_WALL
    return min(max(wall, _FIRST_WALL), _LAST_WALL)


def _later(instant: datetime, delta: timedelta) -> datetime:
    try:
        return instant + delta
    except OverflowError:
        return datetime.max.replace(tzinfo=UTC)


def _until_bound(until: datetime, zone: tzinfo) -> datetime:
    """A wall time no occurrence at or before the instant `until` is later than: a bound for the walk only.

    RFC 5545 §3.3.10 makes UNTIL an inclusive UTC instant, which the wall clock cannot compare: near a change
    an occurrence's wall time and its instant disagree (02:30 on a spring-forward day starts at 03:30; on a
    fall-back night the first 02:30 is before the second 02:00). So the walk goes a day past UNTIL's wall time
    and `occurrences` keeps exactly those that start at or before `until`."""
    return _wall(until, zone, 1)


def _dateutil_rule(rule: Recurrence, first: datetime, anchor: datetime, high: datetime, zone: tzinfo) -> _rrule.rrule:
    """The dateutil rule on the naive wall clock of `zone`, for a search that ends at the wall time `high`: it
    walks from `anchor` (the series' first wall time `first`, or a later period's start: `_fast_forward`), ends
    at the first occurrence past `high` (an UNTIL no later than it) and walks no year past `high`'s, even when
    no date passes its filters (`_walk_ending`).

    WKST goes to dateutil, which starts each week of a WEEKLY rule on it (a fast-forwarded `anchor` is whole
    intervals of weeks after `first`, so its weeks line up with the series' own). An UNTIL is a bound for the
    walk only (`_until_bound`); `occurrences` compares each instant with it.

    What the rule leaves unsaid comes from `first`, as dateutil would take it from DTSTART, not from where the
    walk begins: the weekday of a weekly rule, the day of a monthly one, the day and month of a yearly one."""
    weekdays = []
    for code in rule.by_day:
        match = _BY_DAY.fullmatch(code)
        day = _DAYS[WEEKDAYS.index(match[2])]
        weekdays.append(day(int(match[1])) if match[1] else day)
    by_month, by_month_day = rule.by_month, rule.by_month_day
    if not rule.by_day and not rule.by_month_day:
        if rule.frequency == "WEEKLY":
            weekdays = [_DAYS[first.weekday()]]
        elif rule.frequency in ("MONTHLY", "YEARLY"):
            by_month_day = (first.day,)
            if rule.frequency == "YEARLY" and not by_month:
                by_month = (first.month,)
    frequency = rule.frequency
    if frequency == "DAILY" and rule.interval == 1 and not rule.by_set_position:
        # Every day its filters let through, which the yearly rule with the same filters picks too: dateutil
        # walks a daily rule a day at a time (a list of 366 each), a yearly one a year at a time.
        frequency = "YEARLY"
        if not weekdays and not by_month_day:
            by_month_day = tuple(range(1, 32))
    until = None
    if rule.count is None:  # a counted walk (dateutil warns of COUNT with UNTIL) ends at `high`'s year
        until = high if rule.until is None else min(high, _until_bound(rule.until, zone))
    return _CappedRule(
        _FREQUENCIES[frequency],
        dtstart=anchor,
        interval=rule.interval,
        count=rule.count,
        until=until,
        byweekday=weekdays or None,
        bymonth=by_month or None,
        bymonthday=by_month_day or None,
        bysetpos=rule.by_set_position or None,
        wkst=WEEKDAYS.index(rule.week_start),
        cache=False,
        last_year=high.year,
    )


def _fast_forward(rule: Recurrence, first: datetime, low: datetime) -> datetime:
    """A later wall time to begin the walk at that yields the same occurrences from `low` on, so a long-running
    series is not walked from its first occurrence each time: the start of a later period of the rule, whole
    intervals after `first`'s (days, weeks, months or years) and a week or more before `low`, at `first`'s time
    of day. The start stays a wall time (read back through UTC, one landing in a DST gap would shift the series
    by the gap); `_dateutil_rule` takes what the rule leaves unsaid from `first`. A counted rule must count from
    its first occurrence."""
    target = low - timedelta(days=7)
    if rule.count is not None or target <= first:
        return first
    if rule.frequency in ("DAILY", "WEEKLY"):
        period = timedelta(days=rule.interval * (1 if rule.frequency == "DAILY" else 7))
        return first + ((target - first) // period) * period
    if rule.frequency == "MONTHLY":
        months = ((target.year - first.year) * 12 + target.month - first.month) // rule.interval * rule.interval
        year, month = divmod(first.year * 12 + first.month - 1 + months, 12)
        return datetime.combine(date(year, month + 1, 1), first.time()) if months else first
    years = (target.year - first.year) // rule.interval * rule.interval
    return datetime.combine(date(first.year + years, 1, 1), first.time()) if years else first


def occurrences(
    rule: Recurrence,
    start: datetime,
    zone: tzinfo,
    *,
    after: datetime,
    before: datetime,
    limit: int = 1000,
    wall: datetime | None = None,
) -> list[datetime]:
    """Occurrence starts (UTC) in [after, before), at most `limit`, in order. `wall` is the series' first wall
    time (naive) when `start` does not show it (typed inside a gap); the first occurrence is `start` itself.

    Only the window is generated, so an endless series costs what the window holds; and the walk goes no
    further than the end of `before`'s year, so a rule whose dates never come costs at most that much.
    """
    first = wall or _wall(start, zone)
    # Bound the search on the wall clock with a day's margin either side; filter exactly in UTC.
    low, high = _wall(after, zone, -1), _wall(before, zone, 1)
    found: list[datetime] = []
    if high < low:
        return found
    for generated in _walls(rule, first, _fast_forward(rule, first, low), zone, low, high):
        if generated > high:
            break
        # The start may be the second instance of a repeated hour, which the wall clock alone cannot name.
        instant = start if generated == first else wall_to_utc(generated, zone)
        if rule.until is not None and instant > rule.until:  # UNTIL is an instant: the walk went past it
            continue
        if after <= instant < before:
            found.append(instant)
            if len(found) >= limit:
                break
    return found


def _walls(
    rule: Recurrence, first: datetime, anchor: datetime, zone: tzinfo, low: datetime, high: datetime
) -> Iterator[datetime]:
    """Wall-clock occurrence times from `low` on. A plain daily or weekly rule is whole days apart on the
    wall clock, so it is counted out directly; anything else goes through dateutil."""
    plain = rule.frequency in ("DAILY", "WEEKLY") and not (
        rule.count or rule.by_day or rule.by_month or rule.by_month_day or rule.by_set_position
    )
    if not plain:
        if rule.frequency == "WEEKLY" and rule.by_set_position:
            yield from _whole_weeks(rule, first, anchor, high, zone, low)
            return
        yield from _dateutil_rule(rule, first, anchor, high, zone).xafter(low, inc=True)
        return
    period = timedelta(days=rule.interval * (1 if rule.frequency == "DAILY" else 7))
    wall = anchor
    if wall < low:
        wall += ((low - wall) // period) * period
        if wall < low:
            wall += period
    last = high if rule.until is None else min(high, _until_bound(rule.until, zone))
    while wall <= last:
        yield wall
        wall += period


def _whole_weeks(
    rule: Recurrence, first: datetime, anchor: datetime, high: datetime, zone: tzinfo, low: datetime
) -> Iterator[datetime]:
    """A WEEKLY rule with BYSETPOS, its positions counted within whole weeks (RFC 5545 §3.3.10: BYSETPOS picks
    from the set a whole period gives). dateutil's first week begins at the day its walk begins, so a walk
    begun mid-week would count positions in part of a week; this walk begins at the start (WKST) of the week,
    leaves out what falls before the series' first occurrence, and a counted rule counts those in."""
    week_start = WEEKDAYS.index(rule.week_start)
    aligned = anchor - timedelta(days=(anchor.weekday() - week_start) % 7)
    if aligned == anchor:
        yield from _dateutil_rule(rule, first, anchor, high, zone).xafter(low, inc=True)
        return
    counted = rule
    if rule.count is not None:
        before = 0
        for wall in _dateutil_rule(dataclasses.replace(rule, count=None), first, aligned, high, zone):
            if wall >= first:
                break
            before += 1
        counted = dataclasses.replace(rule, count=rule.count + before)
    yield from _dateutil_rule(counted, first, aligned, high, zone).xafter(max(low, first), inc=True)


def first_occurrence(
    rule: Recurrence, start: datetime, zone: tzinfo, wall: datetime | None = None
) -> tuple[datetime, datetime]:
    """The series' first occurrence from `start` (typed as `wall`) on, as its instant and the wall time the rule
    gave it; refused (field `repeat`) when there is none within RULE_HORIZON_YEARS of it, as for a rule that never
    happens (30 February)."""
    found = occurrences(rule, start, zone, after=start, before=_later(start, RULE_HORIZON), limit=1, wall=wall)
    if found:
        return found[0], rule_wall(found[0], start, zone, wall)
    if rule.until is not None and rule.until < _later(start, RULE_HORIZON):
        raise InvalidField("repeat", "this rule never happens between its start and its end date")
    raise InvalidField("repeat", f"this rule never happens in the {RULE_HORIZON_YEARS} years after its start")


def rule_wall(occurrence: datetime, start: datetime, zone: tzinfo, wall: datetime | None = None) -> datetime:
    """The wall time (naive) the rule gave the occurrence starting at `occurrence`: what RFC 5545's EXDATE and
    RECURRENCE-ID name it by. A rule repeats its first time of day, so it is that time on the occurrence's day;
    the instant may show another where a gap moved it forward (02:30 on a spring-forward night starts at 03:30,
    or past midnight where the gap is at midnight), or be the start sent as the second instance of a repeated
    hour."""
    first = wall or _wall(start, zone)
    if occurrence == start:
        return first
    local = _wall(occurrence, zone)
    for day in (local.date(), local.date() - timedelta(days=1)):
        candidate = datetime.combine(day, first.time())
        if wall_to_utc(candidate, zone) == occurrence:
            return candidate
    return local  # not an occurrence of the rule: its own wall time


def next_occurrences(
    rule: Recurrence,
    start: datetime,
    zone: tzinfo,
    *,
    now: datetime,
    n: int,
    horizon: timedelta = LOOKAHEAD,
    wall: datetime | None = None,
) -> list[datetime]:
    """The next `n` occurrence starts at or after `now`, looking no further than `horizon` ahead (50 years)."""
    return occurrences(rule, start, zone, after=now, before=_later(now, horizon), limit=n, wall=wall)


def count_before(
    rule: Recurrence, start: datetime, zone: tzinfo, instant: datetime, wall: datetime | None = None
) -> int:
    """How many occurrences start before `instant`."""
    return len(occurrences(rule, start, zone, after=start, before=instant, limit=MAX_COUNT + 1, wall=wall))


def split(
    rule: Recurrence, start: datetime, zone: tzinfo, at: datetime, wall: datetime | None = None
) -> tuple[Recurrence, Recurrence]:
    """Cut a series at occurrence `at` for "this and following": the rule up to just before it, and
    the rule from it on (a counted series shares its count between the two)."""
    done = count_before(rule, start, zone, at, wall)
    if done == 0:
        raise InvalidField("occurrence", "the first occurrence starts the series: edit the whole series instead")
    if rule.count is not None:
        return dataclasses.replace(rule, count=done), dataclasses.replace(rule, count=rule.count - done)
    return dataclasses.replace(rule, until=at - timedelta(seconds=1)), rule


# ---- words


def describe(
    rule: Recurrence,
    start: datetime,
    zone: tzinfo,
    zone_name: str,
    *,
    all_day: bool = False,
    wall: datetime | None = None,
) -> str:
    """ "every 2nd Tuesday of the month at 19:00 (Europe/Berlin)", "every 2 weeks on Tuesday and Thursday"..."""
    unit = {"DAILY": "day", "WEEKLY": "week", "MONTHLY": "month", "YEARLY": "year"}[rule.frequency]
    local = wall or _wall(start, zone)
    numbered = [d for d in rule.by_day if d[:-2]]
    plain = [d for d in rule.by_day if not d[:-2]]
    if numbered and rule.interval == 1:
        text = "every " + _join(f"{_ordinal(int(d[:-2]))} {WEEKDAY_NAMES[WEEKDAYS.index(d[-2:])]}" for d in numbered)
        text += " of the month" if rule.frequency == "MONTHLY" else ""
    else:
        every = {"day": "daily", "week": "weekly", "month": "monthly", "year": "yearly"}[unit]
        text = every if rule.interval == 1 else f"every {rule.interval} {unit}s"
        if numbered:
            text += " on the " + _join(
                f"{_ordinal(int(d[:-2]))} {WEEKDAY_NAMES[WEEKDAYS.index(d[-2:])]}" for d in numbered
            )
        if plain:
            text += " on " + _join(WEEKDAY_NAMES[WEEKDAYS.index(d)] for d in plain)
        elif rule.frequency == "WEEKLY" and not numbered:
            text += f" on {WEEKDAY_NAMES[local.weekday()]}"
    if rule.by_month_day:
        text += " on the " + _join(_ordinal(d) for d in rule.by_month_day)
    elif rule.frequency == "MONTHLY" and not rule.by_day:
        text += f" on the {_ordinal(local.day)}"
    if rule.by_month:
        text += " in " + _join(MONTH_NAMES[m - 1] for m in rule.by_month)
    elif rule.frequency == "YEARLY" and not rule.by_day and not rule.by_month_day:
        text += f" on {local.day} {MONTH_NAMES[local.month - 1]}"
    if rule.by_set_position:
        text += " (occurrence " + _join(_ordinal(p) for p in rule.by_set_position) + " of each period)"
    if _week_start_matters(rule):
        text += f" (weeks start on {WEEKDAY_NAMES[WEEKDAYS.index(rule.week_start)]})"
    if not all_day:
        text += f" at {local:%H:%M} ({zone_name})"
    if rule.count:
        text += f", {rule.count} time{'s' if rule.count != 1 else ''}"
    if rule.until:
        text += f", until {_wall(rule.until, zone):%Y-%m-%d}"
    return text


def _week_start_matters(rule: Recurrence) -> bool:
    """Whether WKST changes the days of the rule: a WEEKLY one picking several weekdays every few weeks, or by
    position within the week (with BYWEEKNO, which calbot does not take, it would count a YEARLY rule's weeks)."""
    return (
        rule.week_start != "MO"
        and rule.frequency == "WEEKLY"
        and len(rule.by_day) > 1
        and (rule.interval > 1 or bool(rule.by_set_position))
    )


def _ordinal(n: int) -> str:
    if n == -1:
        return "last"
    if n < 0:
        return f"{_ordinal(-n)}-last"
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _join(items) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
