"""An event written through the API whose card has nowhere to go (its calendar and the server have no channel)
says so in the write's answer (`warnings`) and, once the bot gets to it, in /notifications for the managers;
the real bot under SimCord, the API on its store, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.api import create_app
from bot.config import Config
from tests import behaviour
from tests.api.conftest import Caller
from tests.exts.conftest import World

SYNC_SECONDS = 60
bots, simcord_bot, world, _close_stores = behaviour.FIXTURES
NO_CHANNEL = "its card cannot be posted: neither its calendar nor the server has a channel for cards"


@pytest.fixture(params=behaviour.BACKENDS)
def config(request: pytest.FixtureRequest, tmp_path: Path) -> Config:
    return behaviour.bot_config(request, tmp_path, f"[api]\nsync_seconds = {SYNC_SECONDS}\n")


@pytest.fixture
async def api(world: World) -> AsyncIterator[Caller]:
    app = create_app(world.bot.store, world.bot.config, clock=world.env.now)
    with world.env.time_context():
        client = TestClient(TestServer(app))
        await client.start_server()
    try:
        _token, text = await world.bot.store.tokens.create(world.guild.id, "cards", "write")
        yield Caller(client, text)
    finally:
        await client.close()


async def attention(world: World) -> str:
    embeds = (await world.admin.slash(world.general, "notifications")).response.embeds
    return embeds[0].description if embeds[0].title == "Needs attention" else ""


async def test_a_card_with_nowhere_to_go_is_told_in_the_answer_and_in_notifications(world, api):
    response = await api.post("/v2/events", {"name": "Raid", "starts": "2026-02-01T18:00:00Z"})
    body = await response.json()
    assert response.status == 201
    event_id = body["data"]["id"]
    assert [w for w in body["warnings"] if w.startswith(f"Event {event_id}: {NO_CHANNEL}")]

    response = await api.post(
        "/v1/events/create",
        {"guild_id": str(world.guild.id), "epochStart": 1770000000000, "epochEnd": 1770003600000, "summary": "Duel"},
    )
    duel = await response.json()
    assert response.status == 200 and duel["warnings"][0].startswith(f"Event {duel['id']}: {NO_CHANNEL}")

    await world.env.advance_time(SYNC_SECONDS)  # the bot's drain follows the writes up
    needs = await attention(world)
    assert f"**Raid** (#{event_id})" in needs and f"**Duel** (#{duel['id']})" in needs

    # With a channel for cards, the next write warns of nothing, the card is posted and the problem goes.
    await world.admin.slash(world.general, "settings channel", channel=world.events)
    response = await api.patch(f"/v2/events/{event_id}", {"location": "Hall"})
    assert response.status == 200 and "warnings" not in await response.json()
    await world.env.advance_time(SYNC_SECONDS)
    assert any(m.embeds and m.embeds[0].title == "Raid" for m in world.events.history())
    needs = await attention(world)
    assert f"(#{event_id})" not in needs and f"(#{duel['id']})" in needs
