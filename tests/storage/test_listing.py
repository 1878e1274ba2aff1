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
