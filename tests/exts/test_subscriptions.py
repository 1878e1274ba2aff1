"""`/calendar subscribe`, `/calendar show`, `/calendar unsubscribe` as a guild uses them: a feed served by a real local
HTTP server becomes events with cards and reminders (a weekly series with an exception among them), members RSVP
to them, edits are refused with a pointer to the source, and the next poll's changes reach the cards.

SimCord's clock starts at 2026-01-01T00:00Z, a Thursday."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.config import load_config
from bot.domain.errors import Conflict, InvalidField
from bot.exts.common import NotManager
from bot.storage.subscriptions import Subscription
from tests.conftest import write_config
from tests.feeds import FeedServer, vcalendar

SERIES = """UID:raid@example.org
DTSTART:20260101T003000Z
DTEND:20260101T023000Z
RRULE:FREQ=WEEKLY;COUNT=4
EXDATE:20260115T003000Z
SUMMARY:Raid night"""
MOVED = """UID:raid@example.org
RECURRENCE-ID:20260108T003000Z
DTSTART:20260109T040000Z
DTEND:20260109T060000Z
SUMMARY:Raid night (Saturday)"""
MEETING = """UID:meeting@example.org
DTSTART:20260103T120000Z
SUMMARY:Officers' meeting"""


@pytest.fixture
def config(tmp_path):
    # The bot's own poller looks hourly; the tests poll when they mean to, and the sync drain runs each minute.
    body = "[api]\nsync_seconds = 60\n[subscriptions]\nallow_private_targets = true\npoll_seconds = 3600\n"
    return load_config(str(write_config(tmp_path, body)), environ={"DISCORD_TOKEN": "test-token"})


@pytest.fixture
def server() -> Iterator[FeedServer]:
    running = FeedServer().start()
    yield running
    running.stop()


async def polled(world, calendar_id: int, after: datetime | None = None) -> Subscription:
    """The subscription once the bot's poller has polled it (since `after`), its writes followed on Discord."""
    for _ in range(400):
        subscription = await world.bot.store.subscriptions.get(world.guild.id, calendar_id)
        if subscription.last_poll is not None and (after is None or subscription.last_poll > after):
            break
        await world.bot.feeds.poll_due()
        await asyncio.sleep(0.01)
    else:
        raise AssertionError("the feed was not polled")
    await world.env.advance_time(60)  # the event_sync drain's interval: cards and reminders
    return subscription


async def subscribe(world, server: FeedServer, *vevents: str) -> int:
    await world.admin.slash(world.general, "calendar create", name="Raids", channel=world.events)
    calendar = await world.bot.store.calendars.find(world.guild.id, "Raids")
    url = server.serve("/raids.ics", vcalendar(*vevents))
    res = await world.admin.slash(world.general, "calendar subscribe", calendar="Raids", url=url, every="15m")
    assert (
        res.ephemeral and "**Raids** now follows `http://127.0.0.1/…`, polled every 15 minutes" in res.response.content
    )
    assert "/raids.ics" not in res.response.content  # a feed's path may be its secret
    return calendar.id


def cards(world) -> dict[str, list[str]]:
    """Each card in #events by title, with its fields' values."""
    return {m.embeds[0].title: [f.value for f in m.embeds[0].fields] for m in world.events.history() if m.embeds}


async def test_a_subscribed_weekly_series_with_an_exception_gets_cards_and_reminders(world, server):
    calendar_id = await subscribe(world, server, SERIES, MOVED, MEETING)
    await polled(world, calendar_id)
    store = world.bot.store
    events, _ = await store.events.page(world.guild.id, calendar_id=calendar_id)
    by_name = {e.name: e for e in events}
    assert set(by_name) == {"Raid night", "Officers' meeting"}
    assert set(cards(world)) == {"Raid night", "Officers' meeting"}
    reminders = await store.reminders.for_event(world.guild.id, by_name["Raid night"].id)
    assert [(r.scheduled_for, r.state) for r in reminders] == [
        (datetime(2026, 1, 1, 0, 15, tzinfo=UTC), "pending"),
        (datetime(2026, 1, 9, 3, 45, tzinfo=UTC), "pending"),  # the moved occurrence, at its new time
        (datetime(2026, 1, 22, 0, 15, tzinfo=UTC), "pending"),  # none on the 15th: cancelled at the source
    ]
    show = await world.alice.slash(world.general, "calendar show", calendar="Raids")
    feed = show.response.embeds[0].fields[-1]
    assert feed.name.startswith("Feed (read-only")
    assert "`http://127.0.0.1/…` · every 15 minutes" in feed.value
    assert "✅ 2 events read, 2 written, 0 removed" in feed.value and "Next poll <t:" in feed.value
    await world.env.advance_time(29 * 60)  # to 00:30: the first reminder has gone out
    first = int(datetime(2026, 1, 1, 0, 30, tzinfo=UTC).timestamp())
    posted = [m.content for m in world.events.history() if m.content.startswith("⏰")]
    assert [p.partition(".")[0] for p in posted] == [f"⏰ **Raid night** starts <t:{first}:R> (<t:{first}:F>)"]


async def test_subscribed_events_are_read_only_but_members_answer_them_and_follow_changes(world, server):
    calendar_id = await subscribe(world, server, SERIES, MEETING)
    first = await polled(world, calendar_id)
    meeting = await world.bot.store.events.find(world.guild.id, "Officers' meeting", world.bot.now())
    for command, options in (
        ("event edit", {"event": str(meeting.id), "name": "Mine now"}),
        ("event delete", {"event": str(meeting.id)}),
    ):
        res = await world.admin.slash(world.general, command, **options)
        world.refused(res, Conflict, "comes from this calendar's subscribed feed: change it at the source")
        world.env.errors.clear()
    card = next(m for m in world.events.history() if m.embeds and m.embeds[0].title == "Officers' meeting")
    await world.alice.click(card, label="Going")
    assert [a.user_id for a in await world.bot.store.attendees.list(world.guild.id, meeting.id, 0)] == [world.alice.id]

    server.serve("/raids.ics", vcalendar(SERIES, MEETING.replace("Officers' meeting", "Officers' meeting (moved)")))
    await world.env.advance_time(20 * 60)  # past the next poll
    await polled(world, calendar_id, after=first.last_poll)
    renamed = await world.bot.store.events.get(world.guild.id, meeting.id)
    assert renamed.name == "Officers' meeting (moved)"
    assert "Officers' meeting (moved)" in cards(world)  # the same card, edited
    attendees = await world.bot.store.attendees.list(world.guild.id, meeting.id, 0)
    assert [a.user_id for a in attendees] == [world.alice.id]

    server.serve("/raids.ics", vcalendar(SERIES))  # the meeting is gone from the feed
    await world.env.advance_time(20 * 60)
    await polled(world, calendar_id, after=renamed.updated_at)
    assert "Cancelled: Officers' meeting (moved)" in cards(world)

    res = await world.admin.slash(world.general, "calendar unsubscribe", calendar="Raids")
    assert "no longer follows `http://127.0.0.1/…`" in res.response.content
    assert await world.bot.store.subscriptions.get(world.guild.id, calendar_id) is None
    series = await world.bot.store.events.find(world.guild.id, "Raid night", world.bot.now())
    res = await world.admin.slash(world.general, "event edit", event=str(series.id), name="Our raid night")
    assert "Our raid night" in res.response.content  # an ordinary event again


@pytest.mark.parametrize(
    ("options", "says"),
    [
        ({"url": "ftp://example.org/cal.ics"}, "must be an https:// or webcal:// address"),
        ({"url": "https://example.org/cal.ics", "every": "1m"}, "must be from 5 minutes to 1 day"),
        ({"url": "https://user:pw@example.org/cal.ics"}, "must not carry a user name or password"),
    ],
)
async def test_a_bad_subscription_is_refused_with_a_clear_message(world, options, says):
    await world.admin.slash(world.general, "calendar create", name="Raids")
    res = await world.admin.slash(world.general, "calendar subscribe", calendar="Raids", **options)
    world.refused(res, InvalidField, says)
    assert await world.bot.store.subscriptions.list(world.guild.id) == []


async def test_members_cannot_subscribe_a_calendar(world):
    await world.admin.slash(world.general, "calendar create", name="Raids")
    res = await world.alice.slash(world.general, "calendar subscribe", calendar="Raids", url="https://example.org/c")
    world.refused(res, NotManager, "needs the **Manage Server** permission")
    assert await world.bot.store.subscriptions.list(world.guild.id) == []


async def test_a_paused_feed_needs_the_managers_attention(world, server):
    calendar_id = await subscribe(world, server, MEETING)
    store = world.bot.store
    await polled(world, calendar_id)
    later = world.bot.now() + timedelta(minutes=20)  # as another process would, once the next poll is due
    [claimed] = await store.subscriptions.claim(later, "elsewhere", timedelta(minutes=5), 10)
    await store.subscriptions.failed(claimed, "elsewhere", world.bot.now(), "the feed answered 404", pause_after=1)
    res = await world.admin.slash(world.general, "notifications")
    attention = res.response.embeds[0]
    assert attention.title == "Needs attention"
    assert (
        "⏸️ **the feed of Raids** was paused after 1 failed polls: the feed answered 404 · "
        "`/calendar subscribe` again resumes it"
    ) in attention.description
    show = await world.admin.slash(world.general, "calendar show", calendar="Raids")
    assert "⏸️ Paused after 1 failed polls" in show.response.embeds[0].fields[-1].value
    assert (await store.subscriptions.get(world.guild.id, calendar_id)).paused
