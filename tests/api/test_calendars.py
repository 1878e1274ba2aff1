"""PERSCOM-style calendar routes: CRUD for v1 and v2."""

from __future__ import annotations

import pytest

from bot.domain.models import Calendar
from tests.api.conftest import GUILD


@pytest.mark.parametrize("version", ["v1", "v2"])
async def test_calendar_crud(writer, store, version):
    response = await writer.post(f"/{version}/calendars", {"name": "Raids", "description": "Weekly", "color": "red"})
    assert response.status == 201
    created = (await response.json())["data"]
    assert {k: created[k] for k in ("name", "description", "color", "label")} == {
        "name": "Raids", "description": "Weekly", "color": "RED", "label": "Raids",
    }  # fmt: skip
    assert created["created_at"].endswith("Z")
    shown = (await (await writer.get(f"/{version}/calendars/{created['id']}")).json())["data"]
    assert shown == created
    changed = (await (await writer.patch(f"/{version}/calendars/{created['id']}", {"color": "Mac and cheese"})).json())[
        "data"
    ]
    assert (changed["name"], changed["color"]) == ("Raids", "MAC_AND_CHEESE")
    put = (await (await writer.put(f"/{version}/calendars/{created['id']}", {"description": None})).json())["data"]
    assert put["description"] == "" and put["color"] == "MAC_AND_CHEESE"
    listing = await (await writer.get(f"/{version}/calendars")).json()
    assert [c["name"] for c in listing["data"]] == ["Raids"] and listing["meta"]["total"] == 1
    response = await writer.delete(f"/{version}/calendars/{created['id']}")
    assert response.status == 200 and (await response.json())["data"]["name"] == "Raids"
    assert (await writer.get(f"/{version}/calendars/{created['id']}")).status == 404
    assert await store.calendars.list(GUILD) == []


async def test_deleting_a_calendar_deletes_its_events_and_the_bot_cancels_their_cards(writer, store):
    calendar = (await (await writer.post("/v2/calendars", {"name": "Raids"})).json())["data"]
    await writer.post("/v2/events", {"name": "Raid", "starts": "2026-03-01T18:00:00Z", "calendar_id": calendar["id"]})
    await store.sync.done([entry.id for entry in await store.sync.take()])
    await writer.delete(f"/v2/calendars/{calendar['id']}")
    assert (await store.events.page(GUILD))[1] == 0
    assert [entry.deleted.name for entry in await store.sync.take()] == ["Raid"]


async def test_discord_events_turns_the_events_tab_mirror_on_and_asks_the_bot_for_a_pass(writer, store):
    created = (await (await writer.post("/v2/calendars", {"name": "Raids"})).json())["data"]
    assert created["discord_events"] is False
    assert await store.native.guilds() == []  # nothing mirrored: the bot has nothing to do
    changed = await writer.patch(f"/v2/calendars/{created['id']}", {"discord_events": True})
    assert (await changed.json())["data"]["discord_events"] is True
    assert (await store.calendars.get(GUILD, created["id"])).discord_events is True
    assert await store.native.guilds() == [GUILD]
    assert await store.native.next_due() is not None  # a pass over the guild is due, from the same write
    again = await writer.patch(f"/v2/calendars/{created['id']}", {"name": "Raid nights"})
    assert (await again.json())["data"]["discord_events"] is True  # kept when not given


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, {"name": ["is required"]}),
        ({"name": " "}, {"name": ["must not be empty"]}),
        ({"name": "x" * 101}, {"name"}),
        ({"name": "Ok", "color": "PLAID"}, {"color"}),
        ({"name": "Ok", "description": 5}, {"description"}),
        ({"name": "Ok", "discord_events": "yes"}, {"discord_events": ["must be true or false, not a string"]}),
        ({"name": "raids"}, {"name": ["this server already has a calendar named 'raids'"]}),
    ],
)
async def test_invalid_calendars_are_422(writer, store, body, errors):
    await store.calendars.create(Calendar(guild_id=GUILD, name="Raids"))
    response = await writer.post("/v2/calendars", body)
    assert response.status == 422
    found = (await response.json())["errors"]
    assert found == errors if isinstance(errors, dict) else set(found) == errors


async def test_calendars_paginate(writer, store):
    for n in range(5):
        await store.calendars.create(Calendar(guild_id=GUILD, name=f"Calendar {n}"))
    body = await (await writer.get("/v2/calendars?limit=2&page=3")).json()
    assert [c["name"] for c in body["data"]] == ["Calendar 4"]
    assert body["meta"]["last_page"] == 3 and body["links"]["next"] is None
