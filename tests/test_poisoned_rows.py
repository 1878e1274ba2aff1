"""The fault test of poisoned rows: one guild's stored rows that make its work raise never stop another
guild's work, nor the same guild's healthy events; and the guild's managers are told which rows are bad.

Each poisoned row is written with raw SQL, as validation today refuses it (an older calbot, or another
process, stored it): a series whose end is millennia away, a monthly rule with a 53rd Monday, a rule that is
no rule, a rule that never occurs, an UNTIL millennia away. Then the real bot (SimCord) runs a simulated day:
the series-card roller, the reminder horizon, the event_sync drain and dispatch all meet those rows.
"""

from __future__ import annotations

import dataclasses
import time
from datetime import UTC, datetime
from pathlib import Path

import discord
import pytest

from bot.config import Config
from tests import behaviour
from tests.conftest import QUIET_SYNC
from tests.storage.raw import raw

HOUR = 3600
BUDGET = 120.0  # seconds of real time for the whole simulated day: every expansion is bounded

# SimCord's clock starts at 2026-01-01T00:00Z.
POISONS = {
    "Far end": f"ends = {int(datetime(8999, 12, 31, 23, tzinfo=UTC).timestamp())}",
    "Bad ordinal": "recurrence = 'FREQ=MONTHLY;BYDAY=53MO'",
    "Garbage": "recurrence = 'this is no rule'",
    "Never": "recurrence = 'FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30'",
    "Far until": "recurrence = 'FREQ=WEEKLY;UNTIL=89991231T230000Z'",
}
# What each poisoned row breaks, as /notifications names it. "Never" and "Far until" read and expand (to
# nothing, or within the window asked for), so they break nothing.
CARD, PLAN, FOLLOW_UP, DELIVERY = (
    "its card cannot move on",
    "its reminders cannot be planned",
    "a change cannot be applied on Discord",
    "a reminder could not be handled",
)
BROKEN = {
    "Far end": {CARD, PLAN, FOLLOW_UP},  # it reads, but no window of it can be expanded; its reminder is sent
    "Bad ordinal": {CARD, PLAN, FOLLOW_UP, DELIVERY},  # it cannot be read at all
    "Garbage": {CARD, PLAN, FOLLOW_UP, DELIVERY},
}


def ts(*args) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp())


def next_field(message) -> str:
    return {f.name: f.value for f in message.embeds[0].fields}["Next"]


def reminders_in(channel) -> list[str]:
    return [m.content for m in channel.history() if m.content.startswith(("⏰", "🔔"))]


async def create(actor, channel, name: str, **options) -> discord.Message:
    options = {"start": "2026-01-01 09:00", "end": "2026-01-01 10:00", "reminders": "pt15m", **options}
    res = await actor.slash(channel, "event create", name=name, **options)
    assert "Created" in res.response.content, res.response.content
    return channel.last_message


async def event_id(world, guild_id: int, name: str) -> int:
    rows = await raw(
        world.config.database.url, f"SELECT id FROM events WHERE guild_id = {guild_id} AND name = '{name}'"
    )
    return rows[0][0]


# The real bot under SimCord and its world of members, used as they are.
bots, simcord_bot, world, _close_stores = behaviour.FIXTURES


@pytest.fixture(params=behaviour.BACKENDS)
def config(request: pytest.FixtureRequest, tmp_path: Path) -> Config:
    return behaviour.bot_config(request, tmp_path, QUIET_SYNC)


@pytest.fixture
def guild_b(world):
    other = world.env.create_guild(name="Guild B")
    channel = other.create_text_channel("general")
    admins = other.create_role("Admins", permissions=discord.Permissions(manage_guild=True))
    return other, channel, other.add_member(world.env.create_user("b-admin"), roles=[admins])


async def test_poisoned_rows_of_one_guild_stop_no_other_work(world, guild_b):
    began = time.perf_counter()
    b, b_channel, b_admin = guild_b
    a_daily = await create(world.admin, world.general, "Daily", repeat="daily")
    await create(world.admin, world.general, "Party", start="2026-01-01 12:00", end="2026-01-01 13:00")
    b_daily = await create(b_admin, b_channel, "B daily", repeat="daily")
    await create(b_admin, b_channel, "B party", start="2026-01-01 12:00", end="2026-01-01 13:00")
    for name in POISONS:  # weekly series with cards and reminders (10:45), poisoned below
        await create(
            world.admin, world.general, name, start="2026-01-01 11:00", end="2026-01-01 12:00", repeat="weekly"
        )
    url = world.config.database.url
    bad = {name: await event_id(world, world.guild.id, name) for name in POISONS}
    for name, change in POISONS.items():
        await raw(url, f"UPDATE events SET {change} WHERE id = {bad[name]}")

    # The roller looks again (as after any change to a series), the hourly horizon job runs, and the drain
    # meets a queued change of every poisoned event ahead of one of guild B's (an API write, say).
    world.bot.dispatch("series_changed")
    await world.bot.reminders.extend_horizon()
    for event in bad.values():
        await world.bot.store.sync.push(world.guild.id, event)
    b_party = await world.bot.store.events.find(b.id, "B party", world.bot.now())
    await world.bot.store.events.update(dataclasses.replace(b_party, location="The hall"))
    await world.bot.get_cog("EventSync").drain()
    assert await world.bot.store.sync.for_event(b.id, b_party.id) == []  # applied: its card shows the hall
    b_party_card = next(m for m in b_channel.history() if m.embeds and m.embeds[0].title == "B party")
    assert "The hall" in str(b_party_card.embeds[0].to_dict())

    # Guild B's list works, and so does everything of both guilds that is not poisoned.
    listing = (await b_admin.slash(b_channel, "event list")).response.embeds[0].description
    assert "B daily" in listing and "B party" in listing
    await world.env.advance_time(8 * HOUR + 50 * 60)  # 08:50: the daily series' 08:45 reminders are out
    assert [r for r in reminders_in(b_channel) if "B daily" in r]
    assert [r for r in reminders_in(world.general) if "Daily" in r]
    await world.env.advance_time(70 * 60 + 60)  # 10:01: the first daily occurrences are over
    for card, channel in ((b_daily, b_channel), (a_daily, world.general)):
        moved = next(m for m in channel.history() if m.id == card.id)  # edited in place
        assert next_field(moved).startswith(f"<t:{ts(2026, 1, 2, 9)}:F>"), next_field(moved)
    await world.env.advance_time(2 * HOUR)  # 12:01: the parties' 11:45 reminders, and the poisoned 10:45 ones
    assert [r for r in reminders_in(b_channel) if "B party" in r]
    assert [r for r in reminders_in(world.general) if "Party" in r]

    # Guild A's managers are told which rows are bad and what each broke; members and guild B are not.
    res = await world.admin.slash(world.general, "notifications")
    attention, recent = res.response.embeds
    assert attention.title == "Needs attention" and recent.title == "Recent reminders"
    lines = attention.description.splitlines()
    for name, broken in BROKEN.items():
        about = [line for line in lines if f"**{name}** (#{bad[name]})" in line]
        assert {what for what in (CARD, PLAN, FOLLOW_UP, DELIVERY) if any(what in line for line in about)} == broken
    for name in ("Never", "Far until", "Daily", "Party"):
        assert not [line for line in lines if f"**{name}**" in line]
    assert "Traceback" not in attention.description
    member_view = await world.alice.slash(world.general, "notifications")
    assert [e.title for e in member_view.response.embeds] == ["Recent reminders"]
    b_view = await b_admin.slash(b_channel, "notifications")
    assert [e.title for e in b_view.response.embeds] == ["Recent reminders"]

    # A restart meets the same rows at once (the roller catches up at start) and still goes on.
    await world.restart()
    await world.env.advance_time(22 * HOUR)  # 10:01 the next day
    for card, channel in ((b_daily, b_channel), (a_daily, world.general)):
        moved = next(m for m in channel.history() if m.id == card.id)
        assert next_field(moved).startswith(f"<t:{ts(2026, 1, 3, 9)}:F>"), next_field(moved)
    assert time.perf_counter() - began < BUDGET
