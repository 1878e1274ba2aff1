"""Reading the instants people type. `now` is fixed: Saturday 21 November 2026, 10:00 UTC, which is
11:00 in Berlin (CET) and 05:00 in New York (EST)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.errors import InvalidField
from bot.domain.timeparse import parse_when, wall_to_utc

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_now_is_the_saturday_the_table_assumes() -> None:
    assert NOW.strftime("%A") == "Saturday"


@pytest.mark.parametrize(
    ("text", "zone", "expected"),
    [
        # ISO 8601: an offset or Z wins over the guild zone; none means the guild zone
        ("2026-12-24T18:00:00Z", NEW_YORK, utc(2026, 12, 24, 18)),
        ("2026-12-24T18:00z", BERLIN, utc(2026, 12, 24, 18)),
        ("2026-12-24T18:00+01:00", NEW_YORK, utc(2026, 12, 24, 17)),
        ("2026-12-24T18:00:00-05:00", BERLIN, utc(2026, 12, 24, 23)),
        ("2026-12-24T18:00", UTC, utc(2026, 12, 24, 18)),
        ("2026-12-24T18:00", BERLIN, utc(2026, 12, 24, 17)),
        ("2026-12-24T18:00", NEW_YORK, utc(2026, 12, 24, 23)),
        ("2026-12-24 18:00", BERLIN, utc(2026, 12, 24, 17)),
        ("2026-12-24 at 6pm", BERLIN, utc(2026, 12, 24, 17)),
        ("2026-7-4 18:00", NEW_YORK, utc(2026, 7, 4, 22)),  # EDT in July
        # relative days
        ("tomorrow 18:00", UTC, utc(2026, 11, 22, 18)),
        ("tomorrow 18:00", BERLIN, utc(2026, 11, 22, 17)),
        ("tomorrow 18:00", NEW_YORK, utc(2026, 11, 22, 23)),
        ("Tomorrow at 6 PM", UTC, utc(2026, 11, 22, 18)),
        ("tomorrow 12am", UTC, utc(2026, 11, 22, 0)),
        ("tomorrow 12pm", UTC, utc(2026, 11, 22, 12)),
        ("tomorrow 18h30", UTC, utc(2026, 11, 22, 18, 30)),
        ("tomorrow 8:15 p.m.", UTC, utc(2026, 11, 22, 20, 15)),
        ("today 9am", NEW_YORK, utc(2026, 11, 21, 14)),  # still to come in New York
        ("today 9am", UTC, utc(2026, 11, 21, 9)),  # "today" is taken as written, even when past
        ("tonight 8pm", BERLIN, utc(2026, 11, 21, 19)),
        # weekdays: the next one; today's if its time is still to come, else next week's
        ("friday 8pm", UTC, utc(2026, 11, 27, 20)),
        ("friday 8pm", BERLIN, utc(2026, 11, 27, 19)),
        ("fri 20:00", NEW_YORK, utc(2026, 11, 28, 1)),
        ("next friday 8pm", UTC, utc(2026, 11, 27, 20)),
        ("on friday at 8pm", UTC, utc(2026, 11, 27, 20)),
        ("saturday 11:00", UTC, utc(2026, 11, 21, 11)),  # today, still future
        ("saturday 9:00", UTC, utc(2026, 11, 28, 9)),  # today's has passed: next week's
        ("saturday 10:00", UTC, utc(2026, 11, 28, 10)),  # exactly now counts as passed
        ("saturday 9:00", NEW_YORK, utc(2026, 11, 21, 14)),  # 05:00 there: today's is still to come
        ("this saturday 9:00", UTC, utc(2026, 11, 21, 9)),  # "this" is taken as written
        ("next saturday 11:00", UTC, utc(2026, 11, 28, 11)),  # "next" skips today
        ("sunday 9:00", UTC, utc(2026, 11, 22, 9)),
        # durations from now
        ("in 2 hours", BERLIN, utc(2026, 11, 21, 12)),
        ("in 90 minutes", UTC, utc(2026, 11, 21, 11, 30)),
        ("in an hour", NEW_YORK, utc(2026, 11, 21, 11)),
        ("in 1h30m", UTC, utc(2026, 11, 21, 11, 30)),
        ("3 days from now", UTC, utc(2026, 11, 24, 10)),
        ("IN 2 HOURS", UTC, utc(2026, 11, 21, 12)),
        # named months, day-first and month-first
        ("dec 24 6pm", BERLIN, utc(2026, 12, 24, 17)),
        ("December 24th at 6pm", UTC, utc(2026, 12, 24, 18)),
        ("24 december 2026 18:00", BERLIN, utc(2026, 12, 24, 17)),
        ("the 24th of december 18:00", UTC, utc(2026, 12, 24, 18)),
        ("24 dec, 6pm", UTC, utc(2026, 12, 24, 18)),
        ("nov 21 11:00", UTC, utc(2026, 11, 21, 11)),  # no year, later today: this year's
        ("nov 21 9:00", UTC, utc(2027, 11, 21, 9)),  # no year, already past: next year's
        ("1 nov 18:00", UTC, utc(2027, 11, 1, 18)),
        ("1 nov 2026 18:00", UTC, utc(2026, 11, 1, 18)),  # with a year: as written, even past
        # numeric dates
        ("24.12. 18:00", BERLIN, utc(2026, 12, 24, 17)),
        ("24.12.2026 18:00", BERLIN, utc(2026, 12, 24, 17)),
        ("24.12.26 18:00", UTC, utc(2026, 12, 24, 18)),
        ("2026/12/24 18:00", NEW_YORK, utc(2026, 12, 24, 23)),
        # times alone: today's if still to come, else tomorrow's
        ("18:00", UTC, utc(2026, 11, 21, 18)),
        ("18:00", BERLIN, utc(2026, 11, 21, 17)),
        ("9:00", UTC, utc(2026, 11, 22, 9)),
        ("10:00", UTC, utc(2026, 11, 22, 10)),  # exactly now is not still to come
        ("6pm", NEW_YORK, utc(2026, 11, 21, 23)),
        ("noon", UTC, utc(2026, 11, 21, 12)),
        ("noon", BERLIN, utc(2026, 11, 21, 11)),
        ("midnight", UTC, utc(2026, 11, 22, 0)),
        ("midnight", NEW_YORK, utc(2026, 11, 22, 5)),
        ("now", BERLIN, NOW),
        ("  NOW ", UTC, NOW),
        # daylight saving: a time in the spring-forward gap moves forward by the gap (02:30 EST =
        # 03:30 EDT); an ambiguous fall-back time is its first occurrence (01:30 EDT)
        ("2026-03-08 02:30", NEW_YORK, utc(2026, 3, 8, 7, 30)),
        ("march 8 2026 2:30am", NEW_YORK, utc(2026, 3, 8, 7, 30)),
        ("2026-11-01 01:30", NEW_YORK, utc(2026, 11, 1, 5, 30)),
        ("2026-03-29 02:30", BERLIN, utc(2026, 3, 29, 1, 30)),
        ("2026-10-25 02:30", BERLIN, utc(2026, 10, 25, 0, 30)),
    ],
)
def test_parse_when(text: str, zone: ZoneInfo, expected: datetime) -> None:
    result = parse_when(text, now=NOW, zone=zone)
    assert result == expected
    assert result.tzinfo is UTC


@pytest.mark.parametrize(
    ("text", "order", "expected"),
    [
        ("12/24 18:00", "MDY", utc(2026, 12, 24, 18)),
        ("24/12 18:00", "DMY", utc(2026, 12, 24, 18)),
        ("12/24/2026 18:00", "MDY", utc(2026, 12, 24, 18)),
        ("24/12/2026 18:00", "DMY", utc(2026, 12, 24, 18)),
        ("3/4 18:00", "MDY", utc(2027, 3, 4, 18)),  # 4 March, past this year: next year's
        ("3/4 18:00", "DMY", utc(2027, 4, 3, 18)),  # 3 April
        ("2026/12/24 18:00", "MDY", utc(2026, 12, 24, 18)),  # year first is unambiguous
        ("2026/12/24 18:00", "DMY", utc(2026, 12, 24, 18)),
        ("2026/12/24 18:00", "YMD", utc(2026, 12, 24, 18)),
    ],
)
def test_numeric_dates_follow_the_date_order(text: str, order: str, expected: datetime) -> None:
    assert parse_when(text, now=NOW, zone=UTC, date_order=order) == expected


@pytest.mark.parametrize(
    ("text", "order"),
    [
        ("12/24 18:00", "DMY"),  # month 24
        ("24/12 18:00", "MDY"),
        ("12/24 18:00", "YMD"),  # Y/M/D needs its year first
        ("2026/12 18:00", "DMY"),
    ],
)
def test_numeric_dates_that_do_not_fit_the_order_are_refused(text: str, order: str) -> None:
    with pytest.raises(InvalidField) as caught:
        parse_when(text, now=NOW, zone=UTC, date_order=order, field="end")
    assert caught.value.field == "end"


@pytest.mark.parametrize(
    ("text", "zone", "expected"),
    [
        ("2026-12-24", BERLIN, utc(2026, 12, 23, 23)),  # local midnight
        ("2026-12-24", NEW_YORK, utc(2026, 12, 24, 5)),
        ("24.12.", UTC, utc(2026, 12, 24)),
        ("dec 24", UTC, utc(2026, 12, 24)),
        ("friday", UTC, utc(2026, 11, 27)),
        ("saturday", UTC, utc(2026, 11, 21)),  # a date alone is today's all day long
        ("next saturday", UTC, utc(2026, 11, 28)),
        ("21 nov", UTC, utc(2026, 11, 21)),  # today, though its midnight has passed
        ("20 nov", UTC, utc(2027, 11, 20)),  # yesterday's date: next year's
        ("today", BERLIN, utc(2026, 11, 20, 23)),
        ("tomorrow", NEW_YORK, utc(2026, 11, 22, 5)),
    ],
)
def test_a_date_alone_is_local_midnight_when_no_time_is_required(text: str, zone: ZoneInfo, expected: datetime) -> None:
    assert parse_when(text, now=NOW, zone=zone, require_time=False) == expected


@pytest.mark.parametrize("text", ["2026-12-24", "24.12.", "dec 24", "friday", "tomorrow", "today", "next saturday"])
def test_a_date_alone_is_refused_when_a_time_is_required(text: str) -> None:
    with pytest.raises(InvalidField) as caught:
        parse_when(text, now=NOW, zone=UTC, field="start")
    assert caught.value.field == "start"
    assert "time" in caught.value.reason


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "blah",
        "soon",
        "next week",
        "25:00",
        "18:60",
        "13pm",
        "0am",
        "in forever",
        "in 0 minutes",
        "5 parsecs from now",
        "friday 8pm 9pm",
        "24.12.2026.1 18:00",
        "2026-12-24 18:00 pizza",
        "31.02. 18:00",  # not a real date
        "31.02.2026 18:00",
        "2026-02-31 18:00",
        "feb 30 18:00",
        "in 99999999 days",  # past year 9999
        "9999-12-31 23:00",  # in New York that is already year 10000 in UTC
    ],
)
def test_what_is_not_an_instant_is_refused_naming_the_field(text: str) -> None:
    with pytest.raises(InvalidField) as caught:
        parse_when(text, now=NOW, zone=NEW_YORK, field="deadline")
    assert caught.value.field == "deadline"


def test_not_a_real_date_says_so() -> None:
    with pytest.raises(InvalidField, match="not a real date"):
        parse_when("31.02. 18:00", now=NOW, zone=UTC)


def test_a_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_when("18:00", now=datetime(2026, 11, 21, 10, 0), zone=UTC)  # noqa: DTZ001


def test_now_in_another_zone_means_the_same_instant() -> None:
    local_now = NOW.astimezone(NEW_YORK)
    assert parse_when("tomorrow 18:00", now=local_now, zone=BERLIN) == utc(2026, 11, 22, 17)
    assert parse_when("in 2 hours", now=local_now, zone=BERLIN) == utc(2026, 11, 21, 12)


# ---- properties

ZONES = st.sampled_from(
    [
        "UTC",
        "Europe/Berlin",
        "America/New_York",
        "Australia/Lord_Howe",  # a half-hour DST shift
        "Asia/Kolkata",
        "Pacific/Chatham",
        "America/Santiago",
        "Africa/Cairo",
        "Antarctica/Troll",  # a two-hour DST shift
    ]
).map(ZoneInfo)
INSTANTS = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))  # noqa: DTZ001


def _ambiguous(wall: datetime, zone: ZoneInfo) -> bool:
    return wall.replace(tzinfo=zone, fold=0).utcoffset() != wall.replace(tzinfo=zone, fold=1).utcoffset()


@given(instant=INSTANTS, zone=ZONES)
def test_wall_to_utc_inverts_the_local_wall_time(instant: datetime, zone: ZoneInfo) -> None:
    wall = instant.astimezone(zone).replace(tzinfo=None)
    result = wall_to_utc(wall, zone)
    if _ambiguous(wall, zone):
        # a repeated wall time reads as its first occurrence: the same wall time, not later
        assert result.astimezone(zone).replace(tzinfo=None) == wall
        assert result <= instant
    else:
        assert result == instant


@given(instant=INSTANTS, zone=ZONES, reader=ZONES)
def test_an_iso_string_with_an_offset_is_that_instant_whatever_the_guild_zone(
    instant: datetime, zone: ZoneInfo, reader: ZoneInfo
) -> None:
    text = instant.astimezone(zone).isoformat()
    assert parse_when(text, now=NOW, zone=reader) == instant


@given(
    now=INSTANTS,
    zone=ZONES,
    hour=st.integers(0, 23),
    minute=st.integers(0, 59),
)
def test_a_time_alone_is_its_next_occurrence(now: datetime, zone: ZoneInfo, hour: int, minute: int) -> None:
    result = parse_when(f"{hour}:{minute:02d}", now=now, zone=zone)
    assert now < result <= now + timedelta(hours=26)


# ---- a zone written after the time, and numeric dates that read two ways

from bot.domain.timeparse import read_when  # noqa: E402


@pytest.mark.parametrize(
    ("text", "expected", "note"),
    [
        ("6pm EST", utc(2026, 11, 21, 23), "EST read as America/New_York (US Eastern time)"),
        ("2026-07-04 6pm EST", utc(2026, 7, 4, 22), "EST read as America/New_York"),  # the writer means EDT
        ("18:00 CET", utc(2026, 11, 21, 17), "CET read as Europe/Berlin (Central European time)"),
        ("dec 24 6pm pst", utc(2026, 12, 25, 2), "PST read as America/Los_Angeles"),
        ("tomorrow 18:00 UTC+2", utc(2026, 11, 22, 16), "read at UTC+2"),
        ("tomorrow 18:00 gmt-5", utc(2026, 11, 22, 23), "read at UTC-5"),
        ("tomorrow 18:00 UTC+5:30", utc(2026, 11, 22, 12, 30), "read at UTC+5:30"),
        ("2026-12-24 18:00 +02:00", utc(2026, 12, 24, 16), "read at UTC+2"),
        ("2026-12-24 18:00 -0500", utc(2026, 12, 24, 23), "read at UTC-5"),
        ("18:00 utc", utc(2026, 11, 21, 18), "read in UTC"),
        ("2026-12-24 18:00 Europe/Berlin", utc(2026, 12, 24, 17), "read in Europe/Berlin"),  # calbot's echo
        ("2026-12-24 18:00 America/New_York", utc(2026, 12, 24, 23), "read in America/New_York"),
        ("friday 8pm munich", utc(2026, 11, 27, 19), "munich read as Europe/Berlin"),
        ("friday 8pm IST", utc(2026, 11, 27, 14, 30), "IST can also mean Irish Standard Time"),
    ],
)
def test_a_zone_after_the_time_is_read_and_noted(text: str, expected: datetime, note: str) -> None:
    reading = read_when(text, now=NOW, zone=NEW_YORK if "IST" not in text else BERLIN)
    assert reading.instant == expected
    assert any(note in n for n in reading.notes), reading.notes


@pytest.mark.parametrize(
    "text", ["tomorrow 18:00", "2026-12-24T18:00+01:00", "in 2 hours", "friday 8pm", "6pm 24/12", "18:00 2026/12/24"]
)
def test_nothing_to_note_without_a_zone_or_a_doubtful_date(text: str) -> None:
    assert read_when(text, now=NOW, zone=BERLIN).notes == ()


@pytest.mark.parametrize("text", ["18:00 UTC+15", "18:00 UTC-13", "18:00 Mars/Olympus"])
def test_zones_no_place_uses_are_refused(text: str) -> None:
    with pytest.raises(InvalidField):
        read_when(text, now=NOW, zone=BERLIN)


@pytest.mark.parametrize(
    ("text", "order", "expected", "note"),
    [
        ("03/04 18:00", "DMY", utc(2027, 4, 3, 18), "`03/04` read day/month as 3 April (as month/day it is 4 March"),
        ("03/04 18:00", "MDY", utc(2027, 3, 4, 18), "`03/04` read month/day as 4 March (as day/month it is 3 April"),
        ("24/12 18:00", "DMY", utc(2026, 12, 24, 18), None),  # only one reading: nothing to say
        ("5/5 18:00", "DMY", utc(2027, 5, 5, 18), None),  # both readings the same
    ],
)
def test_numeric_dates_that_read_two_ways_say_so(text: str, order: str, expected: datetime, note: str | None) -> None:
    reading = read_when(text, now=NOW, zone=UTC, date_order=order)
    assert reading.instant == expected
    assert (
        (reading.notes[0].startswith(note) and "/settings date-order" in reading.notes[0])
        if note
        else not reading.notes
    )


@pytest.mark.parametrize(
    ("text", "order", "other"),
    [("12/24 6pm", "DMY", "as month/day it is 24 December"), ("24/12 6pm", "MDY", "as day/month it is 24 December")],
)
def test_a_date_only_the_other_order_reads_is_refused_with_both_readings(text: str, order: str, other: str) -> None:
    with pytest.raises(InvalidField) as caught:
        read_when(text, now=NOW, zone=UTC, date_order=order)
    assert other in caught.value.reason and "/settings date-order" in caught.value.reason
