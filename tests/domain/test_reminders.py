"""Reminder intervals, due times (RFC 5545: days nominal, hours exact), nonces and backoff."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.errors import InvalidField
from bot.domain.reminders import (
    NONCE_LENGTH,
    Interval,
    ReminderPrefs,
    delivery_key,
    delivery_nonce,
    due_time,
    parse_interval,
    plan,
    private_slots,
    retry_delay,
)


@pytest.mark.parametrize(
    ("text", "days", "seconds", "code"),
    [
        ("pt0m", 0, 0, "pt0m"),
        ("PT15M", 0, 900, "pt15m"),
        ("pt1h", 0, 3600, "pt1h"),
        ("p1d", 1, 0, "p1d"),
        ("P1W", 7, 0, "p1w"),
        ("p7d", 7, 0, "p1w"),
        ("PT90M", 0, 5400, "pt1h30m"),
        ("P1DT12H", 1, 43200, "p1dt12h"),
        ("pt30s", 0, 30, "pt30s"),
        ("P4W", 28, 0, "p4w"),
        ("P2W3D", 17, 0, "p17d"),
    ],
)
def test_intervals_parse_to_nominal_days_and_exact_seconds(text, days, seconds, code):
    interval = parse_interval(text)
    assert interval == Interval(days, seconds)
    assert interval.code == code
    assert parse_interval(interval.code) == interval  # the canonical code reads back the same


@pytest.mark.parametrize(
    "text", ["", "p", "pt", "p1dt", "15x", "p1m", "P1Y", "p5w", "p29d", "pt673h", "-pt5m", "29 days"]
)
def test_bad_or_too_long_intervals_are_refused(text):
    with pytest.raises(InvalidField) as caught:
        parse_interval(text, "notifications_interval")
    assert caught.value.field == "notifications_interval"


BERLIN, NEW_YORK, LORD_HOWE = ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York"), ZoneInfo("Australia/Lord_Howe")


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "zone", "code", "due"),
    [
        # exact durations: plain subtraction, whatever the zone does
        (utc(2026, 3, 29, 1, 30), BERLIN, "pt1h", utc(2026, 3, 29, 0, 30)),  # across the spring-forward hour
        (utc(2026, 11, 1, 6, 30), NEW_YORK, "pt1h", utc(2026, 11, 1, 5, 30)),  # across the fall-back hour
        (utc(2026, 6, 1, 18, 0), BERLIN, "pt0m", utc(2026, 6, 1, 18, 0)),
        # nominal days: the same wall-clock time in the event's zone
        (utc(2026, 3, 29, 16, 0), BERLIN, "p1d", utc(2026, 3, 28, 17, 0)),  # 18:00 CEST ← 18:00 CET
        (utc(2026, 10, 25, 17, 0), BERLIN, "p1d", utc(2026, 10, 24, 16, 0)),  # 18:00 CET ← 18:00 CEST
        (utc(2026, 3, 12, 22, 0), NEW_YORK, "p1w", utc(2026, 3, 5, 23, 0)),  # 18:00 EDT ← 18:00 EST
        (utc(2026, 4, 5, 8, 0), LORD_HOWE, "p1d", utc(2026, 4, 4, 7, 30)),  # a 30-minute shift
        # a day back lands in a spring-forward gap: moved forward by the gap (RFC 5545)
        (utc(2026, 3, 9, 6, 30), NEW_YORK, "p1d", utc(2026, 3, 8, 7, 30)),  # 02:30 → 03:30 EDT
        # mixed: a nominal day, then exact hours
        (utc(2026, 3, 29, 16, 0), BERLIN, "p1dt2h", utc(2026, 3, 28, 15, 0)),
    ],
)
def test_due_times(start, zone, code, due):
    assert due_time(start, parse_interval(code), zone) == due
    assert due <= start


def test_planning_covers_each_occurrence_interval_and_channel():
    start = utc(2026, 6, 1, 18, 0)
    planned = plan(
        occurrences=[(0, start), (7, start + timedelta(weeks=1))],
        intervals=("pt0m", "p1d"),
        channels=("discord_public", "mail", "discord_private"),
        enabled=True,
        zone=BERLIN,
    )
    assert {(p.occurrence, p.interval, p.channel) for p in planned} == {
        (key, interval, channel) for key in (0, 7) for interval in ("pt0m", "p1d")
        for channel in ("discord_public", "mail", "discord_private")
    }  # fmt: skip
    assert {p.due for p in planned if p.occurrence == 0} == {start, start - timedelta(days=1)}
    assert plan(occurrences=[(0, start)], intervals=("pt0m",), channels=("discord_public",), enabled=False,
                zone=BERLIN) == []  # fmt: skip


def test_members_own_slots_are_planned_once_besides_the_events():
    start = utc(2026, 6, 1, 18, 0)
    planned = plan(
        occurrences=[(0, start)], intervals=("pt15m",), channels=("discord_public", "discord_private"), enabled=True,
        zone=BERLIN, personal=[("pt1h", "discord_private"), ("pt15m", "discord_private"), ("pt1h", "mail")],
    )  # fmt: skip
    assert sorted((p.interval, p.channel) for p in planned) == [
        ("pt15m", "discord_private"), ("pt15m", "discord_public"), ("pt1h", "discord_private"), ("pt1h", "mail"),
    ]  # fmt: skip


EVENT = (("pt15m", "p1d"), ("discord_public", "discord_private", "broadcast"), True)
DM, MAIL = "discord_private", "mail"


@pytest.mark.parametrize(
    ("event", "prefs", "slots"),
    [
        (EVENT, None, {("pt15m", DM), ("p1d", DM)}),  # the event's own private ones, no public ones
        (EVENT, ReminderPrefs(1, intervals=("pt1h",)), {("pt1h", DM)}),  # own intervals, the event's channels
        (EVENT, ReminderPrefs(1, channels=(MAIL,)), {("pt15m", MAIL), ("p1d", MAIL)}),  # own channels
        (EVENT, ReminderPrefs(1, intervals=("pt1h",), channels=(DM, MAIL)), {("pt1h", DM), ("pt1h", MAIL)}),
        (EVENT, ReminderPrefs(1, off=True), set()),
        ((("pt15m",), ("discord_public",), True), ReminderPrefs(1, intervals=("pt1h",)), set()),  # no private ones
        ((("pt15m",), (DM,), False), ReminderPrefs(1, intervals=("pt1h",)), set()),  # reminders off
        (((), (DM,), True), ReminderPrefs(1, intervals=("pt1h",)), set()),  # no reminders
    ],
)
def test_private_slots(event, prefs, slots):
    assert private_slots(*event, prefs) == slots


def test_nonces_are_short_stable_and_distinct():
    start = utc(2026, 6, 1, 18, 0)
    keys = {delivery_key(e, start, i, c, t) for e in range(50) for i in ("pt0m", "pt15m")
            for c in ("discord_public", "discord_private") for t in (0, 7)}  # fmt: skip
    nonces = {delivery_nonce(k) for k in keys}
    assert len(nonces) == len(keys)
    assert all(len(n) == NONCE_LENGTH and n.isalnum() for n in nonces)
    key = delivery_key(1, start, "pt15m", "discord_public", 0)
    assert delivery_nonce(key) == delivery_nonce(key)


@pytest.mark.parametrize(("attempts", "seconds"), [(1, 5), (2, 10), (3, 20), (6, 160), (7, 300), (30, 300)])
def test_backoff_doubles_up_to_five_minutes(attempts, seconds):
    assert retry_delay(attempts) == timedelta(seconds=seconds)
