"""Discord's Events tab end to end: `python -m bot run` against the stand-in, which models the scheduled-event
routes, their validation, the 100 cap, their 429s and gateway events (tests/standin/_scheduled_events.py).

- Series: a weekly series is one scheduled event with Discord's own recurrence_rule; a rule outside Discord's
  subset is mirrored as its occurrences within the look-ahead window; a cancelled occurrence leaves the tab.
- Exactly once: SIGKILL the instant Discord created the scheduled event, before calbot stored its id; the
  restarted bot finds it by its marker and never creates a second one.
- 429s on these routes are waited out, and every event arrives once; a member's "Interested" becomes a maybe
  (read again from the users route after a resume) and an event a member makes in the tab becomes a calbot
  event.

Start-up is measured in each test and budgets scale with it; about 10-20 s per test on two cores.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.domain.native import read_marker
from tests.standin import DiscordStandIn, Permissions, StandInTimeout
from tests.standin.process import BotProcess

ADMIN_ID = 3_300_000_000_000_000_001
MEMBER_ID = 3_300_000_000_000_000_002
FIRST_START = 60.0


@dataclass
class Guild:
    standin: DiscordStandIn
    guild_id: int
    channel_id: int
    bot: BotProcess

    async def run(self, command: str, *sub: str, budget: float = 30, **options: Any) -> str:
        result = await self.standin.slash(
            self.guild_id, self.channel_id, ADMIN_ID, command, subcommand_path=sub, options=options or None,
            timeout=budget,
        )  # fmt: skip
        return result["content"] or ""

    def natives(self) -> list[dict[str, Any]]:
        return self.standin.scheduled_events(self.guild_id)

    def rows(self, sql: str) -> list[tuple]:
        with contextlib.closing(sqlite3.connect(self.bot.database, timeout=10)) as db:
            return db.execute(sql).fetchall()


@pytest.fixture
async def guild(standin: DiscordStandIn, tmp_path: Path):
    guild_id = standin.add_guild("Guild", bot_permissions=Permissions.DEFAULT_BOT | Permissions.MANAGE_EVENTS)
    channel_id = standin.add_channel(guild_id, "events")
    admins = standin.add_role(guild_id, "Admins", permissions=Permissions.MANAGE_GUILD)
    standin.add_member(guild_id, ADMIN_ID, "admin", roles=[admins])
    standin.add_member(guild_id, MEMBER_ID, "member")
    bot = BotProcess(standin, tmp_path, guild_id)
    yield Guild(standin, guild_id, channel_id, bot)
    if bot.process is not None and bot.process.returncode is None:
        bot.process.kill()
        await bot.process.wait()


async def start(place: Guild, budget: float) -> float:
    """Start the bot and wait until it is logged in; return how long that took."""
    return await place.bot.start_ready(place.standin, budget)


async def until(place: Guild, check, budget: float, what: str) -> None:
    try:
        await place.standin.wait_for(check, timeout=budget, interval=0.1)
    except StandInTimeout:
        raise AssertionError(f"{what} within {budget:.0f} s; tab: {place.natives()}\n{place.bot.output()}") from None


def at(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


async def test_series_by_discord_rule_or_by_occurrence_and_a_cancelled_occurrence_leaves(guild: Guild):
    startup = await start(guild, FIRST_START)
    budget = 10 + 2 * startup
    await guild.run("calendar", "create", name="Raids")
    assert "Events tab" in await guild.run("calendar", "edit", calendar="Raids", discord_events=True)
    first = (datetime.now(UTC) + timedelta(days=1)).replace(hour=18, minute=0, second=0, microsecond=0)
    await guild.run("event", "create", name="Weekly raid", start=at(first), repeat="weekly", calendar="Raids")
    await until(guild, lambda: len(guild.natives()) == 1, budget, "the weekly series was not mirrored")
    [weekly] = guild.natives()
    assert weekly["recurrence_rule"] == {
        "frequency": 2, "interval": 1, "by_weekday": [first.weekday()], "start": first.isoformat()
    }  # fmt: skip
    assert weekly["scheduled_start_time"] == first.isoformat()
    assert read_marker(weekly["description"]) == (1, 0)

    days = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
    two = f"FREQ=WEEKLY;BYDAY={days[first.weekday()]},{days[(first.weekday() + 2) % 7]}"  # two days: not Discord's
    await guild.run("event", "create", name="Twice a week", start=at(first), repeat=two, calendar="Raids")
    expected = [first, first + timedelta(days=2)]  # within the 7-day window from now (first + 7 days is not)
    await until(guild, lambda: len(guild.natives()) == 1 + len(expected), budget, "the occurrences were not mirrored")
    rolling = [n for n in guild.natives() if n["name"] == "Twice a week"]
    assert [n["scheduled_start_time"] for n in rolling] == [m.isoformat() for m in expected]
    assert all(n["recurrence_rule"] is None for n in rolling)
    assert [read_marker(n["description"]) for n in rolling] == [(2, int(m.timestamp())) for m in expected]

    reply = await guild.run("event", "cancel", event="2", occurrence=str(int(first.timestamp())))
    assert "Cancelled" in reply, reply
    await until(guild, lambda: len(guild.natives()) == len(expected), budget, "the cancelled occurrence stayed")
    starts = {n["scheduled_start_time"] for n in guild.natives() if n["name"] == "Twice a week"}
    assert first.isoformat() not in starts

    # Cancelling the weekly series' next occurrence: Discord's rule cannot skip one, so it goes occurrence by
    # occurrence, and the cancelled one is not among them.
    await guild.run("event", "cancel", event="1", occurrence=str(int(first.timestamp())))
    await until(guild, lambda: all(n["recurrence_rule"] is None for n in guild.natives()), budget, "the rule stayed")
    # Its next one after that is more than the 7-day window away: the series leaves the tab for now.
    assert [n["name"] for n in guild.natives()] == ["Twice a week"]
    assert guild.standin.unknown_routes == []
    assert "Traceback" not in guild.bot.output()


async def test_sigkill_between_discords_answer_and_storing_the_id_leaves_one_scheduled_event(guild: Guild):
    standin = guild.standin
    startup = await start(guild, FIRST_START)
    budget = 10 + 2 * startup
    await guild.run("calendar", "create", name="Raids")
    await guild.run("calendar", "edit", calendar="Raids", discord_events=True)
    create = standin._create_scheduled
    killed: list[str] = []

    def create_then_kill(g, body, *, creator_id):
        made = create(g, body, creator_id=creator_id)
        if not killed:
            guild.bot.process.kill()  # Discord holds it now; calbot dies before it hears so
            killed.append(made["id"])
        return made

    standin._create_scheduled = create_then_kill  # the stand-in calls it through the instance
    when = at(datetime.now(UTC) + timedelta(days=2))
    command = asyncio.create_task(guild.run("event", "create", name="Raid", start=when, calendar="Raids"))
    await until(guild, lambda: guild.bot.process.returncode is not None, budget, "the bot was never killed")
    command.cancel()
    with contextlib.suppress(BaseException):
        await command
    standin._create_scheduled = create
    assert [n["id"] for n in guild.natives()] == killed  # Discord has it...
    assert guild.rows("SELECT count(*) FROM native_events") == [(0,)]  # ...calbot does not know its id
    posts_before = len(standin.requests_to("POST", r"/scheduled-events$"))

    await start(guild, 10 + 4 * startup)
    await until(guild, lambda: guild.rows("SELECT count(*) FROM native_events") == [(1,)], budget, "no link stored")
    await asyncio.sleep(2)  # a second pass would show a second event by now
    assert [n["id"] for n in guild.natives()] == killed
    assert guild.rows("SELECT native_id, event_id FROM native_events") == [(int(killed[0]), 1)]
    assert len(standin.requests_to("POST", r"/scheduled-events$")) == posts_before  # taken over, not created


async def test_429s_are_waited_out_interest_counts_and_tab_events_come_in(guild: Guild):
    standin = guild.standin
    standin.scheduled_event_rate = (3, 1.0)  # three requests a second on these routes, per guild
    startup = await start(guild, FIRST_START)
    budget = 20 + 2 * startup
    await guild.run("calendar", "create", name="Raids")
    await guild.run("settings", "discord-events", **{"import": "Raids"})
    soon = datetime.now(UTC) + timedelta(days=1)
    for n in range(6):
        await guild.run("event", "create", name=f"Raid {n}", start=at(soon + timedelta(hours=n)), calendar="Raids")
    await guild.run("calendar", "edit", calendar="Raids", discord_events=True)
    await until(guild, lambda: len(guild.natives()) == 6, budget, "not every event was mirrored")
    assert standin.scheduled_event_429s > 0  # the limit was hit, and waited out
    assert sorted(read_marker(n["description"]) for n in guild.natives()) == [(n, 0) for n in range(1, 7)]

    first = guild.natives()[0]
    standin.set_interested(guild.guild_id, int(first["id"]), MEMBER_ID)
    answered = "SELECT user_id, status FROM attendees WHERE event_id = 1"
    await until(guild, lambda: guild.rows(answered) == [(MEMBER_ID, "interested")], budget, "no maybe recorded")
    standin.set_interested(guild.guild_id, int(first["id"]), MEMBER_ID, False)
    await until(guild, lambda: guild.rows(answered) == [], budget, "the maybe was not taken back")

    # Interest Discord did not send on the gateway (as across a lost connection) is read after the resume.
    standin.guilds[guild.guild_id].scheduled_users[int(first["id"])].add(ADMIN_ID)
    await standin.drop_connection()  # the bot resumes
    await until(guild, lambda: guild.rows(answered) == [(ADMIN_ID, "interested")], budget, "no catch-up on resume")

    start_at = (soon + timedelta(days=1)).replace(microsecond=0)
    made = standin.member_creates_scheduled_event(guild.guild_id, MEMBER_ID, {
        "name": "Picnic", "entity_type": 3, "privacy_level": 2, "entity_metadata": {"location": "The park"},
        "scheduled_start_time": start_at.isoformat(), "scheduled_end_time": (start_at + timedelta(hours=2)).isoformat(),
    })  # fmt: skip
    imported = "SELECT name, location FROM events WHERE name = 'Picnic'"
    await until(
        guild, lambda: guild.rows(imported) == [("Picnic", "The park")], budget, "the tab event did not come in"
    )
    await asyncio.sleep(2)
    assert [n["id"] for n in guild.natives()].count(made["id"]) == 1 and len(guild.natives()) == 7  # no loop
    assert "Traceback" not in guild.bot.output()
