"""The rules that guard calendars, events and guild settings."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.errors import InvalidField
from bot.domain.models import Calendar, Event, GuildSettings

BERLIN = ZoneInfo("Europe/Berlin")
STARTS = datetime(2026, 12, 24, 18, 0, tzinfo=UTC)
EVENT = Event(guild_id=1, calendar_id=1, name="Game night", starts=STARTS, ends=STARTS + timedelta(hours=2))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


# ---- events


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   \n "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"ends": STARTS - timedelta(hours=1)}, "ends"),
        ({"ends": STARTS}, "ends"),  # an end must come after the start
        ({"url": "ftp://example.com/file"}, "url"),
        ({"url": "example.com"}, "url"),
        ({"url": "https://example.com/a b"}, "url"),
        ({"url": "https://"}, "url"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({"url": "https://example.com/" + "a" * 2048}, "url"),
        ({"image": "file:///etc/passwd"}, "image"),
        ({"notifications_interval": ("p5w",)}, "notifications_interval"),
        ({"notifications_interval": "pt15m tomorrow"}, "notifications_interval"),
        ({"notifications_channels": ("pigeon",)}, "notifications_channels"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"timezone": ""}, "timezone"),
        ({"starts": datetime(2026, 12, 24, 18, 0)}, "starts"),  # noqa: DTZ001
        ({"ends": datetime(2026, 12, 24, 20, 0)}, "ends"),  # noqa: DTZ001
        ({"registration_deadline": datetime(2026, 12, 24, 12, 0)}, "registration_deadline"),  # noqa: DTZ001
        ({"registration_deadline": STARTS + timedelta(hours=2, seconds=1)}, "registration_deadline"),
        ({"ends": None, "registration_deadline": STARTS + timedelta(minutes=1)}, "registration_deadline"),
        ({"description": "d" * 4001}, "description"),
        ({"content": "c" * 10001}, "content"),
        ({"location": "l" * 1025}, "location"),
    ],
)
def test_invalid_events_are_refused_naming_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidField) as caught:
        dataclasses.replace(EVENT, **changes).validated()
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"name": "  Game \n  night "}, {"name": "Game night"}),
        ({"name": "x" * 100}, {"name": "x" * 100}),
        ({"url": " https://example.com/rsvp?x=1 "}, {"url": "https://example.com/rsvp?x=1"}),
        ({"url": "http://example.com"}, {"url": "http://example.com"}),
        ({"url": ""}, {"url": None}),
        ({"url": "   "}, {"url": None}),
        ({"image": "https://cdn.example.com/a.png"}, {"image": "https://cdn.example.com/a.png"}),
        ({"timezone": "europe/berlin"}, {"timezone": "Europe/Berlin"}),
        ({"description": "  hi  "}, {"description": "hi"}),
        ({"description": "d" * 4000}, {"description": "d" * 4000}),
        ({"notifications_interval": ("P1D", "pt15m")}, {"notifications_interval": ("pt15m", "p1d")}),
        ({"notifications_interval": "none"}, {"notifications_interval": ()}),
        ({"notifications_channels": ("both",)}, {"notifications_channels": ("discord_private", "discord_public")}),
        ({"ends": None}, {"ends": None}),
        (
            {"registration_deadline": STARTS + timedelta(hours=2)},
            {"registration_deadline": STARTS + timedelta(hours=2)},
        ),
        ({"ends": None, "registration_deadline": STARTS}, {"registration_deadline": STARTS}),
        # instants in any zone are kept as the same instant in UTC
        ({"starts": berlin(2026, 12, 24, 19), "ends": berlin(2026, 12, 24, 21)}, {"starts": STARTS}),
        ({"registration_deadline": berlin(2026, 12, 24, 12)}, {"registration_deadline": utc(2026, 12, 24, 11)}),
    ],
)
def test_valid_events_come_back_cleaned(changes: dict[str, Any], expected: dict[str, Any]) -> None:
    event = dataclasses.replace(EVENT, **changes).validated()
    for name, value in expected.items():
        assert getattr(event, name) == value
    for name in ("starts", "ends", "registration_deadline"):
        value = getattr(event, name)
        assert value is None or value.tzinfo is UTC


def test_validating_twice_changes_nothing() -> None:
    event = dataclasses.replace(EVENT, name=" a  b ", timezone="europe/berlin", notifications_channels=("both",))
    once = event.validated()
    assert once.validated() == once


def test_effective_end_is_the_start_of_an_event_without_an_end() -> None:
    assert dataclasses.replace(EVENT, ends=None).effective_end == STARTS
    assert EVENT.effective_end == STARTS + timedelta(hours=2)


# ---- all-day events: whole local days, from midnight to the midnight after the last day


@pytest.mark.parametrize(
    ("zone", "starts", "ends", "expected_starts", "expected_ends"),
    [
        # one day, ends not given: 24 December in Berlin is 23:00 UTC on the 23rd to 23:00 UTC on the 24th
        ("Europe/Berlin", berlin(2026, 12, 24, 15), None, utc(2026, 12, 23, 23), utc(2026, 12, 24, 23)),
        ("Europe/Berlin", berlin(2026, 12, 24), None, utc(2026, 12, 23, 23), utc(2026, 12, 24, 23)),
        # several days: an end during the last day, or at the midnight that closes it, means the same
        ("Europe/Berlin", berlin(2026, 12, 24), berlin(2026, 12, 26, 12), utc(2026, 12, 23, 23), utc(2026, 12, 26, 23)),
        ("Europe/Berlin", berlin(2026, 12, 24), berlin(2026, 12, 27), utc(2026, 12, 23, 23), utc(2026, 12, 26, 23)),
        (
            "Europe/Berlin",
            utc(2026, 12, 23, 23, 30),
            utc(2026, 12, 24, 0),
            utc(2026, 12, 23, 23),
            utc(2026, 12, 24, 23),
        ),
        # the spring-forward day is 23 hours long, the fall-back day 25
        ("Europe/Berlin", berlin(2026, 3, 29, 12), None, utc(2026, 3, 28, 23), utc(2026, 3, 29, 22)),
        ("Europe/Berlin", berlin(2026, 10, 25, 12), None, utc(2026, 10, 24, 22), utc(2026, 10, 25, 23)),
        ("America/New_York", utc(2026, 12, 24, 12), None, utc(2026, 12, 24, 5), utc(2026, 12, 25, 5)),
        # Santiago skips midnight on 6 September 2026 (00:00 -> 01:00): that day begins at 01:00 -03
        ("America/Santiago", utc(2026, 9, 5, 12), None, utc(2026, 9, 5, 4), utc(2026, 9, 6, 4)),
        ("America/Santiago", utc(2026, 9, 6, 12), None, utc(2026, 9, 6, 4), utc(2026, 9, 7, 3)),
    ],
)
def test_all_day_events_cover_whole_local_days(
    zone: str, starts: datetime, ends: datetime | None, expected_starts: datetime, expected_ends: datetime
) -> None:
    event = dataclasses.replace(EVENT, timezone=zone, all_day=True, starts=starts, ends=ends).validated()
    assert (event.starts, event.ends) == (expected_starts, expected_ends)
    assert event.validated() == event  # storing it again (an edit) must not move or stretch it


def test_an_all_day_day_across_spring_forward_is_23_hours() -> None:
    event = dataclasses.replace(EVENT, timezone="Europe/Berlin", all_day=True, starts=berlin(2026, 3, 29), ends=None)
    assert event.validated().ends - event.validated().starts == timedelta(hours=23)


@pytest.mark.parametrize(
    "ends",
    [
        berlin(2026, 12, 23, 12),  # the day before the first
        berlin(2026, 12, 24),  # the first day's own midnight: no day at all
    ],
)
def test_an_all_day_event_must_end_after_its_first_day_begins(ends: datetime) -> None:
    event = dataclasses.replace(EVENT, timezone="Europe/Berlin", all_day=True, starts=berlin(2026, 12, 24), ends=ends)
    with pytest.raises(InvalidField) as caught:
        event.validated()
    assert caught.value.field == "ends"


ZONES = st.sampled_from(
    [
        "UTC",
        "Europe/Berlin",
        "America/New_York",
        "America/Santiago",
        "America/Havana",
        "Africa/Cairo",
        "Asia/Beirut",
        "Atlantic/Azores",
        "Australia/Lord_Howe",
        "Pacific/Chatham",
    ]
)


@given(
    zone=ZONES,
    first=st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)),
    start_time=st.times(),
    days=st.none() | st.integers(0, 40),
    end_time=st.times(),
)
def test_all_day_events_are_stable_under_revalidation(
    zone: str, first: date, start_time: time, days: int | None, end_time: time
) -> None:
    tz = ZoneInfo(zone)
    starts = datetime.combine(first, start_time, tzinfo=tz)
    ends = None if days is None else datetime.combine(first + timedelta(days=days), end_time, tzinfo=tz)
    try:
        once = dataclasses.replace(EVENT, timezone=zone, all_day=True, starts=starts, ends=ends).validated()
    except InvalidField as error:  # an end at the first day's midnight is the only refusal
        assert error.field == "ends"
        assert days == 0
        return
    assert once.validated() == once
    local_start, local_end = once.starts.astimezone(tz), once.ends.astimezone(tz)
    assert local_start.date() == starts.date()
    assert local_start.time() <= time(1, 0) and local_end.time() <= time(1, 0)  # midnight, or just after a gap
    assert once.ends > once.starts


# ---- calendars and settings


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": " \t "}, "name"),
        ({"name": "c" * 101}, "name"),
        ({"description": "d" * 1001}, "description"),
    ],
)
def test_invalid_calendars_are_refused_naming_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidField) as caught:
        Calendar(guild_id=1, **{"name": "General", **changes}).validated()
    assert caught.value.field == field


def test_a_valid_calendar_comes_back_trimmed() -> None:
    calendar = Calendar(guild_id=1, name="  Raid   nights ", description=" weekly \n").validated()
    assert (calendar.name, calendar.description) == ("Raid nights", "weekly")
    assert Calendar(guild_id=1, name="c" * 100).validated().name == "c" * 100


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"timezone": "Nowhere/Special"}, "timezone"),
        ({"default_reminders": ("p5w",)}, "reminders"),
        ({"default_channels": ("pigeon",)}, "channels"),
    ],
)
def test_invalid_settings_are_refused_naming_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidField) as caught:
        GuildSettings(guild_id=1, **changes).validated()
    assert caught.value.field == field


def test_valid_settings_come_back_canonical() -> None:
    settings = GuildSettings(
        guild_id=1, timezone="america/new york", default_reminders=("P1D", "pt15m"), default_channels=("both",)
    ).validated()
    assert settings.timezone == "America/New_York"
    assert settings.default_reminders == ("pt15m", "p1d")
    assert settings.default_channels == ("discord_private", "discord_public")


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"date_order": "mdy"}, {"date_order": "MDY"}),
        ({"all_day_time": "8am"}, {"all_day_time": "08:00"}),
        ({"all_day_time": "18h30"}, {"all_day_time": "18:30"}),
    ],
)
def test_guild_settings_are_normalised(changes, expected):
    settings = GuildSettings(guild_id=1, **changes).validated()
    assert {k: getattr(settings, k) for k in expected} == expected


@pytest.mark.parametrize(
    ("changes", "field"), [({"date_order": "DDMM"}, "date_order"), ({"all_day_time": "brunch"}, "all_day_time")]
)
def test_bad_guild_settings_name_the_field(changes, field):
    with pytest.raises(InvalidField) as caught:
        GuildSettings(guild_id=1, **changes).validated()
    assert caught.value.field == field
