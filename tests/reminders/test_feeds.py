"""Subscribed feeds polled for real: a local HTTP server (tests/feeds.py) serves the ICS, the poller fetches it
through the SSRF fence and imports it into a real store on both backends. Changes, removals and cancellations
between polls; conditional GET; the fence on every redirect hop; the body cap; a broken feed; the lease."""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.errors import Conflict
from bot.domain.models import GuildSettings, OccurrenceChange
from bot.domain.rsvp import GOING
from bot.reminders.feeds import FeedPoller
from bot.storage import Store, open_store
from tests.clock import Clock
from tests.feeds import OPEN, FeedServer, vcalendar
from tests.storage.raw import raw

GUILD = 1
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
# The fence on, with the test server's one address trusted: every other private address is refused.
FENCED = dataclasses.replace(
    OPEN, allow_private_targets=False, trusted_networks=(ipaddress.ip_network("127.0.0.1/32"),)
)

WEEKLY = """UID:weekly@example.org
DTSTART;TZID=Europe/Berlin:20260302T180000
DTEND;TZID=Europe/Berlin:20260302T190000
RRULE:FREQ=WEEKLY;COUNT=6
EXDATE;TZID=Europe/Berlin:20260316T180000
SUMMARY:Practice"""
MOVED = """UID:weekly@example.org
RECURRENCE-ID;TZID=Europe/Berlin:20260309T180000
DTSTART;TZID=Europe/Berlin:20260310T200000
DTEND;TZID=Europe/Berlin:20260310T210000
SUMMARY:Practice (moved to Tuesday)"""
ALL_DAY = """UID:holiday@example.org
DTSTART;VALUE=DATE:20260320
DTEND;VALUE=DATE:20260321
SUMMARY:Holiday"""
OUTLOOK = """UID:outlook@example.org
DTSTART;TZID=W. Europe Standard Time:20260325T090000
DTEND;TZID=W. Europe Standard Time:20260325T100000
SUMMARY:Outlook meeting"""


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def server() -> Iterator[FeedServer]:
    running = FeedServer().start()
    yield running
    running.stop()


@pytest.fixture
async def store(store_url: str, clock: Clock) -> AsyncIterator[Store]:
    opened = await open_store(store_url, clock=clock)
    yield opened
    await opened.close()


async def settings(guild_id: int) -> GuildSettings:
    return GuildSettings(guild_id, timezone="Europe/London")


@pytest.fixture
async def poller(store: Store, clock: Clock) -> AsyncIterator[FeedPoller]:
    running = FeedPoller(store, OPEN, clock=clock, settings=settings)
    yield running
    await running.stop()


async def subscribed(store: Store, url: str, name: str = "Club") -> int:
    calendar = await store.calendars.get_or_create(GUILD, name)
    await store.subscriptions.subscribe(GUILD, calendar.id, url, timedelta(minutes=15), created_by=None)
    return calendar.id


async def poll(poller: FeedPoller, clock: Clock, minutes: int = 60) -> list:
    """Move the clock past the next poll (with its jitter and any backoff) and poll what is due."""
    clock.now += timedelta(minutes=minutes)
    return await poller.poll_due()


async def occurrences(store: Store, calendar_id: int) -> list[tuple[str, datetime]]:
    found = await store.events.occurrences(
        GUILD, NOW - timedelta(days=30), NOW + timedelta(days=60), calendar_id=calendar_id
    )
    return [(o.name, o.starts) for o in found]


def berlin(day: int, hour: int) -> datetime:
    """A March 2026 wall time in Berlin (UTC+1 until the 29th), as UTC."""
    return datetime(2026, 3, day, hour - (1 if day < 29 else 2), 0, tzinfo=UTC)


async def test_a_weekly_series_with_an_exception_an_all_day_event_and_windows_zones_are_imported(
    store, poller, server, clock
):
    calendar_id = await subscribed(store, server.serve("/club.ics", vcalendar(WEEKLY, MOVED, ALL_DAY, OUTLOOK)))
    [result] = await poller.poll_due()
    assert result.outcome == "imported"
    assert await occurrences(store, calendar_id) == [
        ("Practice", berlin(2, 18)),
        ("Practice (moved to Tuesday)", berlin(10, 20)),  # its RECURRENCE-ID override; the 16th is an EXDATE
        ("Holiday", datetime(2026, 3, 20, 0, 0, tzinfo=UTC)),  # midnight in the guild's zone (London, UTC+0)
        ("Practice", berlin(23, 18)),
        ("Outlook meeting", berlin(25, 9)),  # "W. Europe Standard Time" is Europe/Berlin
        ("Practice", berlin(30, 18)),  # 18:00 in Berlin after the change to summer time
        ("Practice", datetime(2026, 4, 6, 16, 0, tzinfo=UTC)),
    ]
    events, _ = await store.events.page(GUILD, calendar_id=calendar_id)
    by_name = {e.name: e for e in events}
    assert by_name["Holiday"].all_day and by_name["Practice"].timezone == "Europe/Berlin"
    assert by_name["Outlook meeting"].timezone == "Europe/Berlin"
    subscription = await store.subscriptions.get(GUILD, calendar_id)
    assert subscription.last_result == "3 events read, 3 written, 0 removed"
    assert subscription.next_poll >= NOW + timedelta(minutes=15) and subscription.etag


async def test_a_change_a_removal_and_a_cancellation_between_polls_follow_the_feed_and_keep_answers(
    store, store_url, poller, server, clock
):
    url = server.serve("/club.ics", vcalendar(WEEKLY, ALL_DAY, OUTLOOK))
    calendar_id = await subscribed(store, url)
    await poller.poll_due()
    events, _ = await store.events.page(GUILD, calendar_id=calendar_id)
    by_name = {e.name: e for e in events}
    practice = by_name["Practice"]
    second = int(berlin(23, 18).timestamp())
    await store.attendees.respond(GUILD, practice.id, second, 42, GOING, None)

    renamed = WEEKLY.replace("SUMMARY:Practice", "SUMMARY:Training").replace(
        "EXDATE;TZID=Europe/Berlin:20260316T180000", "EXDATE;TZID=Europe/Berlin:20260316T180000,20260330T180000"
    )
    cancelled = OUTLOOK + "\nSTATUS:CANCELLED"
    server.serve("/club.ics", vcalendar(renamed, cancelled))  # the holiday is gone
    [result] = await poll(poller, clock)
    assert result.outcome == "imported"
    assert await occurrences(store, calendar_id) == [
        ("Training", berlin(2, 18)),
        ("Training", berlin(9, 18)),
        ("Training", berlin(23, 18)),
        ("Training", datetime(2026, 4, 6, 16, 0, tzinfo=UTC)),
    ]
    # The series is the same event, updated: its answers stay on their occurrences.
    assert (await store.events.get(GUILD, practice.id)).name == "Training"
    assert [a.user_id for a in await store.attendees.list(GUILD, practice.id, second)] == [42]
    # The gone and the cancelled events were deleted through the one road: queued with their last state, so the
    # bot marks their cards cancelled and cancels their reminders.
    rows = await raw(store_url, "SELECT event_id FROM event_sync WHERE deleted IS NOT NULL ORDER BY event_id")
    assert [r[0] for r in rows] == sorted([by_name["Holiday"].id, by_name["Outlook meeting"].id])
    assert (await store.subscriptions.get(GUILD, calendar_id)).last_result == "1 event read, 1 written, 2 removed"


async def test_answers_to_an_event_the_feed_drops_come_back_with_it(store, poller, server, clock):
    url = server.serve("/club.ics", vcalendar(WEEKLY, OUTLOOK))
    calendar_id = await subscribed(store, url)
    await poller.poll_due()
    by_name = {e.name: e for e in (await store.events.page(GUILD, calendar_id=calendar_id))[0]}
    second = int(berlin(9, 18).timestamp())
    await store.attendees.respond(GUILD, by_name["Practice"].id, second, 42, GOING, None)
    await store.attendees.respond(GUILD, by_name["Outlook meeting"].id, 0, 43, GOING, None)

    # The series is gone for a poll and the meeting cancelled: both events go (their cards are marked cancelled)...
    server.serve("/club.ics", vcalendar(OUTLOOK + "\nSTATUS:CANCELLED"))
    await poll(poller, clock)
    assert await occurrences(store, calendar_id) == []
    # ...and come back the next: new events, with the answers members gave.
    server.serve("/club.ics", vcalendar(WEEKLY, OUTLOOK))
    [result] = await poll(poller, clock)
    assert result.outcome == "imported"
    back = {e.name: e for e in (await store.events.page(GUILD, calendar_id=calendar_id))[0]}
    assert back["Practice"].id != by_name["Practice"].id
    assert [(a.user_id, a.status) for a in await store.attendees.list(GUILD, back["Practice"].id, second)] == [
        (42, GOING)
    ]
    assert [a.user_id for a in await store.attendees.list(GUILD, back["Outlook meeting"].id, 0)] == [43]


async def test_an_unchanged_feed_costs_one_request_and_no_write(store, store_url, poller, server, clock):
    with_etag = await subscribed(store, server.serve("/etag.ics", vcalendar(WEEKLY)), "With ETag")
    without = await subscribed(store, server.serve("/plain.ics", vcalendar(ALL_DAY), etag=False), "Without")
    await poller.poll_due()
    before = await raw(store_url, "SELECT id, updated_at FROM events ORDER BY id")
    queued = await raw(store_url, "SELECT count(*) AS n FROM event_sync")
    results = await poll(poller, clock)
    assert sorted(r.detail for r in results) == ["not modified", "unchanged"]
    assert [s.status for s in server.requests("/etag.ics")] == [200, 304]
    assert server.requests("/etag.ics")[1].headers["If-None-Match"].startswith('"')
    assert [s.status for s in server.requests("/plain.ics")] == [200, 200]  # the same body: its hash says so
    assert await raw(store_url, "SELECT id, updated_at FROM events ORDER BY id") == before
    assert await raw(store_url, "SELECT count(*) AS n FROM event_sync") == queued
    for calendar_id, said in ((with_etag, "not modified"), (without, "unchanged")):
        assert (await store.subscriptions.get(GUILD, calendar_id)).last_result == said


async def test_every_redirect_hop_is_fenced(store, server, clock):
    poller = FeedPoller(store, FENCED, clock=clock, settings=settings)
    try:
        good = await subscribed(store, server.serve("/ok.ics", vcalendar(ALL_DAY)), "Trusted")
        server.routes["/to-ok"] = dataclasses.replace(server.routes["/ok.ics"], location=server.url("/ok.ics"))
        hopping = await subscribed(store, server.url("/to-ok"), "Redirected")
        targets = {
            "Metadata": "http://169.254.169.254/latest/meta-data/",
            "Private": "http://10.0.0.1/feed.ics",
            "Other loopback": f"http://127.0.0.2:{server.port}/ok.ics",
            "Mapped": f"http://[::ffff:127.0.0.2]:{server.port}/ok.ics",
        }
        refused = []
        for name, target in targets.items():
            server.serve(f"/{len(refused)}", b"", location=target)
            refused.append(await subscribed(store, server.url(f"/{len(refused)}"), name))
        await poller.poll_due()
        assert [o for o, _ in await occurrences(store, good)] == ["Holiday"]
        assert [o for o, _ in await occurrences(store, hopping)] == ["Holiday"]  # a public (trusted) hop is followed
        for calendar_id in refused:
            subscription = await store.subscriptions.get(GUILD, calendar_id)
            assert subscription.failures == 1
            assert "not public" in subscription.last_result
            assert await occurrences(store, calendar_id) == []
    finally:
        await poller.stop()


async def test_a_first_address_that_is_private_is_refused_before_any_request(store, server, clock):
    poller = FeedPoller(store, dataclasses.replace(FENCED, trusted_networks=()), clock=clock, settings=settings)
    try:
        calendar_id = await subscribed(store, server.serve("/ok.ics", vcalendar(ALL_DAY)))
        by_name = await subscribed(store, f"http://localhost:{server.port}/ok.ics", "By name")  # the resolver's check
        await poller.poll_due()
        assert server.seen == []
        for calendar in (calendar_id, by_name):
            assert "not public" in (await store.subscriptions.get(GUILD, calendar)).last_result
    finally:
        await poller.stop()


async def test_a_50_mb_body_is_refused_and_changes_nothing(store, poller, server, clock):
    calendar_id = await subscribed(store, server.serve("/big.ics", vcalendar(ALL_DAY)))
    await poller.poll_due()
    server.routes["/big.ics"] = dataclasses.replace(server.routes["/big.ics"], streamed=50 * 1_048_576)
    [result] = await poll(poller, clock)
    assert result.outcome == "failed" and result.detail == "the feed is larger than 10 MB; calbot reads at most that"
    assert [o for o, _ in await occurrences(store, calendar_id)] == ["Holiday"]


@pytest.mark.parametrize(
    "broken",
    [
        "<html><body>Sign in to see this calendar</body></html>",
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:2026\r\n",  # cut off
        vcalendar(ALL_DAY).replace("END:VCALENDAR", "END:VCALENDAR\r\nBEGIN:VCALENDAR\r\nEND:VCALENDAR"),
    ],
    ids=["html", "truncated", "two-calendars"],
)
async def test_a_broken_feed_leaves_the_calendar_unchanged_and_is_paused_after_repeated_failures(
    store, poller, server, clock, broken
):
    calendar_id = await subscribed(store, server.serve("/feed.ics", vcalendar(WEEKLY, ALL_DAY)))
    await poller.poll_due()
    before = await occurrences(store, calendar_id)
    server.serve("/feed.ics", broken)
    for attempt in range(1, OPEN.failure_threshold + 1):
        [result] = await poll(poller, clock, minutes=24 * 60)  # past any backoff
        assert result.outcome == "failed" and "not" in result.detail
        subscription = await store.subscriptions.get(GUILD, calendar_id)
        assert subscription.failures == attempt
        assert await occurrences(store, calendar_id) == before
    assert subscription.paused and await store.subscriptions.paused(GUILD) == [subscription]
    assert await poll(poller, clock, minutes=24 * 60) == []  # paused: not polled
    server.serve("/feed.ics", vcalendar(ALL_DAY))
    await store.subscriptions.subscribe(GUILD, calendar_id, server.url("/feed.ics"), timedelta(hours=1), created_by=1)
    [result] = await poller.poll_due()  # subscribing again resumes it
    assert result.outcome == "imported" and [n for n, _ in await occurrences(store, calendar_id)] == ["Holiday"]


async def test_backoff_doubles_the_wait_after_each_failure(store, poller, server, clock):
    calendar_id = await subscribed(store, server.serve("/down.ics", b"", status=503))
    waits = []
    for _ in range(2):
        clock.now = (await store.subscriptions.get(GUILD, calendar_id)).next_poll
        polled_at = clock.now
        await poller.poll_due()
        waits.append((await store.subscriptions.get(GUILD, calendar_id)).next_poll - polled_at)
    assert timedelta(minutes=30) <= waits[0] <= timedelta(minutes=33)  # 15 minutes doubled, plus up to 10% jitter
    assert timedelta(minutes=60) <= waits[1] <= timedelta(minutes=66)
    assert (await store.subscriptions.get(GUILD, calendar_id)).last_result == "the feed answered 503"


async def test_subscribed_events_are_read_only_on_every_road(store, poller, server):
    calendar_id = await subscribed(store, server.serve("/feed.ics", vcalendar(WEEKLY)))
    await poller.poll_due()
    [event], _ = await store.events.page(GUILD, calendar_id=calendar_id)
    change = OccurrenceChange(GUILD, event.id, event.starts, cancelled=True)
    for write in (
        store.events.update(dataclasses.replace(event, name="Mine now")),
        store.events.delete(GUILD, event.id),
        store.changes.save(change),
    ):
        with pytest.raises(Conflict, match="change it at the source"):
            await write
    assert (await store.events.get(GUILD, event.id)).name == "Practice"
    # Members still answer, and unsubscribing hands the events over as ordinary ones.
    await store.attendees.respond(GUILD, event.id, int(event.starts.timestamp()), 7, GOING, None)
    await store.subscriptions.unsubscribe(GUILD, calendar_id)
    assert (await store.events.update(dataclasses.replace(event, name="Ours now"))).name == "Ours now"


async def test_a_lost_lease_writes_nothing_and_another_process_takes_the_feed_over(store_url, server, clock):
    first = await open_store(store_url, clock=clock)
    second = await open_store(store_url, clock=clock)
    pollers = [FeedPoller(s, OPEN, clock=clock, settings=settings, lease=timedelta(minutes=5)) for s in (first, second)]
    try:
        calendar_id = await subscribed(first, server.serve("/feed.ics", vcalendar(ALL_DAY)))
        [claimed] = await first.subscriptions.claim(clock(), pollers[0].worker, pollers[0].lease, 10)
        assert await second.subscriptions.claim(clock(), pollers[1].worker, pollers[1].lease, 10) == []  # held
        clock.now += timedelta(minutes=6)  # the first process hung past its lease
        [result] = await pollers[1].poll_due()
        assert result.outcome == "imported"
        assert (await pollers[0].poll(claimed)).outcome == "lost"  # it wakes up: its import is refused
        _events, total = await first.events.page(GUILD, calendar_id=calendar_id)
        assert total == 1
    finally:
        for poller in pollers:
            await poller.stop()
        await first.close()
        await second.close()


async def test_two_processes_never_poll_the_same_feed_at_once(postgres_url, server, clock):
    """Several processes share one PostgreSQL: each claims feeds with a lease (FOR UPDATE SKIP LOCKED), so every
    feed due is polled once, by one of them, and never by two at the same time."""
    stores = [await open_store(postgres_url, clock=clock) for _ in range(3)]
    pollers = [FeedPoller(s, OPEN, clock=clock, settings=settings, batch=2) for s in stores]
    try:
        paths = [f"/feed{n}.ics" for n in range(8)]
        for n, path in enumerate(paths):
            server.serve(path, vcalendar(ALL_DAY.replace("holiday@", f"holiday{n}@")), delay=0.2)
            await subscribed(stores[0], server.url(path), f"Calendar {n}")
        results = await asyncio.gather(*(p.poll_due() for p in pollers))
        polled = sorted(r.subscription_id for found in results for r in found)
        assert len(polled) == len(paths) == len(set(polled))
        assert all(r.outcome == "imported" for found in results for r in found)
        assert {path: len(server.requests(path)) for path in paths} == dict.fromkeys(paths, 1)
        assert max(server.most_at_once.values()) == 1
        assert sum(1 for found in results if found) >= 2  # the work was shared
    finally:
        for poller in pollers:
            await poller.stop()
        for store in stores:
            await store.close()


async def test_a_feed_subscribed_in_another_process_is_polled_at_once(postgres_url, server, clock):
    """An idle poller sleeps up to an hour; the subscription's notification (PostgreSQL's NOTIFY) wakes it."""
    polling, subscribing = await open_store(postgres_url, clock=clock), await open_store(postgres_url, clock=clock)
    poller = FeedPoller(polling, OPEN, clock=clock, settings=settings)
    try:
        await poller.start()
        await asyncio.sleep(0.2)  # its first pass found nothing to follow: it sleeps
        calendar_id = await subscribed(subscribing, server.serve("/feed.ics", vcalendar(ALL_DAY)))
        for _ in range(200):
            if (await subscribing.subscriptions.get(GUILD, calendar_id)).last_poll is not None:
                break
            await asyncio.sleep(0.05)
        assert [n for n, _ in await occurrences(subscribing, calendar_id)] == ["Holiday"]
    finally:
        await poller.stop()
        await polling.close()
        await subscribing.close()
