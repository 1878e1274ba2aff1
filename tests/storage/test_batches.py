"""Several events in one transaction (the API's batches): all are written or none, and each can be
queued for the bot in that same transaction."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.errors import NotFound
from bot.domain.models import Calendar, Event
from bot.domain.recurrence import Recurrence
from bot.storage import Store, open_store

GUILD, OTHER = 101, 202
STARTS = datetime(2026, 12, 24, 18, 0, tzinfo=UTC)


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[Store]:
    opened = await open_store(store_url)
    yield opened
    await opened.close()


@pytest.fixture
async def calendars(store) -> tuple[Calendar, Calendar]:
    return (
        await store.calendars.create(Calendar(guild_id=GUILD, name="Ours")),
        await store.calendars.create(Calendar(guild_id=OTHER, name="Theirs")),
    )


def event(calendar: Calendar, n: int, **changes) -> Event:
    return Event(
        guild_id=calendar.guild_id, calendar_id=calendar.id, name=f"Event {n}", starts=STARTS + timedelta(days=n),
        **changes,
    )  # fmt: skip


async def everything(store, guild_id=GUILD) -> list[Event]:
    return (await store.events.page(guild_id, limit=None))[0]


async def handled(store) -> None:
    """The bot has done what the queue asked so far."""
    await store.sync.done([entry.id for entry in await store.sync.take()])


async def test_create_many_stores_all_and_queues_each_for_the_bot(store, calendars):
    ours, _ = calendars
    created = await store.events.create_many([event(ours, n) for n in range(3)])
    assert [e.name for e in created] == ["Event 0", "Event 1", "Event 2"]
    assert all(e.id and e.created_at for e in created)
    assert await everything(store) == created
    queued = await store.sync.take()
    assert [(entry.guild_id, entry.event_id, entry.deleted) for entry in queued] == [
        (GUILD, e.id, None) for e in created
    ]


async def test_one_event_in_another_guilds_calendar_stores_none(store, calendars):
    ours, theirs = calendars
    stray = dataclasses.replace(event(theirs, 1), guild_id=GUILD)  # our guild, their calendar
    with pytest.raises(NotFound) as missing:
        await store.events.create_many([event(ours, 0), stray, event(ours, 2)])
    assert missing.value.kind == "calendar"
    assert await everything(store) == []
    assert await store.sync.take() == []


async def test_update_many_changes_all_or_nothing(store, calendars):
    ours, theirs = calendars
    a, b = await store.events.create_many([event(ours, 0), event(ours, 1)])
    foreign = (await store.events.create_many([event(theirs, 5)]))[0]
    with pytest.raises(NotFound):
        await store.events.update_many(
            [dataclasses.replace(a, name="A"), dataclasses.replace(foreign, guild_id=GUILD, name="stolen")]
        )
    assert [e.name for e in await everything(store)] == ["Event 0", "Event 1"]
    assert (await everything(store, OTHER))[0].name == "Event 5"

    await store.events.set_card(GUILD, a.id, 555, 666)
    await handled(store)
    weekly = Recurrence("WEEKLY", count=3)
    updated = await store.events.update_many(
        [dataclasses.replace(a, name="A"), dataclasses.replace(b, recurrence=weekly)]
    )
    assert [e.name for e in updated] == ["A", "Event 1"]
    assert updated[0].card_message_id == 666  # the card's place is kept (a stale copy cannot erase it)
    assert updated[1].recurrence == weekly and updated[1].repeats
    assert [entry.event_id for entry in await store.sync.take()] == [a.id, b.id]


async def test_delete_many_deletes_all_or_nothing_and_queues_the_last_state(store, calendars):
    ours, theirs = calendars
    a, b = await store.events.create_many([event(ours, 0), event(ours, 1)])
    foreign = (await store.events.create_many([event(theirs, 5)]))[0]
    await handled(store)
    with pytest.raises(NotFound):
        await store.events.delete_many(GUILD, [a.id, foreign.id])
    assert len(await everything(store)) == 2 and len(await everything(store, OTHER)) == 1
    assert await store.sync.take() == []

    deleted = await store.events.delete_many(GUILD, [b.id, a.id])
    assert [e.id for e in deleted] == [b.id, a.id]
    assert await everything(store) == []
    queued = await store.sync.take()
    assert [(entry.event_id, entry.deleted.name, entry.deleted.id) for entry in queued] == [
        (b.id, "Event 1", b.id),
        (a.id, "Event 0", a.id),
    ]


async def test_page_lists_one_off_and_recurring_events_by_start(store, calendars):
    ours, _ = calendars
    created = await store.events.create_many(
        [event(ours, 3), event(ours, 1, recurrence=Recurrence("DAILY")), event(ours, 2)]
    )
    page, total = await store.events.page(GUILD, limit=2, offset=1)
    assert total == 3
    assert [e.name for e in page] == ["Event 2", "Event 3"]
    assert [e.id for e in (await store.events.page(GUILD, calendar_id=ours.id, limit=None))[0]] == [
        created[1].id, created[2].id, created[0].id,
    ]  # fmt: skip
