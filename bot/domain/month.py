"""A month (or a week) laid out as a calendar grid: which days it shows, which day a week starts on where
the guild is, and where each occurrence goes in it (all-day and multi-day events as bars across the days
they cover, the rest as one chip on their day, "+N more" when a day is full). Pure: the picture in Discord
(bot/render) draws what this lays out, and the web page builds its grid from the same days.
"""

from __future__ import annotations

import calendar
import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from importlib import resources
from zoneinfo import ZoneInfo

from .colors import Color, shown_colour
from .errors import InvalidField
from .models import Calendar
from .occurrences import Occurrence
from .timeparse import EARLIEST_YEAR, LATEST_YEAR, local_midnight

MONDAY, SATURDAY, SUNDAY = 0, 5, 6
WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

# Unicode CLDR's weekData "firstDay": the countries whose week starts on Sunday or Saturday (Monday elsewhere).
# fmt: off
SUNDAY_FIRST = frozenset({
    "AG", "AS", "BD", "BR", "BS", "BT", "BW", "BZ", "CA", "CN", "CO", "DM", "DO", "ET", "GT", "GU", "HK", "HN", "ID",
    "IL", "IN", "JM", "JP", "KE", "KH", "KR", "LA", "MH", "MM", "MO", "MT", "MX", "MZ", "NI", "NP", "PA", "PE", "PH",
    "PK", "PR", "PT", "PY", "SA", "SG", "SV", "TH", "TT", "TW", "UM", "US", "VE", "VI", "WS", "YE", "ZA", "ZW",
})
SATURDAY_FIRST = frozenset({"AE", "AF", "BH", "DJ", "DZ", "EG", "IQ", "IR", "JO", "KW", "LY", "OM", "QA", "SD", "SY"})
# fmt: on


@functools.cache
def _zone_countries() -> dict[str, str]:
    """IANA zone → ISO country, from the zone.tab the tzdata package ships (the zones' own table)."""
    text = resources.files("tzdata").joinpath("zoneinfo", "zone.tab").read_text(encoding="utf-8")
    found = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            country, _coordinates, zone, *_ = line.split("\t")
            found[zone] = country
    return found


def week_start(zone: str) -> int:
    """The weekday (0 Monday … 6 Sunday) a week starts on where `zone` is, as CLDR has it for the zone's
    country: Sunday in the Americas and much of Asia, Saturday in much of the Middle East, else Monday (ISO
    8601, also for UTC and zones of no country)."""
    country = _zone_countries().get(zone)
    if country in SUNDAY_FIRST:
        return SUNDAY
    if country in SATURDAY_FIRST:
        return SATURDAY
    return MONDAY


@dataclass(frozen=True, slots=True)
class Period:
    """What a view shows: a month (its whole weeks) or one week. `first` is the month's first day, or the
    week's first day; `days` are the grid's days, whole weeks from the week start."""

    first: date
    week: bool
    week_start: int
    days: tuple[date, ...]

    @property
    def weeks(self) -> list[tuple[date, ...]]:
        return [self.days[i : i + 7] for i in range(0, len(self.days), 7)]

    @property
    def title(self) -> str:
        if self.week:
            last = self.days[-1]
            return f"Week of {self.first.day} {self.first:%b %Y}" + (
                "" if last.month == self.first.month else f" – {last.day} {last:%b %Y}"
            )
        return f"{self.first:%B %Y}"

    @property
    def weekday_names(self) -> list[str]:
        return [WEEKDAY_NAMES[(self.week_start + i) % 7] for i in range(7)]

    def in_period(self, day: date) -> bool:
        """Whether `day` belongs to the month (or week) itself, not to the weeks around it."""
        return True if self.week else (day.year, day.month) == (self.first.year, self.first.month)

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """The instants the grid's first day begins and its last day ends, in `zone`."""
        return local_midnight(self.days[0], zone), local_midnight(self.days[-1] + timedelta(days=1), zone)

    def previous(self) -> Period:
        if self.week:
            return week_of(self.first - timedelta(days=7), self.week_start)
        return month_of(self.first - timedelta(days=1), self.week_start)

    def next(self) -> Period:
        if self.week:
            return week_of(self.first + timedelta(days=7), self.week_start)
        return month_of(self.first + timedelta(days=31), self.week_start)  # month_of takes that month's first

    @property
    def key(self) -> str:
        """`2026-12` for a month, `2026-12-14` (its first day) for a week: what a button or a link carries."""
        return f"{self.first:%Y-%m-%d}" if self.week else f"{self.first:%Y-%m}"


def _start_of_week(day: date, start: int) -> date:
    return day - timedelta(days=(day.weekday() - start) % 7)


def month_of(day: date, start: int) -> Period:
    first = day.replace(day=1)
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    grid_start = _start_of_week(first, start)
    count = (last - grid_start).days + 1
    count += -count % 7
    return Period(first, False, start, tuple(grid_start + timedelta(days=i) for i in range(count)))


def week_of(day: date, start: int) -> Period:
    first = _start_of_week(day, start)
    return Period(first, True, start, tuple(first + timedelta(days=i) for i in range(7)))


def parse_period(text: str | None, *, today: date, start: int, week: bool = False, field_name: str = "month") -> Period:
    """`2026-12` (a month), `2026-12-14` (the month, or with `week` the week holding that day), or nothing
    (this month or week). Raises InvalidField naming `field_name` for anything else."""
    if text is None or not text.strip():
        day = today
    else:
        match = re.fullmatch(r"\s*(\d{4})-(\d{1,2})(?:-(\d{1,2}))?\s*", text)
        if not match:
            raise InvalidField(field_name, f"{text[:40]!r} is not a month; write it as YYYY-MM, e.g. 2026-12")
        year, month, dom = int(match[1]), int(match[2]), int(match[3] or 1)
        if not EARLIEST_YEAR <= year <= LATEST_YEAR:
            raise InvalidField(field_name, f"must be between the years {EARLIEST_YEAR} and {LATEST_YEAR}")
        try:
            day = date(year, month, dom)
        except ValueError:
            raise InvalidField(field_name, f"{text[:40]!r} is not a date of the calendar") from None
    return week_of(day, start) if week else month_of(day, start)


# ---- what goes in the grid


@dataclass(frozen=True, slots=True)
class Item:
    """One occurrence as a view shows it."""

    event_id: int
    key: int
    name: str
    colour: int
    starts: datetime
    ends: datetime | None
    all_day: bool
    series: bool
    cancelled: bool
    first: date  # the first and last day it covers, in the view's zone (an all-day event's: in its own)
    last: date
    occurrence: Occurrence = field(repr=False, compare=False)

    @property
    def spans(self) -> bool:
        """Drawn as a bar across its days: all-day events, and those lasting a day or more (an evening
        running past midnight stays a chip on the day it starts)."""
        return self.all_day or (self.ends is not None and self.ends - self.starts >= timedelta(days=1))


def days_covered(occurrence: Occurrence, zone: ZoneInfo) -> tuple[date, date]:
    """The first and last day an occurrence covers: an all-day event's dates where it is (as its card shows
    them), else the local days of its start and of its last instant in `zone`."""
    event = occurrence.event
    where = ZoneInfo(event.timezone) if event.all_day else zone
    first = occurrence.starts.astimezone(where).date()
    end = occurrence.effective_end
    last = (end.astimezone(where) - timedelta(seconds=1)).date() if end > occurrence.starts else first
    return first, max(first, last)


def items(occurrences: Iterable[Occurrence], calendars: dict[int, Calendar], zone: ZoneInfo) -> list[Item]:
    """Items by start (all-day first on a day), for occurrences live or cancelled."""
    found = []
    for o in occurrences:
        event = o.event
        calendar_colour = calendars[event.calendar_id].color if event.calendar_id in calendars else Color.NONE
        first, last = days_covered(o, zone)
        found.append(
            Item(
                event_id=event.id or 0, key=o.key, name=o.name, colour=shown_colour(event.color, calendar_colour),
                starts=o.starts, ends=o.ends, all_day=event.all_day, series=event.recurrence is not None,
                cancelled=o.cancelled, first=first, last=last, occurrence=o,
            )
        )  # fmt: skip
    found.sort(key=lambda i: (i.first, not i.all_day, i.starts, i.event_id, i.key))
    return found


@dataclass(frozen=True, slots=True)
class Bar:
    item: Item
    first_column: int  # 0..6 within its week row
    last_column: int
    lane: int  # the line of the row it is drawn on, from the top
    continues_before: bool  # it began in an earlier row
    continues_after: bool


@dataclass(slots=True)
class WeekRow:
    days: tuple[date, ...]
    bars: list[Bar] = field(default_factory=list)
    chips: list[list[Item]] = field(default_factory=lambda: [[] for _ in range(7)])
    more: list[int] = field(default_factory=lambda: [0] * 7)  # "+N more" per day


def lay_out(period: Period, shown: Sequence[Item], lines: int) -> list[WeekRow]:
    """Each week row with its bars in lanes and each day's chips, in at most `lines` lines per day. A day
    with more keeps its last line for "+N more", which counts everything of that day left out (bars too);
    a bar is drawn whole or not at all, so one that would cross a full day's last line is left out."""
    rows = []
    for days in period.weeks:
        row = WeekRow(days)
        lanes: list[list[bool]] = []  # lanes[lane][column]: taken
        bars: list[Bar] = []
        chips: list[list[Item]] = [[] for _ in range(7)]
        for item in shown:
            if item.last < days[0] or item.first > days[-1]:
                continue
            if not item.spans:
                if days[0] <= item.first <= days[-1]:
                    chips[(item.first - days[0]).days].append(item)
                continue
            first_col, last_col = max(0, (item.first - days[0]).days), min(6, (item.last - days[0]).days)
            lane = next((n for n, used in enumerate(lanes) if not any(used[first_col : last_col + 1])), len(lanes))
            if lane == len(lanes):
                lanes.append([False] * 7)
            for column in range(first_col, last_col + 1):
                lanes[lane][column] = True
            bars.append(Bar(item, first_col, last_col, lane, item.first < days[0], item.last > days[-1]))
        covering = [[b for b in bars if b.first_column <= column <= b.last_column] for column in range(7)]
        full = [max((b.lane + 1 for b in covering[c]), default=0) + len(chips[c]) > lines for c in range(7)]
        row.bars = [b for b in bars if b.lane < lines - any(full[b.first_column : b.last_column + 1])]
        for column in range(7):
            drawn = [b for b in covering[column] if b in row.bars]
            below = max((b.lane + 1 for b in drawn), default=0)
            row.chips[column] = chips[column][: max(0, lines - full[column] - below)]
            row.more[column] = len(covering[column]) - len(drawn) + len(chips[column]) - len(row.chips[column])
        rows.append(row)
    return rows
