"""Events written outside the bot (by the HTTP API, maybe in another process) reach it through the
store's sync queue and get their card and reminders like slash-command events."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from bot.config import load_config
from bot.domain.models import Event
from tests.conftest import write_config

SYNC_SECONDS = 300


@pytest.fixture
def config(tmp_path):
    return load_config(
        str(write_config(tmp_path, f"[api]\nsync_seconds = {SYNC_SECONDS}\n")), environ={"DISCORD_TOKEN": "t"}
    )


async def test_an_event_written_elsewhere_gets_its_card_and_reminders(world):
    store = world.bot.store
    await world.admin.slash(world.general, "settings channel", channel=world.events)
    calendar = await store.calendars.get_or_create(world.guild.id, "General")
    starts = datetime(2026, 1, 1, 1, 0, tzinfo=UTC)
    event = await store.events.create(
        Event(guild_id=world.guild.id, calendar_id=calendar.id, name="From the API", starts=starts)
    )
    await store.sync.push(world.guild.id, event.id)
    await world.env.advance_time(SYNC_SECONDS)
    card = world.events.last_message
    assert card.embeds[0].title == "From the API"
    assert [r.state for r in await store.reminders.for_event(world.guild.id, event.id)] == ["pending"]

    renamed = await store.events.update(dataclasses.replace(event, name="Renamed by the API"))
    await store.sync.push(world.guild.id, event.id)
    await world.env.advance_time(SYNC_SECONDS)
    assert world.events.history()[-1].id == card.id
    assert world.events.history()[-1].embeds[0].title == "Renamed by the API"

    deleted = await store.events.delete(world.guild.id, renamed.id)
    await store.sync.push(world.guild.id, deleted.id, deleted=deleted)
    await world.env.advance_time(SYNC_SECONDS)
    assert world.events.history()[-1].embeds[0].title == "Cancelled: Renamed by the API"
    assert [r.state for r in await store.reminders.for_event(world.guild.id, event.id)] == ["cancelled"]
    await world.env.advance_time(int(timedelta(hours=1).total_seconds()))
    assert [m for m in world.events.history() if m.content.startswith("⏰")] == []
