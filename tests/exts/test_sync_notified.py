"""On PostgreSQL, an event the HTTP API writes in another process reaches the bot at once (LISTEN/NOTIFY),
not after `[api] sync_seconds`; and a shard process applies only its own guilds' changes, leaving the
others queued for the process of their shard. Skipped without PostgreSQL (see tests/conftest.py)."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import Config, load_config
from bot.domain.models import Calendar, Event
from bot.storage import open_store
from tests.conftest import write_config


@pytest.fixture
def config(tmp_path: Path, postgres_url: str) -> Config:
    body = "[api]\nsync_seconds = 3600\n[discord]\nshard_count = 2\nshard_ids = [1]\n"  # the loop never comes
    environ = {"DISCORD_TOKEN": "test-token", "CALBOT_DATABASE_URL": postgres_url}
    return load_config(str(write_config(tmp_path, body)), environ=environ)


@pytest.mark.simcord(strict_sync=False)  # the shard 0 process syncs the commands, not this one
async def test_a_change_queued_by_the_api_is_applied_at_once_by_its_shards_process(simcord_env, postgres_url):
    env = simcord_env
    mine, theirs = env.create_guild("Shard one", shard_id=1), env.create_guild("Shard zero", shard_id=0)
    my_channel, their_channel = mine.create_text_channel("events"), theirs.create_text_channel("events")
    await env.settle()
    bot = env.bot

    api = await open_store(postgres_url)  # the HTTP API, serving from a process of its own
    try:
        for guild, channel in ((theirs, their_channel), (mine, my_channel)):
            calendar = await api.calendars.create(Calendar(guild_id=guild.id, name="General", channel_id=channel.id))
            starts = datetime(2026, 1, 2, 18, 0, tzinfo=UTC)
            event = Event(
                guild_id=guild.id, calendar_id=calendar.id, name=f"From the API in {guild.name}", starts=starts
            )
            await api.events.create_many([event])

        deadline = time.monotonic() + 5
        while not my_channel.history() and time.monotonic() < deadline:  # real time; SimCord's clock stays put
            await asyncio.sleep(0.05)
            await env.settle()
    finally:
        await api.close()

    [card] = my_channel.history()
    assert card.embeds[0].title == "From the API in Shard one"
    assert env.now() == datetime(2026, 1, 1, tzinfo=UTC)  # no sync_seconds went by: the notification did it
    assert their_channel.history() == []
    left = await bot.store.sync.take(shards=None)
    assert [entry.guild_id for entry in left] == [theirs.id]  # for shard 0's process
