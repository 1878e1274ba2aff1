"""The Events tab mirror's store (storage/native.py), on both backends: the per-guild queue of passes with
its lease, a mark made during a pass kept, a refusal waiting for the next change; which scheduled event is
which event; an import made once; the Interested a member took back removing only the answer it gave."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.errors import Conflict
from bot.domain.models import Calendar, Event
from bot.domain.rsvp import GOING, MAYBE
from bot.storage import Store, open_store
from bot.storage.native import NativeLink

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
GUILD = 1 << 22


@pytest.fixture
def clock() -> list[datetime]:
    return [NOW]


@pytest.fixture
async def store(store_url: str, clock: list[datetime]) -> AsyncIterator[Store]:
    opened = await open_store(store_url, clock=lambda: clock[0])
    yield opened
    await opened.close()


async def test_a_pass_is_leased_and_a_mark_made_meanwhile_is_kept(store: Store, clock: list[datetime]):
    assert await store.native.mark(GUILD, only_known=True) is False  # a guild that never mirrored: nothing
    assert await store.native.next_due() is None
    calendar = await store.calendars.create(Calendar(guild_id=GUILD, name="Raids", discord_events=True))
    assert calendar.discord_events and await store.native.next_due() == NOW  # asked for with the write

    [claim] = await store.native.claim(lease_seconds=120)
    assert await store.native.claim(lease_seconds=120) == []  # leased
    assert await store.native.next_due() == NOW + timedelta(seconds=120)  # the lease's end
    assert await store.native.mark(GUILD, only_known=True) is True  # a write while the pass runs
    await store.native.finish(claim, NOW + timedelta(hours=1), {calendar.id: 3})
    assert await store.native.next_due() == NOW  # not folded into the pass that had read the guild
    [claim] = await store.native.claim(lease_seconds=120)
    await store.native.finish(claim, NOW + timedelta(hours=1), {calendar.id: 3})
    assert await store.native.next_due() == NOW + timedelta(hours=1)
    assert (await store.native.settings(GUILD)).left_out == {calendar.id: 3}

    clock[0] = NOW + timedelta(hours=1)
    [claim] = await store.native.claim(lease_seconds=120)
    clock[0] += timedelta(seconds=121)  # the worker died: its lease ran out
    [again] = await store.native.claim(lease_seconds=120)
    assert again.guild_id == GUILD
    await store.native.retry(again, clock[0] + timedelta(seconds=5), "503")
    assert await store.native.next_due() == clock[0] + timedelta(seconds=5)


async def test_a_refusal_waits_for_the_next_change(store: Store):
    await store.calendars.create(Calendar(guild_id=GUILD, name="Raids", discord_events=True))
    [claim] = await store.native.claim(lease_seconds=120)
    await store.native.refuse(claim, "no Manage Events")
    assert (await store.native.settings(GUILD)).refused == "no Manage Events"
    assert await store.native.next_due() is None  # not retried on its own
    assert await store.native.mark_all() == 0  # nor at start-up
    await store.native.mark(GUILD)  # the next change
    assert await store.native.next_due() == NOW and (await store.native.settings(GUILD)).refused is None


async def test_links_imports_and_interest(store: Store):
    calendar = await store.calendars.create(Calendar(guild_id=GUILD, name="Raids"))
    event = await store.events.create(Event(guild_id=GUILD, calendar_id=calendar.id, name="Raid", starts=NOW))
    await store.native.link(NativeLink(900, GUILD, event.id, 0, False, None))
    await store.native.link(NativeLink(901, GUILD, event.id, 0, False, "https://example.com/a.png"))  # replaces 900
    assert await store.native.links(GUILD) == [NativeLink(901, GUILD, event.id, 0, False, "https://example.com/a.png")]
    assert await store.native.link_of(GUILD + 1, 901) is None  # another guild's

    draft = Event(guild_id=GUILD, calendar_id=calendar.id, name="Picnic", starts=NOW + timedelta(days=1))
    imported = await store.native.import_event(draft, 950, "fp1")
    with pytest.raises(Conflict):
        await store.native.import_event(draft, 950, "fp1")  # once
    assert (await store.native.link_of(GUILD, 950)).imported
    await store.native.saw(GUILD, 950, "fp2")
    assert (await store.native.link_of(GUILD, 950)).seen == "fp2"
    assert [e.event_id for e in await store.sync.for_event(GUILD, imported.id)] == [imported.id]  # its follow-up

    await store.attendees.respond(GUILD, event.id, 0, 7, MAYBE, None)
    await store.attendees.respond(GUILD, event.id, 0, 8, GOING, None)
    await store.native.set_interested(901, 7, True)
    assert await store.native.interested(901) == {7}
    assert await store.attendees.withdraw(GUILD, event.id, 0, 8, MAYBE) is False  # going stands
    assert await store.attendees.withdraw(GUILD, event.id, 0, 7, MAYBE) is True
    assert [(a.user_id, a.status) for a in await store.attendees.list(GUILD, event.id, 0)] == [(8, GOING)]
    await store.events.delete(GUILD, event.id)  # the link stays: the next pass deletes its scheduled event
    assert [link.native_id for link in await store.native.links(GUILD)] == [901, 950]
    await store.native.unlink(GUILD, 901)
    assert await store.native.interested(901) == set()  # with its link
