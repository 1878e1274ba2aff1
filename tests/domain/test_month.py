"""The month grid: week starts by country, the days shown, parsing a month, and how a full day overflows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.errors import InvalidField
from bot.domain.models import Calendar, Event
from bot.domain.month import items, lay_out, month_of, parse_period, week_of, week_start
from bot.domain.occurrences import Occurrence

UTC_ZONE = ZoneInfo("UTC")


@pytest.mark.parametrize(
    ("zone", "weekday"),
    [("Europe/Berlin", 0), ("America/New_York", 6), ("Asia/Tokyo", 6), ("Asia/Dubai", 5), ("UTC", 0),
     ("Australia/Sydney", 0), ("America/Sao_Paulo", 6), ("Etc/GMT+5", 0)],
)  # fmt: skip
def test_the_week_starts_where_the_zone_is(zone, weekday):
    assert week_start(zone) == weekday


def test_a_month_is_whole_weeks_from_the_week_start():
    february = month_of(date(2026, 2, 17), 0)  # 1 Feb 2026 is a Sunday, 28 Feb a Saturday
    assert (february.days[0], february.days[-1], len(february.weeks)) == (date(2026, 1, 26), date(2026, 3, 1), 5)
    sunday_first = month_of(date(2026, 2, 1), 6)
    assert (sunday_first.days[0], sunday_first.days[-1], len(sunday_first.weeks)) == (
        date(2026, 2, 1), date(2026, 2, 28), 4
    )  # fmt: skip
    assert sunday_first.weekday_names == ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    assert (february.previous().title, february.next().title) == ("January 2026", "March 2026")
    assert month_of(date(2026, 12, 5), 0).next().key == "2027-01"
    week = week_of(date(2026, 12, 31), 0)
    assert (week.title, week.key, week.next().key) == ("Week of 28 Dec 2026 – 3 Jan 2027", "2026-12-28", "2027-01-04")


@pytest.mark.parametrize(
    ("text", "says"),
    [("December", "is not a month"), ("2026-13", "is not a date"), ("0999-01", "between the years"),
     ("2026-02-30", "is not a date")],
)  # fmt: skip
def test_a_bad_month_is_refused_naming_the_field(text, says):
    with pytest.raises(InvalidField) as refused:
        parse_period(text, today=date(2026, 1, 1), start=0)
    assert refused.value.field == "month" and says in refused.value.reason


def occurrence(name: str, starts: datetime, hours: float, *, all_day: bool = False, id: int) -> Occurrence:
    return Occurrence.of(
        Event(guild_id=1, calendar_id=1, name=name, starts=starts, ends=starts + timedelta(hours=hours),
              all_day=all_day, id=id)
    )  # fmt: skip


def test_a_full_day_keeps_its_last_line_for_more_and_counts_every_hidden_event():
    calendars = {1: Calendar(guild_id=1, name="C", id=1)}
    period = week_of(date(2026, 3, 2), 0)
    shown = items(
        [occurrence("Trip", datetime(2026, 3, 2, tzinfo=UTC), 72, all_day=True, id=1)]
        + [occurrence(f"E{n}", datetime(2026, 3, 3, 8 + n, tzinfo=UTC), 1, id=10 + n) for n in range(5)]
        + [occurrence("Late", datetime(2026, 3, 6, 23, tzinfo=UTC), 3, id=30)],  # past midnight: still a chip
        calendars,
        UTC_ZONE,
    )
    [row] = lay_out(period, shown, lines=4)
    [bar] = row.bars
    assert (bar.first_column, bar.last_column, bar.lane) == (0, 2, 0)
    assert [i.name for i in row.chips[1]] == ["E0", "E1"] and row.more[1] == 3  # lines: bar, E0, E1, +3 more
    assert [i.name for i in row.chips[4]] == ["Late"] and row.chips[5] == []
    [roomy] = lay_out(period, shown, lines=6)
    assert len(roomy.chips[1]) == 5 and roomy.more[1] == 0
    [tight] = lay_out(period, shown, lines=1)  # no room for the bar: left out, and counted on each of its days
    assert tight.bars == [] and tight.more[:3] == [1, 6, 1]
