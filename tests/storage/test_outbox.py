"""The reminder outbox shared by several processes: shard filters on both backends, and on PostgreSQL
several stores (as several processes would hold) claiming from one table at once."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.errors import NotFound
from bot.domain.models import Event
from bot.domain.reminders import PlannedReminder
from bot.domain.shards import Shards, shard_of
from bot.storage import Store, open_store

from .raw import raw

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
LEASE = timedelta(minutes=2)
# Two guilds on different shards of 2.
GUILD_A = 1 << 22  # shard 1 of 2
GUILD_B = 2 << 22  # shard 0 of 2


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[Store]:
    opened = await open_store(store_url, clock=lambda: NOW)
    yield opened
    await opened.close()


async def due_reminders(store: Store, guild_id: int, count: int, channel: str = "discord_public") -> list[int]:
    """`count` events of `guild_id`, each with one reminder due now; returns the event ids."""
    calendar = await store.calendars.get_or_create(guild_id, "General")
    ids = []
    for n in range(count):
        starts = NOW + timedelta(minutes=15)
        event = await store.events.create(
            Event(
                guild_id=guild_id,
                calendar_id=calendar.id,
                name=f"E{n}",
                starts=starts,
                notifications_channels=(channel,),
            )
        )
        await store.reminders.schedule(guild_id, event.id, [PlannedReminder(0, starts, "pt15m", channel, NOW)])
        ids.append(event.id)
    return ids


def test_the_guilds_are_on_the_shards_the_tests_assume() -> None:
    assert (shard_of(GUILD_A, 2), shard_of(GUILD_B, 2)) == (1, 0)


async def test_a_shard_claims_its_guilds_posts_and_every_guilds_dms(store: Store) -> None:
    await due_reminders(store, GUILD_A, 2)
    await due_reminders(store, GUILD_B, 2)
    await due_reminders(store, GUILD_B, 1, channel="discord_private")
    shard_one = Shards(2, (1,))
    assert await store.reminders.next_due(shards=shard_one) == NOW
    claimed = await store.reminders.claim(NOW, "w1", LEASE, 100, shards=shard_one)
    assert sorted((r.guild_id, r.channel) for r in claimed) == [
        (GUILD_A, "discord_public"), (GUILD_A, "discord_public"), (GUILD_B, "discord_private"),
    ]  # fmt: skip
    # What is left is shard 0's: shard 1 is not woken for it, and cannot take it.
    assert await store.reminders.next_due(shards=shard_one) is None
    assert await store.reminders.claim(NOW, "w1", LEASE, 100, shards=shard_one) == []
    rest = await store.reminders.claim(NOW, "w0", LEASE, 100, shards=Shards(2, (0,)))
    assert [(r.guild_id, r.channel) for r in rest] == [(GUILD_B, "discord_public")] * 2


async def test_the_sync_queue_and_the_series_horizon_follow_the_shards(store: Store) -> None:
    for guild_id in (GUILD_A, GUILD_B):
        calendar = await store.calendars.get_or_create(guild_id, "General")
        event = await store.events.create(
            Event(guild_id=guild_id, calendar_id=calendar.id, name="Weekly", starts=NOW, recurrence=None)
        )
        await store.sync.push(guild_id, event.id)
    taken = await store.sync.take(shards=Shards(2, (0,)))
    assert {entry.guild_id for entry in taken} == {GUILD_B}
    assert {entry.guild_id for entry in await store.sync.take()} == {GUILD_A, GUILD_B}
    assert await store.events.all_series(shards=Shards(2, (1,))) == []


async def test_members_dm_reminders_waiting_on_a_retry_follow_their_event(store: Store) -> None:
    """A DM reminder fanned out to members and waiting on a retry is cancelled when its event moves, as
    the event's other pending reminders are; one the event still has stays pending."""
    [event_id] = await due_reminders(store, GUILD_A, 1, channel="discord_private")
    [parent] = await store.reminders.claim(NOW, "w", LEASE, 10)
    assert await store.reminders.fan_out(parent, "w", [101, 102]) == 2
    dms = await store.reminders.claim(NOW, "w", LEASE, 10)
    for dm in dms:  # Discord answered 5xx: both wait for a retry
        assert await store.reminders.retry(dm.id, "w", NOW + timedelta(minutes=1), "Discord answered 503")
    kept = PlannedReminder(0, parent.occurrence_start, "pt15m", "discord_private", NOW)
    await store.reminders.schedule(GUILD_A, event_id, [], {kept.slot})
    assert {(r.target, r.state) for r in await store.reminders.for_event(GUILD_A, event_id)} == {
        (0, "sent"), (101, "pending"), (102, "pending"),
    }  # fmt: skip
    moved = parent.occurrence_start + timedelta(hours=1)
    await store.reminders.schedule(
        GUILD_A, event_id, [PlannedReminder(0, moved, "pt15m", "discord_private", moved - timedelta(minutes=15))]
    )
    states = {(r.occurrence_start, r.target): r.state for r in await store.reminders.for_event(GUILD_A, event_id)}
    assert states == {
        (parent.occurrence_start, 0): "sent",  # history stays
        (parent.occurrence_start, 101): "cancelled",
        (parent.occurrence_start, 102): "cancelled",
        (moved, 0): "pending",  # the moved occurrence's DMs fan out again when due
    }


# ---- several processes on one PostgreSQL database


@pytest.fixture
async def stores(postgres_url: str) -> AsyncIterator[list[Store]]:
    """Three stores on one database: what three bot processes hold."""
    opened = [await open_store(postgres_url, clock=lambda: NOW) for _ in range(3)]
    yield opened
    for store in opened:
        await store.close()


async def test_concurrent_claims_never_take_a_reminder_twice(stores: list[Store]) -> None:
    await due_reminders(stores[0], GUILD_A, 300)

    async def drain(store: Store, worker: str) -> list[int]:
        taken = []
        while batch := await store.reminders.claim(NOW, worker, LEASE, 7):
            taken += [r.id for r in batch]
            await asyncio.sleep(0)
        return taken

    claims = await asyncio.gather(*(drain(store, f"w{n}") for n, store in enumerate(stores * 3)))
    every = [reminder_id for taken in claims for reminder_id in taken]
    assert len(every) == 300 == len(set(every))
    assert sum(1 for taken in claims if taken) > 1  # they really did share the work


async def test_a_dead_processs_claims_are_taken_over_when_its_lease_ends(stores: list[Store]) -> None:
    dead, alive, _ = stores
    await due_reminders(dead, GUILD_A, 3)
    assert len(await dead.reminders.claim(NOW, "dead", LEASE, 10)) == 3
    # A process starting now must not take claims that may be a live process's.
    assert await alive.reminders.recover(NOW) == 0
    assert await alive.reminders.claim(NOW, "alive", LEASE, 10) == []
    later = NOW + LEASE + timedelta(seconds=1)
    assert await alive.reminders.release_expired(later) == 3
    taken = await alive.reminders.claim(later, "alive", LEASE, 10)
    assert len(taken) == 3
    # The dead worker, if it was only slow, can no longer finish what it lost.
    assert not await dead.reminders.finish(taken[0].id, "dead", "sent")
    assert await alive.reminders.finish(taken[0].id, "alive", "sent")


async def test_a_reminder_written_by_one_process_wakes_the_others(stores: list[Store]) -> None:
    writer, listener, _ = stores
    reminders: asyncio.Queue[str] = asyncio.Queue()
    synced: asyncio.Queue[str] = asyncio.Queue()
    await listener.subscribe("reminders", reminders.put_nowait)
    await listener.subscribe("sync", synced.put_nowait)
    await due_reminders(writer, GUILD_A, 1)
    assert await asyncio.wait_for(reminders.get(), 5) == str(int(NOW.timestamp()))
    assert await asyncio.wait_for(synced.get(), 5) == str(GUILD_A)  # the event written for it
    calendar = await writer.calendars.get_or_create(GUILD_B, "General")
    await writer.events.create_many(
        [Event(guild_id=GUILD_B, calendar_id=calendar.id, name="From the API", starts=NOW + timedelta(days=1))]
    )
    assert await asyncio.wait_for(synced.get(), 5) == str(GUILD_B)


async def test_nothing_is_announced_for_a_write_that_rolls_back(stores: list[Store]) -> None:
    writer, listener, _ = stores
    heard: asyncio.Queue[str] = asyncio.Queue()
    await listener.subscribe("sync", heard.put_nowait)
    calendar = await writer.calendars.get_or_create(GUILD_B, "General")
    good = Event(guild_id=GUILD_B, calendar_id=calendar.id, name="Fine", starts=NOW + timedelta(days=1))
    orphan = dataclasses.replace(good, calendar_id=calendar.id + 1000)
    with pytest.raises(NotFound):
        await writer.events.create_many([good, orphan])
    assert await writer.sync.take() == []
    await asyncio.sleep(0.3)
    assert heard.empty()


async def test_a_listener_whose_connection_drops_listens_again(stores: list[Store], postgres_url: str) -> None:
    writer, listener, _ = stores
    heard: asyncio.Queue[str] = asyncio.Queue()
    await listener.subscribe("reminders", heard.put_nowait)
    # What a database restart or a network cut does to the listening connection.
    await raw(postgres_url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%'")
    await asyncio.wait_for(heard.get(), 5)  # after reconnecting, it looks for due reminders at once
    await due_reminders(writer, GUILD_A, 1)
    assert await asyncio.wait_for(heard.get(), 5) == str(int(NOW.timestamp()))
