"""Recurring events in the store: occurrences in a window, one-occurrence changes, splitting a series."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.errors import NotFound
from bot.domain.models import Calendar, Event, OccurrenceChange
from bot.domain.recurrence import Recurrence
from bot.domain.rsvp import GOING, ONE_OFF
from bot.storage import Store, open_store

GUILD, OTHER = 1, 2
MONDAY = datetime(2030, 1, 7, 18, 0, tzinfo=UTC)  # a Monday, 18:00 UTC
WEEK = timedelta(weeks=1)


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[Store]:
    opened = await open_store(store_url)
    yield opened
    await opened.close()


async def weekly(store, guild=GUILD, **fields) -> Event:
    calendar = await store.calendars.get_or_create(guild, "General")
    defaults = dict(
        guild_id=guild, calendar_id=calendar.id, name="Raid", starts=MONDAY, ends=MONDAY + timedelta(hours=2),
        recurrence=Recurrence("WEEKLY"),
    )  # fmt: skip
    return await store.events.create(Event(**{**defaults, **fields}))


async def test_a_series_and_one_offs_list_together_in_order(store):
    series = await weekly(store)
    calendar = await store.calendars.get(GUILD, series.calendar_id)
    one_off = await store.events.create(
        Event(guild_id=GUILD, calendar_id=calendar.id, name="Party", starts=MONDAY + timedelta(days=2))
    )
    found = await store.events.occurrences(GUILD, MONDAY, MONDAY + 3 * WEEK)
    assert [(o.name, o.starts) for o in found] == [
        ("Raid", MONDAY), ("Party", MONDAY + timedelta(days=2)), ("Raid", MONDAY + WEEK), ("Raid", MONDAY + 2 * WEEK),
    ]  # fmt: skip
    assert [o.key for o in found] == [
        int(MONDAY.timestamp()),
        ONE_OFF,
        *(int((MONDAY + n * WEEK).timestamp()) for n in (1, 2)),
    ]
    assert found[1].event.id == one_off.id
    slots = await store.events.occurrence_slots(GUILD, MONDAY, MONDAY + 3 * WEEK)
    assert [await store.events.materialise(GUILD, slots[1:3])] == [found[1:3]]


async def test_an_occurrence_still_running_at_the_window_start_is_in_it(store):
    await weekly(store)
    found = await store.events.occurrences(GUILD, MONDAY + timedelta(hours=1), MONDAY + timedelta(days=1))
    assert [o.starts for o in found] == [MONDAY]


async def test_moved_edited_and_cancelled_occurrences(store):
    series = await weekly(store)
    second, third = MONDAY + WEEK, MONDAY + 2 * WEEK
    await store.changes.save(OccurrenceChange(GUILD, series.id, second, cancelled=True))
    far = MONDAY + 10 * WEEK
    await store.changes.save(OccurrenceChange(GUILD, series.id, far, starts=third + timedelta(days=1), name="Moved in"))
    found = await store.events.occurrences(GUILD, MONDAY, MONDAY + 3 * WEEK)
    assert [(o.name, o.starts) for o in found] == [
        ("Raid", MONDAY), ("Raid", third), ("Moved in", third + timedelta(days=1)),
    ]  # fmt: skip
    moved = await store.events.occurrence(GUILD, series.id, int(far.timestamp()))
    assert (moved.name, moved.starts, moved.ends) == (
        "Moved in",
        third + timedelta(days=1),
        third + timedelta(days=1, hours=2),
    )
    cancelled = await store.events.occurrence(GUILD, series.id, int(second.timestamp()))
    assert cancelled.cancelled
    with pytest.raises(NotFound):
        await store.events.occurrence(GUILD, series.id, int((MONDAY + timedelta(hours=1)).timestamp()))


async def test_splitting_moves_the_later_answers_and_changes(store):
    series = await weekly(store, recurrence=Recurrence("WEEKLY", count=4))
    third = MONDAY + 2 * WEEK
    for when, user in ((MONDAY, 10), (third, 11), (third + WEEK, 12)):
        await store.attendees.respond(GUILD, series.id, int(when.timestamp()), user, GOING, None)
    await store.changes.save(OccurrenceChange(GUILD, series.id, third + WEEK, name="Finale"))
    head = dataclasses.replace(series, recurrence=Recurrence("WEEKLY", count=2))
    tail = dataclasses.replace(series, id=None, starts=third, ends=third + timedelta(hours=2),
                               recurrence=Recurrence("WEEKLY", count=2), name="Later")  # fmt: skip
    head, tail = await store.events.split(head, tail, int(third.timestamp()), unedited=tail)
    found = await store.events.occurrences(GUILD, MONDAY, MONDAY + 10 * WEEK)
    assert [(o.event.id, o.name) for o in found] == [
        (head.id, "Raid"),
        (head.id, "Raid"),
        (tail.id, "Later"),
        (tail.id, "Finale"),
    ]
    assert [a.user_id for a in await store.attendees.list(GUILD, head.id, int(MONDAY.timestamp()))] == [10]
    assert [a.user_id for a in await store.attendees.list(GUILD, tail.id, int(third.timestamp()))] == [11]


async def test_occurrences_are_scoped_to_the_guild(store):
    series = await weekly(store)
    assert await store.events.occurrences(OTHER, MONDAY, MONDAY + WEEK) == []
    with pytest.raises(NotFound):
        await store.events.occurrence(OTHER, series.id, int(MONDAY.timestamp()))
    with pytest.raises(NotFound):
        await store.changes.save(OccurrenceChange(OTHER, series.id, MONDAY, cancelled=True))
    assert await store.changes.for_events(OTHER, [series.id]) == {series.id: []}


async def test_a_one_off_events_only_occurrence_is_key_0(store):
    calendar = await store.calendars.create(Calendar(guild_id=GUILD, name="Cal"))
    event = await store.events.create(Event(guild_id=GUILD, calendar_id=calendar.id, name="Once", starts=MONDAY))
    assert (await store.events.occurrence(GUILD, event.id, ONE_OFF)).starts == MONDAY
    with pytest.raises(NotFound):
        await store.events.occurrence(GUILD, event.id, int(MONDAY.timestamp()))


async def test_a_series_typed_inside_a_gap_keeps_its_wall_time_when_stored_and_listed(store):
    # Issue 11, case 1: 02:30 typed for Berlin's spring-forward night starts at 03:30 that day; the series
    # repeats at 02:30, read back from the store (the anchor column) and through the listing's own reads.
    wall = datetime(2027, 3, 28, 2, 30)  # noqa: DTZ001 - the wall time typed
    start = datetime(2027, 3, 28, 1, 30, tzinfo=UTC)
    series = await weekly(store, timezone="Europe/Berlin", starts=start, anchor=wall, ends=None,
                          recurrence=Recurrence("DAILY", count=3))  # fmt: skip
    assert (await store.events.get(GUILD, series.id)).anchor == wall
    found = await store.events.occurrences(GUILD, start, start + 3 * WEEK)
    assert [o.starts for o in found] == [start, datetime(2027, 3, 29, 0, 30, tzinfo=UTC),
                                         datetime(2027, 3, 30, 0, 30, tzinfo=UTC)]  # fmt: skip
    renamed = await store.events.update(dataclasses.replace(series, name="Renamed").validated())
    assert renamed.anchor == wall
    # a start typed as a wall time that exists (or an instant) needs no anchor: NULL, as every older row
    moved = await store.events.update(dataclasses.replace(renamed, starts=start + timedelta(hours=1)).validated())
    assert moved.anchor is None
