"""The rules of the Events tab mirror (bot/domain/native.py): which series Discord's recurrence_rule can say
(checked against dateutil's expansion of Discord's rule, an independent oracle), the body sent within
Discord's limits, the marker, and the nearest-first cap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.models import Event, OccurrenceChange
from bot.domain.native import (
    DESCRIPTION_MAX,
    EXTERNAL,
    VOICE,
    Mirror,
    Native,
    differs,
    discord_rule,
    discord_starts,
    enters,
    marker,
    mirrors,
    named_channel,
    nearest,
    read_marker,
)
from bot.domain.occurrences import series_starts
from bot.domain.recurrence import Recurrence

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)  # a Thursday
START = datetime(2026, 1, 6, 18, tzinfo=UTC)  # a Tuesday


def series(rule: Recurrence, zone: str = "UTC", starts: datetime = START) -> Event:
    return Event(
        guild_id=1, calendar_id=1, name="Raid", starts=starts, timezone=zone, recurrence=rule, id=7
    ).validated()


@pytest.mark.parametrize(
    ("rule", "zone", "wanted"),
    [
        (Recurrence("WEEKLY"), "UTC", {"frequency": 2, "interval": 1, "by_weekday": [1]}),
        (Recurrence("WEEKLY", interval=2, by_day=("TU",)), "UTC", {"frequency": 2, "interval": 2, "by_weekday": [1]}),
        (Recurrence("DAILY"), "UTC", {"frequency": 3, "interval": 1}),
        (Recurrence("DAILY", by_day=("MO", "TU", "WE", "TH", "FR")), "UTC",
         {"frequency": 3, "interval": 1, "by_weekday": [0, 1, 2, 3, 4]}),
        (Recurrence("MONTHLY", by_day=("1TU",)), "UTC",
         {"frequency": 1, "interval": 1, "by_n_weekday": [{"n": 1, "day": 1}]}),
        (Recurrence("YEARLY"), "UTC", {"frequency": 0, "interval": 1, "by_month": [1], "by_month_day": [6]}),
        # Tokyo has no daylight saving: its wall time is a fixed UTC time, so Discord repeats it right.
        (Recurrence("WEEKLY"), "Asia/Tokyo", {"frequency": 2, "interval": 1, "by_weekday": [1]}),
    ],
)  # fmt: skip
def test_rules_discord_can_say(rule, zone, wanted):
    event = series(rule, zone)
    assert discord_rule(event, [], NOW) == wanted
    ours = series_starts(event, after=START, before=START + timedelta(days=400), limit=60)
    assert discord_starts(wanted, ours[0], len(ours)) == ours  # dateutil on Discord's rule, in UTC


@pytest.mark.parametrize(
    ("rule", "zone", "why"),
    [
        (Recurrence("WEEKLY", by_day=("TU", "TH")), "UTC", "two weekdays a week"),
        (Recurrence("WEEKLY", interval=3), "UTC", "every third week"),
        (Recurrence("DAILY", interval=2), "UTC", "every other day"),
        (Recurrence("DAILY", by_day=("MO", "WE")), "UTC", "a set of days Discord does not offer"),
        (Recurrence("MONTHLY", by_month_day=(6,)), "UTC", "a day of the month"),
        (Recurrence("MONTHLY", by_day=("-1FR",)), "UTC", "the last Friday"),
        (Recurrence("WEEKLY", count=5), "UTC", "a count"),
        (Recurrence("WEEKLY", until=datetime(2026, 6, 1, tzinfo=UTC)), "UTC", "an end"),
        (Recurrence("MONTHLY", by_day=("TU",), by_set_position=(2,)), "UTC", "a BYSETPOS"),
        (Recurrence("WEEKLY"), "Europe/Berlin", "18:00 Berlin moves in UTC at daylight saving"),
    ],
)  # fmt: skip
def test_rules_discord_cannot_say_are_mirrored_occurrence_by_occurrence(rule, zone, why):
    event = series(rule, zone)
    assert discord_rule(event, [], NOW) is None, why
    found = mirrors(event, [], NOW, timedelta(days=40))
    assert found and all(m.rule is None and m.key == int(m.starts.timestamp()) for m in found)
    assert all(NOW < m.starts < NOW + timedelta(days=40) for m in found)


def test_the_window_rolls_on_when_the_next_occurrence_comes_into_it():
    twice = series(Recurrence("WEEKLY", by_day=("TU", "TH")))  # Tuesdays and Thursdays at 18:00
    window = timedelta(days=7)
    assert [m.starts for m in mirrors(twice, [], NOW, window)] == [START]  # within Thursday 1 to 8, 12:00
    # Thursday 8 January 18:00 comes into the window on Thursday 1 January just after 18:00.
    later = enters(twice, [], NOW, window)
    assert later == datetime(2026, 1, 1, 18, 0, 1, tzinfo=UTC)
    assert [m.starts for m in mirrors(twice, [], later, window)] == [START, START + timedelta(days=2)]
    assert enters(series(Recurrence("WEEKLY")), [], NOW, window) is None  # Discord's rule repeats it itself


def test_a_series_with_a_cancelled_occurrence_is_mirrored_without_it():
    event = series(Recurrence("WEEKLY"))
    cancelled = OccurrenceChange(guild_id=1, event_id=7, occurrence=START + timedelta(days=7), cancelled=True)
    assert discord_rule(event, [cancelled], NOW) is None  # Discord's rule cannot skip one
    found = mirrors(event, [cancelled], NOW, timedelta(days=21))
    assert [m.starts for m in found] == [START, START + timedelta(days=14)]


def test_a_one_off_event_without_an_end_gets_the_default_length_and_one_over_is_not_mirrored():
    event = Event(guild_id=1, calendar_id=1, name="Raid", starts=START, id=3)
    [mirror] = mirrors(event, [], NOW, timedelta(days=7))
    assert (mirror.key, mirror.ends - mirror.starts) == (0, timedelta(hours=1))
    assert mirrors(event, [], START + timedelta(hours=2), timedelta(days=7)) == []


def test_the_body_keeps_discords_limits_and_carries_the_marker():
    mirror = Mirror(event_id=12, key=0, calendar_id=1, starts=START, ends=START + timedelta(hours=2), name="n" * 150,
                    description="d" * 5000, location="l" * 300)  # fmt: skip
    body = mirror.payload(None, "https://discord.com/channels/1/2/3")
    assert len(body["name"]) == 100 and len(body["description"]) <= DESCRIPTION_MAX
    assert body["description"].endswith("https://discord.com/channels/1/2/3\ncalbot event #12")
    assert body["entity_type"] == EXTERNAL and len(body["entity_metadata"]["location"]) == 100
    assert body["scheduled_end_time"] == "2026-01-06T20:00:00+00:00"
    assert read_marker(body["description"]) == (12, 0)
    bare = Mirror(12, 0, 1, START, START + timedelta(hours=1), "n", "  ", "l").payload(None, None)
    assert bare["description"] == "calbot event #12"  # no blank lines Discord would trim, so no edit each pass
    voice = mirror.payload((VOICE, 555), None)
    assert (voice["entity_type"], voice["channel_id"], voice["entity_metadata"]) == (VOICE, "555", None)
    native = Native.of({**body, "id": "9", "creator_id": "1", "status": 1})
    assert not differs(native, body)
    assert differs(Native.of({**body, "id": "9", "name": "renamed in the tab"}), body)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        (marker(5, 0), (5, 0)),
        (marker(5, 1767722400), (5, 1767722400)),
        ("quoting calbot event #1 then\ncalbot event #2/99", (2, 99)),
        ("made by a member", None),
        (None, None),
    ],
)
def test_markers(text, found):
    assert read_marker(text) == found


def test_named_channel():
    assert named_channel("<#123456789012345678>") == 123456789012345678
    assert named_channel("Voice <#123456789012345678>") is None
    assert named_channel("The park") is None


def test_nearest_first_and_what_was_left_out_per_calendar():
    def at(hours: int, calendar: int) -> Mirror:
        starts = NOW + timedelta(hours=hours)
        return Mirror(hours, 0, calendar, starts, starts + timedelta(hours=1), "e", "", "x")

    kept, left = nearest([at(5, 1), at(1, 2), at(3, 1), at(4, 2), at(2, 1)], 3)
    assert [m.event_id for m in kept] == [1, 2, 3]
    assert left == {2: 1, 1: 1}
    assert nearest([at(1, 1)], -2) == ([], {1: 1})  # members' own events took every place
