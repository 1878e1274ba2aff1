"""The ICS feed, parsed back with `icalendar`: time zones with DST, RRULE, EXDATE, RECURRENCE-ID, all-day
dates, stable UIDs, and ETag / If-None-Match."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from dateutil.rrule import rrulestr

from bot.domain.models import Calendar, Event, OccurrenceChange
from bot.domain.recurrence import Recurrence
from tests.api.conftest import GUILD

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
async def feed(store):
    """A calendar with a weekly series across the spring DST change (one occurrence cancelled, one moved),
    a one-off event and an all-day event; and its feed path."""
    calendar = await store.calendars.create(Calendar(guild_id=GUILD, name="Raids", description="Weekly raids"))
    series = await store.events.create(
        Event(
            guild_id=GUILD, calendar_id=calendar.id, name="Raid night", timezone="Europe/Berlin",
            starts=datetime(2026, 3, 14, 18, tzinfo=BERLIN), ends=datetime(2026, 3, 14, 21, tzinfo=BERLIN),
            recurrence=Recurrence("WEEKLY", count=6), location="Discord", url="https://example.org/raids",
        )
    )  # fmt: skip
    await store.changes.save(
        OccurrenceChange(guild_id=GUILD, event_id=series.id, occurrence=datetime(2026, 3, 21, 17, tzinfo=UTC),
                         cancelled=True)
    )  # fmt: skip
    await store.changes.save(
        OccurrenceChange(guild_id=GUILD, event_id=series.id, occurrence=datetime(2026, 4, 4, 16, tzinfo=UTC),
                         starts=datetime(2026, 4, 5, 17, tzinfo=UTC), name="Raid night (Sunday)")
    )  # fmt: skip
    once = await store.events.create(
        Event(guild_id=GUILD, calendar_id=calendar.id, name="Meeting", starts=datetime(2026, 5, 1, 9, tzinfo=UTC))
    )
    camp = await store.events.create(
        Event(guild_id=GUILD, calendar_id=calendar.id, name="Camp", timezone="Europe/Berlin", all_day=True,
              starts=datetime(2026, 7, 10, tzinfo=BERLIN), ends=datetime(2026, 7, 13, tzinfo=BERLIN))
    )  # fmt: skip
    other = await store.calendars.create(Calendar(guild_id=GUILD, name="Other"))
    await store.events.create(
        Event(guild_id=GUILD, calendar_id=other.id, name="Elsewhere", starts=datetime(2026, 5, 2, tzinfo=UTC))
    )
    secret = await store.calendars.feed_secret(GUILD, calendar.id)
    return f"/ics/{secret}.ics", series, once, camp


def parse(body: bytes) -> icalendar.Calendar:
    return icalendar.Calendar.from_ical(body)


async def test_the_feed_is_rfc_5545_with_time_zones_rules_exceptions_and_overrides(client, feed):
    path, series, _once, _camp = feed
    response = await client.get(path)  # no token: the secret is the credential
    assert response.status == 200
    assert response.content_type == "text/calendar" and response.charset == "utf-8"
    body = await response.read()
    assert body.startswith(b"BEGIN:VCALENDAR\r\n")
    calendar = parse(body)
    assert str(calendar["x-wr-calname"]) == "Raids" and str(calendar["version"]) == "2.0"
    assert [str(tz["tzid"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]
    events = calendar.walk("VEVENT")
    assert sorted(str(e["summary"]) for e in events) == ["Camp", "Meeting", "Raid night", "Raid night (Sunday)"]

    [main] = [e for e in events if str(e["summary"]) == "Raid night"]
    assert str(main["uid"]) == f"event-{series.id}@calbot"
    assert main["dtstart"].params["TZID"] == "Europe/Berlin"
    start = main.decoded("dtstart")
    assert start == datetime(2026, 3, 14, 18, tzinfo=BERLIN) and start.utcoffset() == timedelta(hours=1)
    assert main.decoded("dtend") == datetime(2026, 3, 14, 21, tzinfo=BERLIN)
    assert main["rrule"].to_ical() == b"FREQ=WEEKLY;COUNT=6"
    exdates = [d.dt for d in main["exdate"].dts]
    assert exdates == [datetime(2026, 3, 21, 18, tzinfo=BERLIN)]

    # Expanding the rule as a calendar app would: 18:00 Berlin each week, across the change on 29 March.
    rule = rrulestr(main["rrule"].to_ical().decode(), dtstart=start)
    occurrences = [o for o in rule if o not in exdates]
    assert [o.astimezone(UTC).hour for o in occurrences] == [17, 17, 16, 16, 16]
    assert all(o.astimezone(BERLIN).hour == 18 for o in occurrences)

    [moved] = [e for e in events if str(e["summary"]) == "Raid night (Sunday)"]
    assert str(moved["uid"]) == str(main["uid"])
    assert moved.decoded("recurrence-id") == datetime(2026, 4, 4, 18, tzinfo=BERLIN)
    assert moved.decoded("dtstart") == datetime(2026, 4, 5, 19, tzinfo=BERLIN)
    assert moved.decoded("dtend") == datetime(2026, 4, 5, 22, tzinfo=BERLIN)  # keeps the series' length
    assert str(moved["location"]) == "Discord"

    [camp_event] = [e for e in events if str(e["summary"]) == "Camp"]
    assert camp_event.decoded("dtstart") == date(2026, 7, 10)
    assert camp_event.decoded("dtend") == date(2026, 7, 13)  # RFC 5545: the day after the last
    assert camp_event["dtstart"].params.get("VALUE") == "DATE"

    [meeting] = [e for e in events if str(e["summary"]) == "Meeting"]
    assert meeting.decoded("dtstart") == datetime(2026, 5, 1, 9, tzinfo=UTC)
    assert "dtend" not in meeting and "rrule" not in meeting


async def test_uids_and_the_body_are_stable_and_an_etag_saves_polling(client, feed, store):
    path, series, *_ = feed
    first = await client.get(path)
    tag = first.headers["ETag"]
    again = await client.get(path)
    assert again.headers["ETag"] == tag and await again.read() == await first.read()
    unchanged = await client.get(path, headers={"If-None-Match": tag})
    assert unchanged.status == 304 and await unchanged.read() == b""
    assert (await client.get(path, headers={"If-None-Match": f'"other", W/{tag}'})).status == 304

    await store.events.update(Event(**{**_fields(series), "name": "Raid night!"}))
    changed = await client.get(path, headers={"If-None-Match": tag})
    assert changed.status == 200 and changed.headers["ETag"] != tag
    uids = {str(e["uid"]) for e in parse(await changed.read()).walk("VEVENT")}
    assert f"event-{series.id}@calbot" in uids


def _fields(event: Event) -> dict:
    return {name: getattr(event, name) for name in Event.__slots__}


async def test_an_unknown_or_reset_secret_is_404(client, feed, store):
    path, series, *_ = feed
    assert (await client.get("/ics/" + "x" * 43 + ".ics")).status == 404
    await store.calendars.feed_secret(GUILD, series.calendar_id, reset=True)
    response = await client.get(path)
    assert response.status == 404 and (await response.json())["message"] == "No such calendar feed."


async def test_an_empty_calendar_is_a_valid_feed(client, store):
    calendar = await store.calendars.create(Calendar(guild_id=GUILD, name="Empty"))
    secret = await store.calendars.feed_secret(GUILD, calendar.id)
    parsed = parse(await (await client.get(f"/ics/{secret}.ics")).read())
    assert parsed.walk("VEVENT") == [] and str(parsed["prodid"]).startswith("-//calbot")
