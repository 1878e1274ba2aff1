"""Members' own reminder preferences on both backends: kept per member, found for the events they go to."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.models import Event
from bot.domain.reminders import ReminderPrefs
from bot.domain.rsvp import GOING, MAYBE, NOT_GOING
from bot.storage import Store, open_store

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
GUILD, OTHER = 1 << 22, 2 << 22
ALICE, BOB, CAROL = 11, 12, 13


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[Store]:
    opened = await open_store(store_url, clock=lambda: NOW)
    yield opened
    await opened.close()


async def event(store: Store, guild_id: int, starts: datetime, **fields) -> Event:
    calendar = await store.calendars.get_or_create(guild_id, "General")
    return await store.events.create(Event(guild_id=guild_id, calendar_id=calendar.id, name="Raid", starts=starts,
                                           **fields))  # fmt: skip


async def test_preferences_are_saved_replaced_and_cleared(store):
    prefs = store.reminder_prefs
    assert await prefs.get(ALICE) is None
    saved = await prefs.save(ReminderPrefs(ALICE, intervals=("pt1h", "p1d"), channels=("discord_private", "mail")))
    assert saved == ReminderPrefs(ALICE, intervals=("pt1h", "p1d"), channels=("discord_private", "mail"))
    assert await prefs.save(ReminderPrefs(ALICE, off=True)) == ReminderPrefs(ALICE, off=True)
    await prefs.save(ReminderPrefs(BOB, intervals=("pt15m",)))
    assert await prefs.get(ALICE) == ReminderPrefs(ALICE, off=True)
    assert await prefs.of([ALICE, BOB, CAROL]) == {
        ALICE: ReminderPrefs(ALICE, off=True), BOB: ReminderPrefs(BOB, intervals=("pt15m",))
    }  # fmt: skip
    assert await prefs.clear(ALICE) is True and await prefs.clear(ALICE) is False
    assert await prefs.get(ALICE) is None and await prefs.get(BOB) is not None


async def test_of_many_members_reads_them_in_bounded_chunks(store):
    members = list(range(1000, 2200))
    for member in members[::100]:
        await store.reminder_prefs.save(ReminderPrefs(member, intervals=("pt1h",)))
    assert sorted(await store.reminder_prefs.of(members)) == members[::100]


async def test_attending_and_events_of_follow_going_and_maybe_answers(store):
    soon = await event(store, GUILD, NOW + timedelta(days=1))
    over = await event(store, GUILD, NOW - timedelta(days=1))
    elsewhere = await event(store, OTHER, NOW + timedelta(days=2))
    for member in (ALICE, BOB, CAROL):
        await store.reminder_prefs.save(ReminderPrefs(member, intervals=("pt1h",)))
    await store.attendees.respond(GUILD, soon.id, 0, ALICE, GOING, None)
    await store.attendees.respond(GUILD, soon.id, 0, BOB, MAYBE, None)
    await store.attendees.respond(GUILD, soon.id, 0, CAROL, NOT_GOING, None)
    await store.attendees.respond(GUILD, over.id, 0, ALICE, GOING, None)
    await store.attendees.respond(OTHER, elsewhere.id, 0, ALICE, GOING, None)
    assert [p.user_id for p in await store.reminder_prefs.attending(GUILD, soon.id)] == [ALICE, BOB]
    assert await store.reminder_prefs.attending(OTHER, soon.id) == []  # scoped to its guild
    # Over events are left alone; every guild's events the member goes to are found.
    assert await store.reminder_prefs.events_of(ALICE) == [(GUILD, soon.id), (OTHER, elsewhere.id)]
    assert await store.reminder_prefs.events_of(CAROL) == []
