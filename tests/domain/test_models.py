"""The rules that guard calendars, events and guild settings."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time, timedelta
from time import perf_counter
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.errors import InvalidField
from bot.domain.models import Calendar, Event, GuildSettings, OccurrenceChange, UserSettings
from bot.domain.recurrence import Recurrence, parse_rrule

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
        ({"name": "x" * 256}, "name"),
        ({"ends": STARTS - timedelta(hours=1)}, "ends"),
        ({"ends": STARTS}, "ends"),  # an end must come after the start
        ({"url": "ftp://example.com/file"}, "url"),
        ({"url": "example.com"}, "url"),
        ({"url": "https://example.com/a b"}, "url"),
        ({"url": "https://"}, "url"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({"url": "https://example.com/" + "a" * 65535}, "url"),
        ({"image": "https://example.com/" + "a" * 2048}, "image"),
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
        ({"description": "d" * 65536}, "description"),
        ({"content": "c" * 65536}, "content"),
        ({"location": "l" * 65536}, "location"),
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


# ---- every field bounded: lengths of time, rules, text (one validation for every road)

WEEKLY = Recurrence("WEEKLY")
NUL = "\x00"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        # the case: an end millennia away on a weekly series broke every later read of the guild
        ({"ends": utc(8999, 12, 31, 23), "recurrence": WEEKLY}, "ends"),
        ({"ends": utc(8999, 12, 31, 23)}, "ends"),
        ({"ends": STARTS + timedelta(days=366, seconds=1)}, "ends"),
        (
            {"all_day": True, "timezone": "Europe/Berlin", "starts": berlin(2026, 1, 1), "ends": berlin(2027, 1, 3)},
            "ends",
        ),
        ({"recurrence": Recurrence("WEEKLY", until=STARTS + timedelta(days=36526))}, "until"),
        ({"recurrence": Recurrence("WEEKLY", until=utc(8999, 12, 31))}, "until"),
        ({"recurrence": Recurrence("WEEKLY", until=utc(1, 1, 1))}, "until"),
        ({"recurrence": Recurrence("DAILY", by_month=(2,), by_month_day=(30,))}, "repeat"),
        ({"recurrence": Recurrence("MONTHLY", by_day=("53MO",))}, "on"),
        ({"registration_deadline": STARTS - timedelta(days=366, seconds=1)}, "registration_deadline"),
        ({"capacity": 0}, "capacity"),
        ({"capacity": 100_001}, "capacity"),
        # text: NUL (PostgreSQL refuses it: a 500 before), other control characters, unpaired surrogates
        ({"name": f"Game{NUL}night"}, "name"),
        ({"description": f"Bring{NUL} dice"}, "description"),
        ({"location": f"Hall{NUL}"}, "location"),
        ({"content": f"{NUL}"}, "content"),
        ({"url": f"https://example.com/{NUL}"}, "url"),
        ({"image": "https://example.com/\x07.png"}, "image"),
        ({"timezone": f"Europe/Berlin{NUL}"}, "timezone"),
        ({"name": "Game\x1bnight"}, "name"),  # ESC
        ({"name": "Game\x0bnight"}, "name"),  # vertical tab: not a line break we keep
        ({"name": "Game\x85night"}, "name"),  # C1 NEL
        ({"description": "a\x7fb"}, "description"),  # DEL
        ({"description": "a\x0cb"}, "description"),  # form feed
        ({"content": "\ud800"}, "content"),  # JSON's "\ud800": cannot be encoded, by either database
        ({"location": "a\x1fb"}, "location"),
        ({"url": "https://example.com/a\nb"}, "url"),
        ({"notifications_interval": (f"pt15m{NUL}",)}, "notifications_interval"),
        ({"notifications_channels": (f"discord_public{NUL}",)}, "notifications_channels"),
        # a name must show something
        ({"name": "\u200b\u200d\ufeff\u2060"}, "name"),  # zero-width space, joiner, BOM, word joiner
        ({"name": "\u0301\u0308\u20dd"}, "name"),  # combining marks alone
        ({"name": "\u3164 \u115f\u2800"}, "name"),  # Hangul fillers and the blank Braille pattern
        ({"name": "\u200e\u202e\u00ad"}, "name"),  # bidi marks and a soft hyphen
    ],
)
def test_every_field_is_bounded(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidField) as caught:
        dataclasses.replace(EVENT, **changes).validated()
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"name": f"a{NUL}b"}, "name", "contains a control character (U+0000)"),
        ({"description": "a\x1bb"}, "description", "contains a control character (U+001B)"),
        ({"location": "\ud83d"}, "location", "contains an unpaired surrogate (U+D83D)"),
        ({"name": "\u200b"}, "name", "must contain a visible character"),
        ({"ends": utc(8999, 12, 31, 23), "recurrence": WEEKLY}, "ends", "must be at most 366 days after the start"),
        (
            {"recurrence": Recurrence("DAILY", by_month=(2,), by_month_day=(30,))},
            "repeat",
            "this rule never happens in the 5 years after its start",
        ),
        (
            {"recurrence": Recurrence("WEEKLY", until=utc(2200, 1, 1))},
            "until",
            "must be at most 100 years after the start",
        ),
    ],
)
def test_refusals_say_why(changes: dict[str, Any], field: str, reason: str) -> None:
    with pytest.raises(InvalidField) as caught:
        dataclasses.replace(EVENT, **changes).validated()
    assert (caught.value.field, caught.value.reason) == (field, reason)


def test_a_rule_that_never_happens_is_refused_at_once() -> None:
    event = dataclasses.replace(
        EVENT, timezone="Europe/Berlin", recurrence=parse_rrule("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30")
    )
    began = perf_counter()
    with pytest.raises(InvalidField):
        event.validated()
    assert perf_counter() - began < 0.5  # about 3 s before: dateutil walked to the year 9999


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"ends": STARTS + timedelta(days=366)}, {"ends": STARTS + timedelta(days=366)}),
        (
            {"registration_deadline": STARTS - timedelta(days=366)},
            {"registration_deadline": STARTS - timedelta(days=366)},
        ),
        ({"capacity": 100_000}, {"capacity": 100_000}),
        ({"recurrence": Recurrence("WEEKLY", until=STARTS + timedelta(days=36525))}, {"repeats": True}),
        # multi-line text keeps its tabs and line breaks; a one-line field makes them spaces
        ({"description": "Bring:\r\n\t- dice\n- snacks"}, {"description": "Bring:\r\n\t- dice\n- snacks"}),
        ({"content": "a\n\nb"}, {"content": "a\n\nb"}),
        ({"location": " Hall 3\n Main St.\t5 "}, {"location": "Hall 3 Main St. 5"}),
        ({"name": "Game\tnight\r\n"}, {"name": "Game night"}),
        # visible characters beside invisible ones, letters with combining marks, emoji, other scripts
        ({"name": "\u200bGame\u200d night"}, {"name": "\u200bGame\u200d night"}),
        ({"name": "Cafe\u0301"}, {"name": "Cafe\u0301"}),
        ({"name": "🎲"}, {"name": "🎲"}),
        ({"name": "👨\u200d👩\u200d👧"}, {"name": "👨\u200d👩\u200d👧"}),
        ({"name": "ゲームの夜"}, {"name": "ゲームの夜"}),
        ({"name": "ليلة الألعاب"}, {"name": "ليلة الألعاب"}),
    ],
)
def test_values_at_the_bounds_are_kept(changes: dict[str, Any], expected: dict[str, Any]) -> None:
    event = dataclasses.replace(EVENT, **changes).validated()
    assert {name: getattr(event, name) for name in expected} == expected
    assert event.validated() == event


def test_an_all_day_event_may_last_366_days() -> None:
    event = dataclasses.replace(
        EVENT, all_day=True, timezone="Europe/Berlin", starts=berlin(2028, 1, 1), ends=berlin(2028, 12, 31, 12)
    ).validated()  # 2028 is a leap year: 1 January to 31 December inclusive is 366 days
    assert (event.starts, event.ends) == (utc(2027, 12, 31, 23), utc(2028, 12, 31, 23))


# ---- calendars, occurrence changes and settings: the same text rules


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": f"Raids{NUL}"}, "name"),
        ({"name": "\u200b\ufeff"}, "name"),
        ({"description": f"{NUL}"}, "description"),
        ({"description": "\x1b[31mred"}, "description"),
    ],
)
def test_calendar_text_is_checked(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidField) as caught:
        Calendar(guild_id=1, **{"name": "General", **changes}).validated()
    assert caught.value.field == field


def test_a_calendar_description_keeps_its_lines() -> None:
    assert Calendar(guild_id=1, name="General", description="a\nb\tc").validated().description == "a\nb\tc"


CHANGE = OccurrenceChange(guild_id=1, event_id=1, occurrence=STARTS)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": f"Boss{NUL}"}, "name"),
        ({"name": "\u2060"}, "name"),
        ({"description": f"{NUL}"}, "description"),
        ({"location": f"Cave{NUL}"}, "location"),
        ({"starts": STARTS, "ends": STARTS + timedelta(days=367)}, "ends"),
        ({"ends": STARTS + timedelta(days=367)}, "ends"),  # an end alone counts from the occurrence
        ({"ends": STARTS - timedelta(hours=1)}, "ends"),
        ({"starts": utc(9500, 1, 1)}, "starts"),
        ({"occurrence": datetime(2026, 1, 1)}, "occurrence"),  # noqa: DTZ001
    ],
)
def test_occurrence_changes_are_bounded(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidField) as caught:
        dataclasses.replace(CHANGE, **changes).validated()
    assert caught.value.field == field


def test_an_occurrence_change_is_cleaned_like_its_event() -> None:
    change = dataclasses.replace(CHANGE, name=" Boss\nnight ", location="Cave\n2", description=" a\nb ").validated()
    assert (change.name, change.location, change.description) == ("Boss night", "Cave 2", "a\nb")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"timezone": f"UTC{NUL}"}, "timezone"),
        ({"date_order": f"DMY{NUL}"}, "date_order"),
        ({"all_day_time": f"09:00{NUL}"}, "all_day_time"),
        ({"default_reminders": (f"pt15m{NUL}",)}, "reminders"),
        ({"default_channels": f"both{NUL}"}, "channels"),
    ],
)
def test_settings_refuse_control_characters(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidField) as caught:
        GuildSettings(guild_id=1, **changes).validated()
    assert (caught.value.field, caught.value.reason) == (field, "contains a control character (U+0000)")
    with pytest.raises(InvalidField):
        UserSettings(user_id=1, timezone=f"UTC{NUL}").validated()
