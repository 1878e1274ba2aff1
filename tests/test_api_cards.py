"""Cards of events written through the API, the real bot under SimCord with the API on its store, on SQLite and
PostgreSQL: an event whose card has nowhere to go (its calendar and the server have no channel) says so in the
write's answer (`warnings`) and, once the bot gets to it, in /notifications for the managers; an event as long
as PERSCOM allows is kept whole by the API and its card shows what Discord can, shortened visibly."""

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


async def test_perscoms_longest_fields_are_kept_whole_and_the_card_shortens_them_visibly(world, api):
    await world.admin.slash(world.general, "settings channel", channel=world.events)
    long = {
        "name": "N" * 255,
        "description": "d" * 65535,
        "content": "c" * 65535,
        "location": "l" * 65535,
        "url": "https://example.org/" + "u" * (65535 - len("https://example.org/")),
        "starts": "2026-02-01T18:00:00Z",
    }
    response = await api.post("/v2/events", long)
    body = await response.json()
    assert response.status == 201, body
    assert {key: body["data"][key] for key in long if key != "starts"} == {
        k: v for k, v in long.items() if k != "starts"
    }
    shown = await (await api.get(f"/v2/events/{body['data']['id']}")).json()
    assert shown["data"]["description"] == long["description"]
    await world.env.advance_time(SYNC_SECONDS)
    [card] = [m for m in world.events.history() if m.embeds]
    embed = card.embeds[0]
    assert embed.title == "N" * 255  # a title holds 256
    assert embed.description.endswith("…") and len(embed.description) <= 4096
    location = next(f.value for f in embed.fields if f.name == "Location")
    assert location.endswith("…") and len(location) <= 1024
    assert embed.url is None  # a link is never cut, and this one is longer than Discord takes
    assert len(embed) <= 6000
    assert await attention(world) == ""  # nothing failed
