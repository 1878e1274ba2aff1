"""A stored row that makes background work raise: the series-card roller and the event_sync drain skip it,
go on with the rest, record it for the guild's managers (/notifications), and clear it once it works again.
(tests/test_poisoned_rows.py is the fault test across guilds.) SimCord's clock starts at 2026-01-01T00:00Z."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.exts.sync import DRAIN_BATCH, SET_ASIDE_AFTER
from bot.storage.problems import FOLLOW_UP, SERIES_CARD
from tests.storage.raw import raw

FAR = int(datetime(8999, 12, 31, 23, tzinfo=UTC).timestamp())


async def create(world, name: str, **options) -> int:
    options = {"start": "2026-01-01 09:00", "end": "2026-01-01 10:00", **options}
    res = await world.admin.slash(world.general, "event create", name=name, **options)
    assert "Created" in res.response.content, res.response.content
    return (await world.bot.store.events.find(world.guild.id, name, world.bot.now())).id


async def problems(world) -> dict[tuple[int, str], int]:
    return {(p.event_id, p.what): p.count for p in await world.bot.store.problems.for_guild(world.guild.id)}


async def test_a_series_whose_card_cannot_move_on_is_recorded_then_cleared_when_fixed(world):
    await create(world, "Daily", repeat="daily")
    daily_card = world.general.last_message
    broken = await create(world, "Broken", repeat="daily")
    url = world.config.database.url
    await raw(url, f"UPDATE events SET ends = {FAR} WHERE id = {broken}")
    await world.env.advance_time(10 * 3600 + 60)  # 10:01: the first occurrences are over
    moved = next(m for m in world.general.history() if m.id == daily_card.id)
    assert {f.name: f.value for f in moved.embeds[0].fields}["Next"].startswith("<t:1767344400:F>")  # Jan 2nd 09:00
    assert (broken, SERIES_CARD) in await problems(world)

    await raw(url, f"UPDATE events SET ends = starts + 3600 WHERE id = {broken}")  # fixed behind the bot's back
    world.bot.dispatch("series_changed")
    await world.env.advance_time(1)
    assert (broken, SERIES_CARD) not in await problems(world)


async def test_an_event_whose_follow_up_keeps_failing_is_set_aside_and_the_queue_goes_on(world):
    good = await create(world, "Good")
    bad = await create(world, "Bad", repeat="weekly")
    url, store, sync = world.config.database.url, world.bot.store, world.bot.get_cog("EventSync")
    await raw(url, f"UPDATE events SET recurrence = 'this is no rule' WHERE id = {bad}")
    for _ in range(DRAIN_BATCH + 20):  # more of the bad event's entries than a pass takes, ahead of the good one
        await store.sync.push(world.guild.id, bad)
    await store.sync.push(world.guild.id, good)

    for _ in range(SET_ASIDE_AFTER + 1):
        await sync.drain()
    assert await store.sync.for_event(world.guild.id, good) == []  # reached past the bad event's entries
    assert (await problems(world))[bad, FOLLOW_UP] == SET_ASIDE_AFTER
    for _ in range(3):
        await sync.drain()
    assert (await problems(world))[bad, FOLLOW_UP] == SET_ASIDE_AFTER  # set aside: not tried every pass
    assert len(await store.sync.for_event(world.guild.id, bad)) == DRAIN_BATCH + 20  # nothing of it was lost

    await world.env.advance_time(61)  # the pause is over: tried again, once
    await sync.drain()
    await sync.drain()
    assert (await problems(world))[bad, FOLLOW_UP] == SET_ASIDE_AFTER + 1

    await raw(url, f"UPDATE events SET recurrence = 'FREQ=WEEKLY' WHERE id = {bad}")
    await store.sync.push(world.guild.id, bad)  # written again: tried at once, set aside or not
    await sync.drain()
    assert await store.sync.for_event(world.guild.id, bad) == []
    assert (bad, FOLLOW_UP) not in await problems(world)


async def test_only_managers_see_what_needs_attention(world):
    bad = await create(world, "Bad *name*", repeat="weekly")
    await world.bot.store.problems.record(world.guild.id, bad, SERIES_CARD, ValueError("no\nsecond line"))
    member = await world.alice.slash(world.general, "notifications")
    assert [e.title for e in member.response.embeds] == ["Recent reminders"]

    manager = await world.admin.slash(world.general, "notifications")
    attention, recent = manager.response.embeds
    assert attention.title == "Needs attention" and recent.title == "Recent reminders"
    [line] = attention.description.splitlines()
    assert line.startswith(f"⚠️ **Bad \\*name\\*** (#{bad}): its card cannot move on · since <t:")
    assert line.endswith(":R> · ValueError: no")

    role = world.guild.create_role("Calendar keepers")
    keeper = world.guild.add_member(world.env.create_user("keeper"), roles=[role])
    await world.bot.store.settings.change(world.bot.config.defaults.for_guild(world.guild.id), manager_role_id=role.id)
    keeper_view = await keeper.slash(world.general, "notifications")
    assert [e.title for e in keeper_view.response.embeds] == ["Needs attention", "Recent reminders"]


async def test_a_guilds_many_problems_fit_one_message_a_line_per_event(world):
    ids = [await create(world, f"Event {'x' * 90} {n}", repeat="weekly") for n in range(40)]
    for event_id in ids:
        for what in (SERIES_CARD, FOLLOW_UP):
            await world.bot.store.problems.record(world.guild.id, event_id, what, "x" * 500)
    await world.env.advance_time(60)
    await world.bot.store.problems.record(world.guild.id, ids[0], SERIES_CARD, "seen again")
    attention, recent = (await world.admin.slash(world.general, "notifications")).response.embeds
    lines = attention.description.splitlines()
    assert lines[0].startswith(f"⚠️ **Event {'x' * 53}…** (#{ids[0]}): its card cannot move on, a change cannot")
    assert lines[0].endswith(" · seen again")  # the latest error
    assert lines[-1].startswith("…and ") and lines[-1].endswith(" more")
    assert len(lines) - 1 + int(lines[-1].split()[1]) == 40  # every event is shown or counted
    assert len(attention.description) <= 4096 and len(attention) + len(recent) <= 6000
