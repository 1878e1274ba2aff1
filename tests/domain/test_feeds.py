"""The pure rules of a subscribed feed, by tables: its address, its interval, when the next poll comes, and the
zones its TZIDs name. (Importing real feeds is tested end to end in tests/reminders/test_feeds.py and against
recurring-ical-events in tests/reminders/test_feed_oracle.py.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.errors import InvalidField
from bot.domain.feeds import (
    Defaults,
    InvalidFeed,
    feed_url,
    next_poll,
    parse_feed,
    poll_every,
    poll_interval,
    zone_name,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "url"),
    [
        ("webcal://p01-calendars.icloud.com/published/2/abc", "https://p01-calendars.icloud.com/published/2/abc"),
        ("WEBCALS://example.org/c.ics", "https://example.org/c.ics"),
        ("  https://calendar.google.com/calendar/ical/x/private-1/basic.ics ",
         "https://calendar.google.com/calendar/ical/x/private-1/basic.ics"),
        ("http://example.org:8080/c.ics", "http://example.org:8080/c.ics"),
    ],
)  # fmt: skip
def test_feed_addresses(text, url):
    assert feed_url(text) == url


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("ftp://example.org/c.ics", "https:// or webcal://"),
        ("example.org/c.ics", "https:// or webcal://"),
        ("https://user:secret@example.org/c.ics", "user name or password"),
        ("https://example.org:99999/c.ics", "port"),
        ("http://[::1/c.ics", "not a web address"),
        ("https://example.org/a b.ics", "spaces"),
        ("https://example.org/" + "a" * 2048, "the limit is 2048"),
    ],
)
def test_bad_feed_addresses_are_refused(text, says):
    with pytest.raises(InvalidField, match=says):
        feed_url(text)


@pytest.mark.parametrize(
    ("text", "every"),
    [(None, timedelta(minutes=15)), ("", timedelta(minutes=15)), ("5m", timedelta(minutes=5)),
     ("1h30m", timedelta(minutes=90)), ("PT2H", timedelta(hours=2)), ("1d", timedelta(days=1))],
)  # fmt: skip
def test_poll_intervals(text, every):
    assert poll_every(text) == every


@pytest.mark.parametrize("text", ["4m", "299s", "25h", "2d"])
def test_poll_intervals_out_of_bounds_are_refused(text):
    with pytest.raises(InvalidField, match="from 5 minutes to 1 day"):
        poll_every(text)


@pytest.mark.parametrize(
    ("every", "refresh", "interval"),
    [
        (timedelta(minutes=15), None, timedelta(minutes=15)),
        (timedelta(minutes=15), timedelta(hours=1), timedelta(hours=1)),  # the feed asks for less: it is heard
        (timedelta(hours=2), timedelta(hours=1), timedelta(hours=2)),  # asked for longer: as the guild asked
        (timedelta(minutes=15), timedelta(days=7), timedelta(days=1)),  # at most a day
    ],
)
def test_the_feeds_own_refresh_interval_is_honoured_when_longer(every, refresh, interval):
    assert poll_interval(every, refresh) == interval


@pytest.mark.parametrize(
    ("failures", "jitter", "after"),
    [
        (0, 0.0, timedelta(minutes=15)),
        (0, 1.0, timedelta(minutes=16, seconds=30)),  # at most 10% later
        (1, 0.0, timedelta(minutes=30)),
        (3, 0.0, timedelta(hours=2)),
        (10, 0.0, timedelta(hours=6)),  # backoff stops at six hours
    ],
)
def test_next_poll_backs_off_and_jitters(failures, jitter, after):
    assert next_poll(NOW, timedelta(minutes=15), failures, jitter) == NOW + after


@pytest.mark.parametrize(
    ("tzid", "zone"),
    [
        ("Europe/Berlin", "Europe/Berlin"),
        ("W. Europe Standard Time", "Europe/Berlin"),  # Outlook
        ("Eastern Standard Time", "America/New_York"),
        ("GMT Standard Time", "Europe/London"),
        ("/mozilla.org/20070129_1/America/New_York", "America/New_York"),
        ("/citadel.org/20190914_1/Europe/Paris", "Europe/Paris"),
        ("Mars/Olympus_Mons", None),
    ],
)
def test_tzids_name_iana_zones(tzid, zone):
    assert zone_name(tzid) == zone


def test_refresh_interval_is_read_and_a_body_that_is_no_calendar_is_refused():
    feed = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nREFRESH-INTERVAL;VALUE=DURATION:PT4H\r\nBEGIN:VEVENT\r\nUID:a\r\n"
        "DTSTART:20260301T100000Z\r\nSUMMARY:A\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    parsed = parse_feed(feed.encode(), Defaults(1, 1), max_events=10)
    assert parsed.refresh == timedelta(hours=4) and [i.event.name for i in parsed.items] == ["A"]
    with pytest.raises(InvalidFeed, match="at most 0"):
        parse_feed(feed.encode(), Defaults(1, 1), max_events=0)
    with pytest.raises(InvalidFeed, match="not valid iCalendar"):
        parse_feed(b"<html>Sign in</html>", Defaults(1, 1), max_events=10)
