"""Attendees in the SQLite store, on a real file in a temp dir: answers, the waitlist, closed DMs."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.errors import NotFound
from bot.domain.models import Event
from bot.domain.rsvp import GOING, MAYBE, NOT_GOING, ONE_OFF, WAITLISTED, Change
from bot.storage import Store, open_store

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
GUILD, OTHER_GUILD = 1, 2
CLOSED = "the member's DMs are closed (50007)"


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[Store]:
    opened = await open_store(store_url, clock=lambda: NOW)
    yield opened
    await opened.close()


async def new_event(store: Store, guild_id: int = GUILD, capacity: int | None = None) -> Event:
    calendar = await store.calendars.get_or_create(guild_id, "General")
    return await store.events.create(
        Event(
            guild_id=guild_id, calendar_id=calendar.id, name="Raid", starts=NOW + timedelta(days=1), capacity=capacity
        )
    )


async def statuses(store: Store, event: Event, guild_id: int = GUILD) -> list[tuple[int, str]]:
    return [(a.user_id, a.status) for a in await store.attendees.list(guild_id, event.id, ONE_OFF)]


async def test_respond_stores_the_answer_and_returns_the_changes(store: Store) -> None:
    event = await new_event(store)
    assert await store.attendees.respond(GUILD, event.id, ONE_OFF, 101, GOING, None) == [Change(101, GOING)]
    assert await store.attendees.respond(GUILD, event.id, ONE_OFF, 102, MAYBE, None) == [Change(102, MAYBE)]
    assert await store.attendees.respond(GUILD, event.id, ONE_OFF, 101, GOING, None) == []
    assert await store.attendees.respond(GUILD, event.id, ONE_OFF, 102, NOT_GOING, None) == [Change(102, NOT_GOING)]
    assert await statuses(store, event) == [(101, GOING), (102, NOT_GOING)]
    [first, _] = await store.attendees.list(GUILD, event.id, ONE_OFF)
    assert (first.guild_id, first.event_id, first.occurrence, first.dm_error) == (GUILD, event.id, ONE_OFF, None)


async def test_the_waitlist_is_served_in_the_order_people_asked(store: Store) -> None:
    event = await new_event(store, capacity=1)
    for user in (101, 102, 103, 104):
        await store.attendees.respond(GUILD, event.id, ONE_OFF, user, GOING, 1)
    assert await statuses(store, event) == [(101, GOING), (102, WAITLISTED), (103, WAITLISTED), (104, WAITLISTED)]

    # 102 steps out and back in: to the back of the queue
    await store.attendees.respond(GUILD, event.id, ONE_OFF, 102, MAYBE, 1)
    await store.attendees.respond(GUILD, event.id, ONE_OFF, 102, GOING, 1)
    # 103 says going again: keeps its place
    assert await store.attendees.respond(GUILD, event.id, ONE_OFF, 103, GOING, 1) == []

    changes = await store.attendees.respond(GUILD, event.id, ONE_OFF, 101, NOT_GOING, 1)
    assert changes == [Change(101, NOT_GOING), Change(103, GOING)]
    waiting = [a.user_id for a in await store.attendees.list(GUILD, event.id, ONE_OFF) if a.status == WAITLISTED]
    assert waiting == [104, 102]


async def promoted_by(store: Store, event: Event, capacity: int | None) -> dict[int, list[int]]:
    """Change the event's capacity; the members the write promoted, as queued for the bot to DM."""
    await store.sync.done([e.id for e in await store.sync.for_event(GUILD, event.id)])
    await store.events.update(dataclasses.replace(await store.events.get(GUILD, event.id), capacity=capacity))
    [entry] = await store.sync.for_event(GUILD, event.id)
    return entry.promoted


async def test_more_room_promotes_in_the_same_write_longest_waiting_first(store: Store) -> None:
    event = await new_event(store, capacity=1)
    for user in (101, 102, 103, 104):
        await store.attendees.respond(GUILD, event.id, ONE_OFF, user, GOING, 1)
    assert await promoted_by(store, event, 1) == {}
    assert await promoted_by(store, event, 3) == {ONE_OFF: [102, 103]}
    assert await promoted_by(store, event, None) == {ONE_OFF: [104]}
    assert {status for _, status in await statuses(store, event)} == {GOING}
    assert await promoted_by(store, event, 1) == {}  # lowering demotes no one
    assert {status for _, status in await statuses(store, event)} == {GOING}


async def test_set_dm_error_marks_one_attendee_and_can_clear_it(store: Store) -> None:
    event = await new_event(store)
    for user in (101, 102):
        await store.attendees.respond(GUILD, event.id, ONE_OFF, user, GOING, None)
    await store.attendees.set_dm_error(GUILD, event.id, ONE_OFF, 101, CLOSED)
    errors = {a.user_id: a.dm_error for a in await store.attendees.list(GUILD, event.id, ONE_OFF)}
    assert errors == {101: CLOSED, 102: None}
    # a later answer keeps the record: the DMs are still closed
    await store.attendees.respond(GUILD, event.id, ONE_OFF, 101, MAYBE, None)
    assert (await store.attendees.list(GUILD, event.id, ONE_OFF))[-1].dm_error == CLOSED
    await store.attendees.set_dm_error(GUILD, event.id, ONE_OFF, 101, None)
    assert all(a.dm_error is None for a in await store.attendees.list(GUILD, event.id, ONE_OFF))


async def test_every_call_is_scoped_by_guild(store: Store) -> None:
    event = await new_event(store)
    await store.attendees.respond(GUILD, event.id, ONE_OFF, 101, GOING, None)

    with pytest.raises(NotFound):
        await store.attendees.respond(OTHER_GUILD, event.id, ONE_OFF, 201, GOING, None)
    with pytest.raises(NotFound):
        await store.events.update(dataclasses.replace(event, guild_id=OTHER_GUILD, capacity=None))
    assert await store.attendees.list(OTHER_GUILD, event.id, ONE_OFF) == []
    await store.attendees.set_dm_error(OTHER_GUILD, event.id, ONE_OFF, 101, CLOSED)
    [attendee] = await store.attendees.list(GUILD, event.id, ONE_OFF)
    assert (attendee.user_id, attendee.status, attendee.dm_error) == (101, GOING, None)


async def test_an_unknown_event_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        await store.attendees.respond(GUILD, 999, ONE_OFF, 101, GOING, None)


async def test_occurrences_keep_their_own_answers(store: Store) -> None:
    event = await new_event(store, capacity=1)
    await store.attendees.respond(GUILD, event.id, ONE_OFF, 101, GOING, 1)
    await store.attendees.respond(GUILD, event.id, 1_780_000_000, 102, GOING, 1)  # another occurrence: room
    assert await statuses(store, event) == [(101, GOING)]
    later = await store.attendees.list(GUILD, event.id, 1_780_000_000)
    assert [(a.user_id, a.status) for a in later] == [(102, GOING)]


async def test_deleting_the_event_deletes_its_attendees(store: Store) -> None:
    event = await new_event(store)
    await store.attendees.respond(GUILD, event.id, ONE_OFF, 101, GOING, None)
    await store.events.delete(GUILD, event.id)
    assert await store.attendees.list(GUILD, event.id, ONE_OFF) == []


async def test_concurrent_answers_never_overfill_the_event(store: Store) -> None:
    event = await new_event(store, capacity=3)
    answers = await asyncio.gather(
        *(store.attendees.respond(GUILD, event.id, ONE_OFF, u, GOING, 3) for u in range(100, 120))
    )
    found = await statuses(store, event)
    assert len([u for u, s in found if s == GOING]) == 3
    assert len([u for u, s in found if s == WAITLISTED]) == 17
    # Whoever was told they got a place has it: answers were taken one at a time (on PostgreSQL the
    # order in which pooled connections reach the lock is not the order the tasks started).
    told_going = {c.user_id for changes in answers for c in changes if c.status == GOING}
    assert told_going == {u for u, s in found if s == GOING}


async def test_answers_survive_reopening_the_store(store_url: str) -> None:
    url = store_url
    first = await open_store(url, clock=lambda: NOW)
    try:
        event = await new_event(first, capacity=1)
        await first.attendees.respond(GUILD, event.id, ONE_OFF, 101, GOING, 1)
        await first.attendees.respond(GUILD, event.id, ONE_OFF, 102, GOING, 1)
    finally:
        await first.close()
    second = await open_store(url, clock=lambda: NOW)
    try:
        assert await statuses(second, event) == [(101, GOING), (102, WAITLISTED)]
    finally:
        await second.close()
