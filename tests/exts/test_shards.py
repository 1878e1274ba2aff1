"""The bot as one of several shard processes: `[discord] shard_count = 2`, `shard_ids = [1]`.

SimCord routes each guild's gateway events to the shard Discord would ((guild_id >> 22) % 2), so this bot
sees only the guilds of shard 1. The guilds of shard 0 belong to another process (not running here) that
shares the database: this one must leave their channel work alone, yet send their members' DMs.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import discord
import pytest
from discord.ext import commands

from bot.app import CalBot, ShardedCalBot
from bot.config import Config, load_config
from bot.domain.models import Calendar, Event
from bot.domain.occurrences import Occurrence
from bot.domain.reminders import Reminder, Verdict
from bot.domain.rsvp import GOING, ONE_OFF
from bot.domain.shards import Shards
from bot.reminders import ReminderEngine
from tests.conftest import QUIET_SYNC, write_config

START = datetime(2026, 1, 1, 1, 0, tzinfo=UTC)  # an hour after SimCord's clock starts
MINUTE = 60


@pytest.fixture
def config(tmp_path: Path) -> Config:
    body = QUIET_SYNC + "[discord]\nshard_count = 2\nshard_ids = [1]\n"
    return load_config(str(write_config(tmp_path, body)), environ={"DISCORD_TOKEN": "test-token"})


def test_a_sharded_config_builds_an_auto_sharded_bot_on_its_shards(config: Config) -> None:
    bot = CalBot(config)
    assert isinstance(bot, ShardedCalBot) and isinstance(bot, commands.AutoShardedBot)
    assert (bot.shard_count, bot.shard_ids) == (2, [1])
    assert bot.own_shards == Shards(2, (1,))
    # commands.Bot comes before AutoShardedBot in the MRO; it must add nothing that hides the sharded client.
    assert ShardedCalBot.connect is discord.AutoShardedClient.connect
    assert ShardedCalBot.close is not discord.Client.close


def test_without_shards_the_bot_stays_a_plain_bot(tmp_path: Path) -> None:
    bot = CalBot(load_config(str(write_config(tmp_path)), environ={"DISCORD_TOKEN": "t"}))
    assert type(bot) is CalBot and not isinstance(bot, discord.AutoShardedClient)
    assert bot.own_shards is None and bot.shard_count is None


def test_shard_count_alone_runs_every_shard(tmp_path: Path) -> None:
    config = load_config(str(write_config(tmp_path, "[discord]\nshard_count = 3\n")), environ={"DISCORD_TOKEN": "t"})
    bot = CalBot(config)
    assert isinstance(bot, ShardedCalBot) and (bot.shard_count, bot.shard_ids) == (3, [0, 1, 2])


@pytest.mark.simcord(strict_sync=False)  # this process does not sync commands: the one running shard 0 does
async def test_the_bot_serves_only_its_shards_guilds_and_leaves_command_sync_to_shard_0(simcord_env):
    env = simcord_env
    mine = env.create_guild("Shard one", shard_id=1)
    theirs = env.create_guild("Shard zero", shard_id=0)
    await env.settle()
    bot = env.bot
    assert isinstance(bot, commands.AutoShardedBot)
    assert [g.id for g in bot.guilds] == [mine.id]
    assert bot.get_guild(theirs.id) is None
    assert await bot.store.meta.get("global_commands_sha256") is None  # no sync from this process
    assert not [r for r in env.http_requests if r.method == "PUT" and "/commands" in r.path]

    general = mine.create_text_channel("general")
    member = mine.add_member(env.create_user("alice"))
    shown = await member.slash(general, "settings show")
    assert shown.response.embeds[0].title == "Calendar settings"


class Recorded:
    """The Discord side of the other process: what it was asked to deliver."""

    def __init__(self) -> None:
        self.delivered: list[tuple[int, str]] = []

    async def deliver(self, reminder: Reminder, occurrence: Occurrence, verdict: Verdict) -> int:
        self.delivered.append((reminder.guild_id, reminder.channel))
        return 1


@pytest.mark.simcord(strict_sync=False)
async def test_another_shards_channel_reminders_are_left_to_it_but_its_dms_are_sent(simcord_env):
    env = simcord_env
    mine, theirs = env.create_guild("Shard one", shard_id=1), env.create_guild("Shard zero", shard_id=0)
    my_channel, their_channel = mine.create_text_channel("events"), theirs.create_text_channel("events")
    admins = mine.create_role("Admins", permissions=discord.Permissions(manage_guild=True))
    admin = mine.add_member(env.create_user("admin"), roles=[admins])
    alice = env.create_user("alice")
    theirs.add_member(alice)
    await env.settle()
    bot = env.bot
    assert bot.reminders.shards == Shards(2, (1,))

    # Here: an event in this process's guild, reminded in its channel.
    created = await admin.slash(my_channel, "event create", name="Raid", start="in 1 hour", reminders="pt15m")
    assert "Created" in created.response.content
    # The process running shard 0 (not this one) writes an event of its guild, reminded in the channel and
    # by DM, to the shared database. Alice is going.
    other = ReminderEngine(bot.store, Recorded(), clock=env.now, shards=Shards(2, (0,)))
    calendar = await bot.store.calendars.create(
        Calendar(guild_id=theirs.id, name="Events", channel_id=their_channel.id)
    )
    event = await bot.store.events.create(
        Event(guild_id=theirs.id, calendar_id=calendar.id, name="Raid", starts=START,
              notifications_channels=("discord_public", "discord_private"))
    )  # fmt: skip
    await bot.store.attendees.respond(theirs.id, event.id, ONE_OFF, alice.id, GOING, None)
    await other.schedule(event)

    await env.advance_time(46 * MINUTE)  # every 15-minute reminder is due

    assert [m.content.startswith("⏰ **Raid**") for m in my_channel.history() if not m.embeds] == [True]
    posts = [r for r in env.http_requests if r.method == "POST" and r.path == f"/channels/{their_channel.id}/messages"]
    assert posts == []  # shard 0's channel is shard 0's process's to post in
    dm = alice.dm_channel.last_message
    assert dm is not None and dm.content.startswith("⏰ **Raid**")  # any process may send a DM
    left = {(r.channel, r.state) for r in await bot.store.reminders.for_event(theirs.id, event.id)}
    assert ("discord_public", "pending") in left

    # The shard 0 process sends its channel reminder; the DMs, sent already, are not sent again.
    try:
        assert await other.dispatch() == 1
        assert other.sender.delivered == [(theirs.id, "discord_public")]
    finally:
        await other.stop()
    assert len(alice.dm_channel.history()) == 1
