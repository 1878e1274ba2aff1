"""Differential test of feed import: real-world calendars nobody here wrote (the exports shipped inside the
`icalendar` and `recurring_ical_events` packages: Google, Outlook/Exchange, Nextcloud's SabreDAV, Thunderbird,
DAVx5...) are served over HTTP, polled and imported by calbot, and the occurrences calbot then lists (its own
recurrence engine, its own store) are compared with those recurring-ical-events computes from the same file.

Compared: every occurrence starting inside the window, as (instant, or date for all-day events; summary). The
summary as calbot keeps text: runs of spaces as one, trimmed, "(untitled)" for none. recurring-ical-events lists
STATUS:CANCELLED events too; calbot leaves them out by design, so they are dropped from its side."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
import recurring_ical_events

from bot.domain.feeds import UNTITLED
from bot.domain.models import GuildSettings
from bot.reminders.feeds import FeedPoller
from bot.storage import Store, open_store
from tests.feeds import ICALENDAR_CALENDARS, OPEN, RECURRING_CALENDARS, FeedServer

GUILD_ZONE = "UTC"
WINDOW = timedelta(days=800)

CALENDARS = {
    # Google Calendar exports
    "google-dst": RECURRING_CALENDARS / "daylight_saving_time.ics",
    "google-only-changed-occurrences": RECURRING_CALENDARS / "issue_173_only_modifications_error.ics",
    "google-moved": RECURRING_CALENDARS / "issue_151_macos_linux_difference.ics",
    # Microsoft Exchange / Outlook: Windows zone names, all-day series with RECURRENCE-IDs at midnight
    "exchange-windows-zone": RECURRING_CALENDARS / "issue_27_t1.ics",
    "exchange-exdate": RECURRING_CALENDARS / "issue_27_t2.ics",
    "exchange-all-day-moved": RECURRING_CALENDARS / "issue_28_rrule_with_UTC_endinginZ.ics",
    "outlook-holidays": RECURRING_CALENDARS / "Germany.ics",
    # Nextcloud (SabreDAV)
    "nextcloud-weekly-with-an-exception": RECURRING_CALENDARS / "each_week_but_one_deleted.ics",
    "nextcloud-weekly-two-exceptions": RECURRING_CALENDARS / "each_week_but_two_deleted.ics",
    "nextcloud-one-edited": RECURRING_CALENDARS / "three_events_one_edited.ics",
    "nextcloud-all-day-daily": RECURRING_CALENDARS / "one_day_event_repeat_every_day.ics",
    "nextcloud-duration-edited": RECURRING_CALENDARS / "duration_edited.ics",
    # Thunderbird
    "thunderbird-moved": RECURRING_CALENDARS / "recurring_events_moved.ics",
    "thunderbird-cancelled": RECURRING_CALENDARS / "issue_18_cancel_status.ics",
    "thunderbird-sequence": RECURRING_CALENDARS / "issue_223_thunderbird.ics",
    # DAVx5 and others: EXDATE, RDATE (also PERIODs), a VTIMEZONE of its author's own
    "davx5-exdate": RECURRING_CALENDARS / "issue_20_exdate_ignored.ics",
    "davx5-rdate-on-until": RECURRING_CALENDARS / "rdate_falls_on_rrule_until.ics",
    "rdate": RECURRING_CALENDARS / "rdate.ics",
    "rdate-only": RECURRING_CALENDARS / "rdate_hackerpublicradio.ics",
    "rdate-periods": RECURRING_CALENDARS / "issue_113_period_in_rdate.ics",
    "moved-event": RECURRING_CALENDARS / "issue_62_moved_event.ics",
    "custom-vtimezone": ICALENDAR_CALENDARS / "issue_466_respect_unique_timezone.ics",
    "vendor-tzids": ICALENDAR_CALENDARS / "issue_466_convert_tzid_with_slash.ics",
    "x-location": ICALENDAR_CALENDARS / "x_location.ics",
}


@pytest.fixture(scope="module")
def server() -> Iterator[FeedServer]:
    running = FeedServer().start()
    yield running
    running.stop()


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await open_store(f"sqlite:///{tmp_path}/oracle.sqlite3", clock=lambda: datetime(2000, 1, 1, tzinfo=UTC))
    yield opened
    await opened.close()


async def settings(guild_id: int) -> GuildSettings:
    return GuildSettings(guild_id, timezone=GUILD_ZONE)


def _key(value: datetime | date, zone: str) -> datetime | date:
    if not isinstance(value, datetime):
        return value
    return (value if value.tzinfo else value.replace(tzinfo=ZoneInfo(zone))).astimezone(UTC)


def _name(text: str) -> str:
    return " ".join(text.split()) or UNTITLED


def expected(body: bytes, start: datetime, end: datetime) -> list[tuple]:
    calendar = icalendar.Calendar.from_ical(body)
    zone = str(calendar.get("X-WR-TIMEZONE", GUILD_ZONE))
    found = []
    for component in recurring_ical_events.of(calendar).between(start, end):
        if str(component.get("STATUS", "")).upper() == "CANCELLED":
            continue
        found.append((_key(component["DTSTART"].dt, zone), _name(str(component.get("SUMMARY", "")))))
    return found


def first_start(body: bytes) -> datetime:
    calendar = icalendar.Calendar.from_ical(body)
    zone = str(calendar.get("X-WR-TIMEZONE", GUILD_ZONE))
    starts = []
    for vevent in calendar.walk("VEVENT"):
        value = _key(vevent["DTSTART"].dt, zone)
        starts.append(value if isinstance(value, datetime) else datetime.combine(value, datetime.min.time(), UTC))
    return min(starts)


def inside(items: list[tuple], start: datetime, end: datetime) -> list[tuple]:
    def instant(value: datetime | date) -> datetime:
        return value if isinstance(value, datetime) else datetime.combine(value, datetime.min.time(), UTC)

    # A day's margin at each edge: an all-day occurrence counts from midnight wherever its zone puts it.
    return sorted((i for i in items if start + timedelta(days=1) <= instant(i[0]) < end - timedelta(days=1)), key=str)


@pytest.fixture(params=CALENDARS.values(), ids=CALENDARS.keys())
def feed(request: pytest.FixtureRequest) -> tuple[str, bytes]:
    return request.param.name, request.param.read_bytes()


@pytest.mark.filterwarnings("ignore::UserWarning")  # icalendar's note on each vendor TZID it guesses
async def test_calbot_lists_the_occurrences_recurring_ical_events_computes(store, server, feed):
    name, body = feed
    url = server.serve(f"/{name}", body)
    calendar = await store.calendars.get_or_create(1, "Feed")
    await store.subscriptions.subscribe(1, calendar.id, url, timedelta(minutes=15), created_by=None)
    poller = FeedPoller(store, OPEN, clock=lambda: datetime(2000, 1, 1, tzinfo=UTC), settings=settings)
    try:
        [result] = await poller.poll_due()
    finally:
        await poller.stop()
    assert result.outcome == "imported", result
    start = first_start(body) - timedelta(days=1)
    end = start + WINDOW
    listed = await store.events.occurrences(1, start, end, calendar_id=calendar.id)
    ours = [
        (o.starts.astimezone(ZoneInfo(o.event.timezone)).date() if o.event.all_day else o.starts, o.name)
        for o in listed
    ]
    theirs = inside(expected(body, start, end), start, end)
    assert theirs, "a calendar with no occurrence in the window compares nothing"
    assert inside(ours, start, end) == theirs
