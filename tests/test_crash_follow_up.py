"""Crash safety of an event's follow-up, end to end: `python -m bot run` against the Discord stand-in is
SIGKILLed around `/event create`, restarted on the same SQLite file, and the event's card still exists
exactly once in the channel and its reminder reaches it exactly once.

Every write of an event queues an event_sync entry in its own transaction; the follow-up (plan the
reminders, post the card) is done by the command at once and, for whatever a crash left, by the sync
drain at start-up (bot/exts/follow_up.py, bot/exts/sync.py). Three places for the crash:

- right after the command replied: the follow-up is done, nothing is left for the restarted bot but
  the reminder, which falls due after the restart;
- right after the write, before any follow-up: the event and its entry are written by the store in the
  test process while the bot is down (exactly what such a crash leaves), then the bot starts;
- while the command posts the card: the stand-in kills the bot the instant it has created the card's
  message, before the bot hears of it, so Discord holds the card but the store does not know it.

Each event starts (and its `pt0m` reminder falls due) a little after the restarted bot is up: the lead is
scaled from the start-up time measured in the test itself, not assumed. About 15 s per test on two cores.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import signal
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.domain.models import Calendar, Event
from bot.storage import open_store
from tests.standin import DiscordError, DiscordStandIn, Permissions, StandInError, StandInTimeout
from tests.standin.process import BotProcess

ADMIN_ID = 3_200_000_000_000_000_001
NAME = "Raid night"
SYNC_SECONDS = 2.0  # the drain's default period ([api] sync_seconds)
FIRST_START = 60.0  # seconds the first start may take, before anything is measured
SETTLE = 2.0  # seconds to watch for a second card or reminder once everything arrived


@dataclass
class Guild:
    standin: DiscordStandIn
    guild_id: int
    channel_id: int
    bot: BotProcess


@pytest.fixture
async def guild(standin: DiscordStandIn, tmp_path: Path):
    guild_id = standin.add_guild("Guild")
    channel_id = standin.add_channel(guild_id, "events")
    admins = standin.add_role(guild_id, "Admins", permissions=Permissions.MANAGE_GUILD)
    standin.add_member(guild_id, ADMIN_ID, "admin", roles=[admins])
    bot = BotProcess(standin, tmp_path, guild_id)
    yield Guild(standin, guild_id, channel_id, bot)
    if bot.process is not None and bot.process.returncode is None:
        bot.process.kill()
        await bot.process.wait()


async def start(place: Guild, budget: float) -> float:
    """Start the bot and wait until it is logged in; return how long that took."""
    return await place.bot.start_ready(place.standin, budget)


async def sigkill(bot: BotProcess) -> str:
    """SIGKILL the bot (if still alive) and return the log of the run it ended."""
    if bot.process.returncode is None:
        bot.process.kill()
    await asyncio.wait_for(bot.process.wait(), timeout=10)
    return bot.output()


async def stop(bot: BotProcess) -> str:
    """End the last run with SIGTERM (as an operator would); its log, for the traceback check."""
    output = bot.output()
    with contextlib.suppress(TimeoutError):
        await bot.stop(signal.SIGTERM)
    return output


def lead_for(startup: float) -> int:
    """Seconds from now the event should start: time for a kill, a restart as slow as the measured start
    (twice over, for a loaded machine), one pass of the drain, and a margin."""
    return max(8, math.ceil(2 * startup + SYNC_SECONDS + 2))


def cards(place: Guild) -> list[dict[str, Any]]:
    """The channel's messages that are the event's card (as edited since)."""
    messages = place.standin.messages[place.channel_id]
    return [m for m in messages if [e.get("title") for e in m.get("embeds") or []] == [NAME]]


def reminders(place: Guild) -> list[dict[str, Any]]:
    """The channel's messages that are the event's "starting now" reminder."""
    messages = place.standin.messages[place.channel_id]
    return [m for m in messages if f"**{NAME}** is starting now" in (m.get("content") or "")]


def outbox(database: Path) -> list[tuple[int, str, str, int | None]]:
    """(event id, channel, state, message id) per reminder row."""
    with contextlib.closing(sqlite3.connect(database, timeout=10)) as db:
        return db.execute("SELECT event_id, channel, state, message_id FROM reminders ORDER BY id").fetchall()


def queued(database: Path) -> int:
    """event_sync entries still waiting for their follow-up."""
    with contextlib.closing(sqlite3.connect(database, timeout=10)) as db:
        return db.execute("SELECT count(*) FROM event_sync").fetchone()[0]


def card_row(database: Path, event_id: int) -> tuple[int | None, int | None]:
    """Where the store says the event's card is: (channel id, message id)."""
    with contextlib.closing(sqlite3.connect(database, timeout=10)) as db:
        return db.execute("SELECT card_channel_id, card_message_id FROM events WHERE id = ?", (event_id,)).fetchone()


async def delivered(place: Guild, due: datetime, budget: float) -> None:
    """Wait until the reminder due at `due` is sent (its outbox row `sent`), then SETTLE seconds more so a
    second card or reminder would show."""
    bot = place.bot
    wait = max(0.0, (due - datetime.now(UTC)).total_seconds()) + budget
    try:
        await place.standin.wait_for(
            lambda: reminders(place) and all(state == "sent" for _e, _c, state, _m in outbox(bot.database)),
            timeout=wait,
            interval=0.1,
        )
    except StandInTimeout:
        raise AssertionError(
            f"the reminder was not delivered within {wait:.0f} s; outbox {outbox(bot.database)}:\n{bot.output()}"
        ) from None
    await asyncio.sleep(SETTLE)


def assert_once(place: Guild, event_id: int) -> None:
    """One card, where the store says it is; one reminder, linking that card, its outbox row sent with it;
    nothing else in the channel, nothing left in the follow-up queue."""
    bot, channel = place.bot, place.channel_id
    posted, sent = cards(place), reminders(place)
    seen = {
        "cards": [int(m["id"]) for m in posted],
        "reminders": [int(m["id"]) for m in sent],
        "other messages": len(place.standin.messages[channel]) - len(posted) - len(sent),
        "outbox": outbox(bot.database),
        "queued": queued(bot.database),
    }
    card, reminder = seen["cards"][-1:], seen["reminders"][-1:]  # the last of each, should there be more
    assert seen == {
        "cards": card,
        "reminders": reminder,
        "other messages": 0,
        "outbox": [(event_id, "discord_public", "sent", *reminder)],
        "queued": 0,
    }
    assert card_row(bot.database, event_id) == (channel, card[0])
    assert f"/channels/{place.guild_id}/{channel}/{card[0]}" in sent[0]["content"]  # the reminder links it


async def test_sigkill_right_after_the_reply_leaves_one_card_and_one_reminder(guild: Guild):
    bot, standin = guild.bot, guild.standin
    startup = await start(guild, FIRST_START)
    lead = lead_for(startup)
    due = datetime.now(UTC) + timedelta(seconds=lead)
    reply = await standin.slash(
        guild.guild_id, guild.channel_id, ADMIN_ID, "event", subcommand_path=("create",),
        options={"name": NAME, "start": f"in {lead} seconds", "reminders": "pt0m"}, timeout=10 + 2 * startup,
    )  # fmt: skip
    first_run = await sigkill(bot)  # the instant the reply arrived

    assert f"Created **{NAME}** (`#1`)" in reply["content"], reply
    assert f"Its card is in <#{guild.channel_id}>." in reply["content"], reply
    # The command did its follow-up before replying: card posted and remembered, reminder planned.
    assert len(cards(guild)) == 1
    assert queued(bot.database) == 0
    assert outbox(bot.database) == [(1, "discord_public", "pending", None)]

    restart = await start(guild, 10 + 4 * startup)
    assert datetime.now(UTC) < due, f"restarting took {restart:.1f} s, past the reminder's due time"
    await delivered(guild, due, budget=10 + 2 * startup)
    last_run = await stop(bot)

    assert_once(guild, 1)
    assert "is starting now" in reminders(guild)[0]["content"]
    assert "late" not in reminders(guild)[0]["content"]  # the restarted bot was up before it fell due
    for log in (first_run, last_run):
        assert "Traceback" not in log, log


async def test_start_up_completes_a_follow_up_a_crash_left_after_the_write(guild: Guild):
    bot, standin = guild.bot, guild.standin
    startup = await start(guild, FIRST_START)  # the bot ran before (and made the database)...
    await sigkill(bot)  # ...and died right after a write, before its follow-up: that write is done here
    lead = lead_for(startup)
    due = datetime.now(UTC) + timedelta(seconds=lead)
    store = await open_store(f"sqlite:///{bot.database}")
    try:
        calendar = await store.calendars.create(Calendar(guild_id=guild.guild_id, name="Raids"))
        event = await store.events.create(
            Event(
                guild_id=guild.guild_id, calendar_id=calendar.id, name=NAME, starts=due,
                notifications_interval=("pt0m",), notifications_channels=("discord_public",),
                card_channel_id=guild.channel_id,  # as /event create stores it: the channel to post in
            )
        )  # fmt: skip
        assert len(await store.sync.for_event(guild.guild_id, event.id)) == 1  # queued with the write
    finally:
        await store.close()
    assert outbox(bot.database) == [] and standin.messages[guild.channel_id] == []  # no follow-up yet

    restart = await start(guild, 10 + 4 * startup)
    try:  # the drain's first pass, right after READY
        await standin.wait_for(lambda: cards(guild), timeout=SYNC_SECONDS + 10 + 2 * startup, interval=0.1)
    except StandInTimeout:
        raise AssertionError(f"the restarted bot posted no card:\n{bot.output()}") from None
    assert datetime.now(UTC) < due, f"restarting took {restart:.1f} s, past the reminder's due time"
    assert [row[2] for row in outbox(bot.database)] == ["pending"]  # planned by the same follow-up
    await delivered(guild, due, budget=10 + 2 * startup)
    last_run = await stop(bot)

    assert_once(guild, event.id)
    assert "late" not in reminders(guild)[0]["content"]
    assert "Traceback" not in last_run, last_run


async def test_sigkill_as_the_card_is_posted_leaves_one_card_and_one_reminder(guild: Guild):
    """Discord created the card's message, the bot died before it heard: the store has no card, its
    event_sync entry waits, and the restarted bot's drain does the follow-up again."""
    bot, standin = guild.bot, guild.standin
    startup = await start(guild, FIRST_START)
    lead = lead_for(startup)
    create_message = standin._create_message
    killed = []

    def create_then_kill(channel_id, *args, **kwargs):
        message = create_message(channel_id, *args, **kwargs)
        is_card = [e.get("title") for e in message.get("embeds") or []] == [NAME]
        if channel_id == guild.channel_id and is_card and not killed:
            bot.process.kill()  # the message exists at Discord now; the bot dies before it hears so
            killed.append(message["id"])
        return message

    standin._create_message = create_then_kill  # the stand-in calls it through the instance
    due = datetime.now(UTC) + timedelta(seconds=lead)
    command = asyncio.create_task(
        standin.slash(
            guild.guild_id, guild.channel_id, ADMIN_ID, "event", subcommand_path=("create",),
            options={"name": NAME, "start": f"in {lead} seconds", "reminders": "pt0m"}, timeout=10 + 2 * startup,
        )
    )  # fmt: skip
    try:
        await standin.wait_for(lambda: bot.process.returncode is not None, timeout=10 + 2 * startup, interval=0.02)
    except StandInTimeout:
        raise AssertionError(f"the bot was never killed:\n{bot.output()}") from None
    finally:
        command.cancel()
        with contextlib.suppress(asyncio.CancelledError, StandInError, StandInTimeout, DiscordError):
            await command  # the bot died before it could answer the command
    first_run = await sigkill(bot)
    standin._create_message = create_message

    assert killed and [m["id"] for m in cards(guild)] == killed  # Discord holds the card...
    assert card_row(bot.database, 1) == (guild.channel_id, None)  # ...the store does not know it
    assert queued(bot.database) == 1  # so the follow-up waits for the next start
    assert outbox(bot.database) == [(1, "discord_public", "pending", None)]  # planned before the card

    restart = await start(guild, 10 + 4 * startup)
    try:  # the drain's first pass, right after READY, completes the follow-up
        await standin.wait_for(lambda: queued(bot.database) == 0, timeout=SYNC_SECONDS + 10 + 2 * startup)
    except StandInTimeout:
        raise AssertionError(f"the restarted bot left the follow-up undone:\n{bot.output()}") from None
    assert datetime.now(UTC) < due, f"restarting took {restart:.1f} s, past the reminder's due time"
    await delivered(guild, due, budget=10 + 2 * startup)
    last_run = await stop(bot)

    assert "Traceback" not in first_run + last_run, first_run + last_run
    assert_once(guild, 1)
