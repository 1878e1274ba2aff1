"""Listing a guild's occurrences never fails, whatever combination of rows it holds: equal starts with and
without ends, all-day beside timed, and a series whose stored rule can no longer be read (written before
validation refused it), which is left out of lists and can still be deleted."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.models import Event
from bot.domain.recurrence import Recurrence
from bot.storage import Store, open_store
from bot.storage.events import slot_order

from .raw import raw

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
GUILD = 1


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[Store]:
    opened = await open_store(store_url, clock=lambda: NOW)
    yield opened
    await opened.close()


async def add(store: Store, name: str, **fields) -> Event:
    calendar = await store.calendars.get_or_create(GUILD, "General")
    return await store.events.create(Event(guild_id=GUILD, calendar_id=calendar.id, name=name, **fields))


async def test_equal_starts_with_and_without_an_end_all_day_beside_timed(store: Store) -> None:
    starts = datetime(2026, 12, 1, tzinfo=UTC)
    await add(store, "No end", starts=starts)
    await add(store, "Two hours", starts=starts, ends=starts + timedelta(hours=2))
    await add(store, "All day", starts=starts, all_day=True)
    await add(store, "Daily", starts=starts, recurrence=Recurrence("DAILY", count=3))
    found = await store.events.occurrences(GUILD, starts, starts + timedelta(days=1))
    names = [o.name for o in found]
    assert sorted(names) == ["All day", "Daily", "No end", "Two hours"]
    assert names.index("No end") < names.index("Two hours")  # the one without an end ends first


async def test_a_series_whose_rule_cannot_be_read_is_left_out_and_can_be_deleted(store: Store, store_url: str) -> None:
    starts = datetime(2026, 12, 1, 18, tzinfo=UTC)
    healthy = await add(store, "Healthy", starts=starts, recurrence=Recurrence("WEEKLY", count=4))
    broken = await add(store, "Broken", starts=starts, recurrence=Recurrence("WEEKLY", count=4))
    await raw(store_url, f"UPDATE events SET recurrence = 'FREQ=MONTHLY;BYDAY=53MO' WHERE id = {broken.id}")
    found = await store.events.occurrences(GUILD, starts, starts + timedelta(weeks=5))
    assert {o.event.id for o in found} == {healthy.id}
    [deleted] = await store.events.delete_many(GUILD, [broken.id])
    assert (deleted.id, deleted.name) == (broken.id, "Broken")
    [entry] = [e for e in await store.sync.take() if e.event_id == broken.id and e.deleted]
    assert entry.deleted.name == "Broken"  # queued so its card is marked cancelled


async def test_a_page_is_the_same_slice_of_the_whole_list_and_reads_only_its_one_offs(store: Store) -> None:
    # Issue 11: `/event list` pages through the database (one-offs counted and ordered there) merged with the
    # series' occurrences; every page must be exactly the slice of the whole, ordered list.
    window = (NOW, NOW + timedelta(days=30))
    await add(store, "Running for a week", starts=NOW - timedelta(days=5), ends=NOW + timedelta(days=2))
    await add(store, "Running an hour more", starts=NOW - timedelta(hours=1), ends=NOW + timedelta(hours=1))
    await add(store, "Ended", starts=NOW - timedelta(days=2), ends=NOW - timedelta(days=1))
    await add(store, "Long, ended", starts=NOW - timedelta(days=300), ends=NOW - timedelta(days=1))
    await add(store, "Daily", starts=NOW + timedelta(hours=3), recurrence=Recurrence("DAILY", count=12))
    for n in range(40):
        starts = NOW + timedelta(hours=7 * n)
        await add(store, f"One-off {n}", starts=starts, ends=None if n % 3 else starts + timedelta(hours=n % 5 + 1))
    whole = await store.events.occurrence_slots(GUILD, *window)
    assert len(whole) == 2 + 12 + 40
    assert whole == sorted(whole, key=slot_order)  # by start, then end (none first), as shown
    assert [await store.events.materialise(GUILD, whole[:2])][0][0].name == "Running for a week"
    for limit in (1, 7, 10):
        pages = []
        for offset in range(0, len(whole) + limit, limit):
            page, total = await store.events.occurrence_page(GUILD, *window, offset=offset, limit=limit)
            assert total == len(whole)
            pages.extend(page)
        assert pages == whole
    # the calendar-scoped list runs the same queries with its own index
    calendar = (await store.calendars.list(GUILD))[0]
    assert await store.events.occurrence_slots(GUILD, *window, calendar_id=calendar.id) == whole
