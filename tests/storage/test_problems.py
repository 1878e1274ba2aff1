"""The problems a background task records for one event (storage/problems.py), on both backends; and the
series a bad row leaves readable (`all_series(unreadable=...)`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.domain.models import Event
from bot.domain.recurrence import Recurrence
from bot.domain.shards import Shards
from bot.storage import Store, open_store
from bot.storage.problems import DELIVERY, ERROR_MAX, FOLLOW_UP, REMINDERS, SERIES_CARD, Unreadable, describe
from bot.storage.transfer import copy_store

from .raw import raw

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
GUILD_A = 1 << 22  # shard 1 of 2
GUILD_B = 2 << 22  # shard 0 of 2


@pytest.fixture
def clock() -> list[datetime]:
    return [NOW]


@pytest.fixture
async def store(store_url: str, clock: list[datetime]) -> AsyncIterator[Store]:
    opened = await open_store(store_url, clock=lambda: clock[0])
    yield opened
    await opened.close()


async def series(store: Store, guild_id: int, name: str = "Raid", **fields) -> Event:
    calendar = await store.calendars.get_or_create(guild_id, "General")
    return await store.events.create(
        Event(guild_id=guild_id, calendar_id=calendar.id, name=name, starts=NOW + timedelta(days=1),
              recurrence=Recurrence("WEEKLY"), **fields)
    )  # fmt: skip


async def test_a_problem_seen_again_counts_and_keeps_when_it_was_first_seen(store, clock):
    raid = await series(store, GUILD_A)
    assert await store.problems.record(GUILD_A, raid.id, SERIES_CARD, OverflowError("date value out of range"))
    clock[0] = NOW + timedelta(hours=1)
    assert await store.problems.record(GUILD_A, raid.id, SERIES_CARD, "still broken")
    [problem] = await store.problems.for_guild(GUILD_A)
    assert (problem.guild_id, problem.event_id, problem.what, problem.event_name) == (
        GUILD_A, raid.id, SERIES_CARD, "Raid"
    )  # fmt: skip
    assert (problem.first_seen, problem.last_seen, problem.count) == (NOW, NOW + timedelta(hours=1), 2)
    assert problem.error == "still broken"  # the latest error


async def test_one_problem_per_guild_event_and_kind_most_recent_first(store, clock):
    raid, party = await series(store, GUILD_A), await series(store, GUILD_A, "Party")
    other = await series(store, GUILD_B)
    await store.problems.record(GUILD_A, raid.id, SERIES_CARD, "a")
    clock[0] = NOW + timedelta(minutes=1)
    await store.problems.record(GUILD_A, raid.id, REMINDERS, "b")
    clock[0] = NOW + timedelta(minutes=2)
    await store.problems.record(GUILD_A, party.id, DELIVERY, "c")
    await store.problems.record(GUILD_B, other.id, FOLLOW_UP, "d")
    found = await store.problems.for_guild(GUILD_A)
    assert [(p.event_id, p.what) for p in found] == [(party.id, DELIVERY), (raid.id, REMINDERS), (raid.id, SERIES_CARD)]
    assert [p.error for p in await store.problems.for_guild(GUILD_B)] == ["d"]  # every read is scoped by guild
    assert len(await store.problems.for_guild(GUILD_A, limit=2)) == 2
    assert await store.problems.events_with(SERIES_CARD) == {(GUILD_A, raid.id)}
    assert await store.problems.events_with(FOLLOW_UP, shards=Shards(2, (1,))) == set()  # guild B is on shard 0
    assert await store.problems.events_with(FOLLOW_UP, shards=Shards(2, (0,))) == {(GUILD_B, other.id)}


async def test_a_problem_is_cleared_by_kind_or_all_at_once(store):
    raid = await series(store, GUILD_A)
    for what in (SERIES_CARD, REMINDERS, FOLLOW_UP):
        await store.problems.record(GUILD_A, raid.id, what, "broken")
    assert await store.problems.clear(GUILD_A, raid.id, SERIES_CARD)
    assert not await store.problems.clear(GUILD_A, raid.id, SERIES_CARD)  # nothing left to clear
    assert not await store.problems.clear(GUILD_B, raid.id)  # another guild's id clears nothing
    assert [p.what for p in await store.problems.for_guild(GUILD_A)] == [FOLLOW_UP, REMINDERS]  # seen together
    assert await store.problems.clear(GUILD_A, raid.id)
    assert await store.problems.for_guild(GUILD_A) == []


async def test_problems_go_with_their_event_and_none_is_kept_for_a_missing_one(store):
    raid = await series(store, GUILD_A)
    await store.problems.record(GUILD_A, raid.id, REMINDERS, "broken")
    await store.events.delete(GUILD_A, raid.id)
    assert await store.problems.for_guild(GUILD_A) == []
    assert not await store.problems.record(GUILD_A, raid.id, REMINDERS, "broken")  # deleted meanwhile
    assert not await store.problems.record(GUILD_B, 10**30, REMINDERS, "broken")  # no such id at all
    with pytest.raises(ValueError, match="unknown problem kind"):
        await store.problems.record(GUILD_A, raid.id, "everything", "broken")


async def test_the_error_kept_is_one_bounded_line_without_secrets(store):
    raid = await series(store, GUILD_A)
    error = RuntimeError(
        "cannot reach postgresql://calbot:hunter2@db.internal:5432/calbot?sslmode=disable\x00 now\n"
        'Traceback (most recent call last):\n  File "x.py"'
    )
    await store.problems.record(GUILD_A, raid.id, FOLLOW_UP, error)
    [problem] = await store.problems.for_guild(GUILD_A)  # a NUL in it is refused by PostgreSQL: dropped
    assert problem.error == "RuntimeError: cannot reach postgresql://db.internal/… now"
    hook = "https://discord.com/api/webhooks/123/abcdefSECRET"
    assert describe(f"POST {hook} failed") == "POST https://discord.com/… failed"
    assert describe("token=abc.def password: hunter2") == "token=*** password: ***"
    assert describe(ValueError("use cbt_12_s3cr3t here")) == "ValueError: use cbt_*** here"
    assert describe(KeyError()) == "KeyError"
    assert describe("\n\n  second line first\nthird") == "second line first"
    assert len(long := describe("x" * 5000)) == ERROR_MAX and long.endswith("…")


async def test_all_series_leaves_out_and_reports_a_row_it_cannot_read(store, store_url):
    good = await series(store, GUILD_A)
    bad = await series(store, GUILD_A, "Bad")
    await store.events.set_card(GUILD_A, bad.id, 5, 6)
    other = await series(store, GUILD_B)
    await raw(store_url, f"UPDATE events SET recurrence = 'FREQ=MONTHLY;BYDAY=53MO' WHERE id = {bad.id}")
    with pytest.raises(Exception, match="5 of each weekday"):
        await store.events.all_series()  # as before, without a list to report to
    unreadable: list[Unreadable] = []
    assert [e.id for e in await store.events.all_series(unreadable=unreadable)] == [good.id, other.id]
    assert [(u.guild_id, u.event_id, u.has_card) for u in unreadable] == [(GUILD_A, bad.id, True)]
    assert "5 of each weekday" in str(unreadable[0].error)


async def test_problems_are_copied_with_the_installation(tmp_path: Path, store_url: str):
    source = await open_store(f"sqlite:///{tmp_path}/source.sqlite3", clock=lambda: NOW)
    target = await open_store(store_url if store_url.startswith("postgres") else f"sqlite:///{tmp_path}/t.sqlite3")
    try:
        raid = await series(source, GUILD_A)
        await source.problems.record(GUILD_A, raid.id, SERIES_CARD, "broken")
        report = {c.table: (c.source, c.target) for c in await copy_store(source, target)}
        assert report["problems"] == (1, 1)
        assert await target.problems.for_guild(GUILD_A) == await source.problems.for_guild(GUILD_A)
    finally:
        await source.close()
        await target.close()
