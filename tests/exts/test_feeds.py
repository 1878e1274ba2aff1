"""Calendar apps: /calendar feed gives the subscription address, /event export attaches an .ics file, and
each card carries an "Add to Google Calendar" link. The iCalendar itself is checked in tests/api/test_ics.py."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import icalendar
import pytest

from bot.config import load_config
from bot.domain.ical import GOOGLE_URL_MAX, filename, google_calendar_url
from bot.domain.models import Event
from bot.domain.recurrence import Recurrence
from bot.exts.common import NotManager
from tests.conftest import QUIET_SYNC, write_config


@pytest.fixture
def config(tmp_path):
    body = QUIET_SYNC + 'public_url = "https://cal.example.org"\n'
    return load_config(str(write_config(tmp_path, body)), environ={"DISCORD_TOKEN": "t"})


def address(text: str) -> str:
    match = re.search(r"<(https://cal\.example\.org/ics/[A-Za-z0-9_-]+\.ics)>", text)
    assert match, text
    return match.group(1)


async def test_feed_gives_a_secret_address_that_stays_until_reset(world):
    await world.admin.slash(world.general, "calendar create", name="Raids")
    first = await world.admin.slash(world.general, "calendar feed", calendar="Raids")
    assert first.ephemeral
    url = address(first.response.content)
    assert "Anyone with it can read" in first.response.content
    assert "enabled" in first.response.content  # this bot does not serve the API: it says how to
    again = await world.admin.slash(world.general, "calendar feed", calendar="Raids")
    assert address(again.response.content) == url
    reset = await world.admin.slash(world.general, "calendar feed", calendar="Raids", reset=True)
    assert address(reset.response.content) != url and "no longer work" in reset.response.content
    secret = address(reset.response.content).rsplit("/", 1)[1].removesuffix(".ics")
    assert f"The same calendar as a web page: <https://cal.example.org/calendars/{secret}>" in reset.response.content
    calendar = await world.bot.store.calendars.find(world.guild.id, "Raids")
    assert await world.bot.store.calendars.by_feed_secret(secret) == calendar


async def test_only_managers_get_the_feed_address(world):
    await world.admin.slash(world.general, "calendar create", name="Raids")
    res = await world.alice.slash(world.general, "calendar feed", calendar="Raids")
    world.refused(res, NotManager, "Manage Server")


async def test_export_attaches_the_event_as_an_ics_file(world):
    await world.admin.slash(world.general, "event create", name="Raid night", start="2026-01-10 18:00")
    res = await world.alice.slash(world.general, "event export", event="Raid night")
    assert res.ephemeral
    [attachment] = res.response.attachments
    assert attachment.filename == "raid-night.ics"
    parsed = icalendar.Calendar.from_ical(await attachment.read())
    [vevent] = parsed.walk("VEVENT")
    assert str(vevent["summary"]) == "Raid night" and str(vevent["uid"]) == "event-1@calbot"
    assert vevent.decoded("dtstart") == datetime(2026, 1, 10, 18, tzinfo=UTC)


async def test_the_card_links_to_google_calendar(world):
    await world.admin.slash(world.general, "event create", name="Raid night", start="2026-01-10 18:00", duration="2h")
    card = world.general.last_message.embeds[0]
    [field] = [f for f in card.fields if f.name == "Add to your calendar"]
    url = re.search(r"\[Add to Google Calendar\]\((\S+)\)", field.value).group(1)
    query = parse_qs(urlsplit(url).query)
    assert query["text"] == ["Raid night"] and query["dates"] == ["20260110T180000Z/20260110T200000Z"]
    deleted = await world.admin.slash(world.general, "event delete", event="Raid night")
    assert deleted.ephemeral
    cancelled = world.general.history()[-1].embeds[0]
    assert all(f.name != "Add to your calendar" for f in cancelled.fields)


BERLIN = ZoneInfo("Europe/Berlin")


def event(**fields) -> Event:
    base = dict(guild_id=1, calendar_id=1, id=7, name="Raid", starts=datetime(2026, 3, 20, 18, tzinfo=BERLIN))
    return Event(**{**base, **fields}).validated()


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, {"dates": ["20260320T170000Z/20260320T170000Z"], "ctz": ["UTC"]}),
        (
            {"timezone": "Europe/Berlin", "ends": datetime(2026, 3, 20, 20, tzinfo=BERLIN), "location": "Hall"},
            {"dates": ["20260320T170000Z/20260320T190000Z"], "ctz": ["Europe/Berlin"], "location": ["Hall"]},
        ),
        (
            {"timezone": "Europe/Berlin", "all_day": True, "ends": datetime(2026, 3, 23, tzinfo=BERLIN)},
            {"dates": ["20260320/20260323"]},
        ),
        (
            {"recurrence": Recurrence("WEEKLY", count=4, by_day=("FR",))},
            {"recur": ["RRULE:FREQ=WEEKLY;COUNT=4;BYDAY=FR"]},
        ),
        (
            {"timezone": "Europe/Berlin", "all_day": True,
             "recurrence": Recurrence("YEARLY", until=datetime(2030, 3, 21, tzinfo=UTC))},
            {"recur": ["RRULE:FREQ=YEARLY;UNTIL=20300321"]},  # a DATE, as an all-day DTSTART needs
        ),
        ({"description": "Bring snacks", "url": "https://example.org"},
         {"details": ["Bring snacks\n\nhttps://example.org"]}),
    ],
)  # fmt: skip
def test_google_calendar_links(fields, expected):
    url = google_calendar_url(event(**fields))
    assert url.startswith("https://calendar.google.com/calendar/render?action=TEMPLATE&")
    query = parse_qs(urlsplit(url).query)
    assert query["text"] == ["Raid"]
    for key, value in expected.items():
        assert query[key] == value, key


def test_a_long_event_still_gives_a_short_enough_link():
    url = google_calendar_url(event(name="N" * 100, description="d" * 4000, location="l" * 1024))
    assert len(url) <= GOOGLE_URL_MAX
    query = parse_qs(urlsplit(url).query)
    assert query["text"][0].startswith("N") and "dates" in query


@pytest.mark.parametrize(
    ("name", "expected"), [("Raid night", "raid-night.ics"), ("  ***  ", "event.ics"), ("Été 2026!", "été-2026.ics")]
)
def test_file_names(name, expected):
    assert filename(name) == expected
