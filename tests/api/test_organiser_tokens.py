"""A token acts with the standing of the member who created it: an organiser's token creates events (as its
creator's) and changes only those; a manager's changes everything. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from bot.domain.models import Event, GuildSettings
from tests.api.conftest import GUILD, NOW, Caller

OLGA, OSCAR, ROLE = 11, 12, 99


@pytest.fixture
async def organiser_guild(backend_store):
    await backend_store.settings.save(GuildSettings(guild_id=GUILD, organiser_role_id=ROLE))


async def token_for(store, client, user_id: int, role: str) -> Caller:
    _token, text = await store.tokens.create(GUILD, f"{role} {user_id}", "write", created_by=user_id, role=role)
    return Caller(client, text)


@pytest.fixture
async def olga(backend_store, backend_client, organiser_guild) -> Caller:
    return await token_for(backend_store, backend_client, OLGA, "organiser")


@pytest.fixture
async def oscars_event(backend_store, organiser_guild) -> int:
    calendar = await backend_store.calendars.get_or_create(GUILD, "General")
    [event] = await backend_store.events.create_many(
        [Event(guild_id=GUILD, calendar_id=calendar.id, name="Oscar's", starts=NOW.replace(month=3), author_id=OSCAR)]
    )
    return event.id


def new(name: str = "Olga's", **fields) -> dict:
    return {"name": name, "starts": "2026-03-01T18:00:00Z", **fields}


async def test_an_organiser_token_creates_events_as_its_creator(olga):
    created = await olga.post("/v2/events", new())
    assert created.status == 201, await created.text()
    body = await created.json()
    assert body["data"]["author_id"] == OLGA
    batch = await olga.post("/v2/events/batch", {"resources": [new("A"), new("B", author_id=OLGA)]})
    assert batch.status == 200 and {e["author_id"] for e in (await batch.json())["data"]} == {OLGA}


async def test_an_organiser_token_may_not_create_for_another_author(olga):
    refused = await olga.post("/v2/events", new(author_id=OSCAR))
    assert refused.status == 403
    assert "organiser" in (await refused.json())["message"]


async def test_an_organiser_token_changes_its_creators_events_only(olga, oscars_event):
    mine = (await (await olga.post("/v2/events", new())).json())["data"]["id"]
    assert (await olga.patch(f"/v2/events/{mine}", {"name": "Renamed"})).status == 200
    handed_on = await olga.patch(f"/v2/events/{mine}", {"author_id": OSCAR})
    assert handed_on.status == 403

    for response in (
        await olga.patch(f"/v2/events/{oscars_event}", {"name": "Hijacked"}),
        await olga.patch("/v2/events/batch", {"resources": {str(oscars_event): {"name": "Hijacked"}}}),
        await olga.delete(f"/v2/events/{oscars_event}"),
        await olga.delete("/v2/events/batch", {"resources": [mine, oscars_event]}),
        await olga.post("/v1/events/update", {"guild_id": str(GUILD), "id": str(oscars_event), "summary": "Hijacked"}),
        await olga.post("/v1/events/delete", {"guild_id": str(GUILD), "id": str(oscars_event)}),
    ):
        assert response.status == 403, await response.text()
        assert "only its creator's events" in (await response.json())["message"]
    still = await olga.get(f"/v2/events/{oscars_event}")
    assert (await still.json())["data"]["name"] == "Oscar's"
    assert (await olga.delete(f"/v2/events/{mine}")).status == 200


async def test_an_organiser_token_does_not_manage_calendars(olga, backend_store):
    refused = await olga.post("/v2/calendars", {"name": "Mine"})
    assert refused.status == 403
    assert "may not change calendars" in (await refused.json())["message"]


async def test_a_manager_token_changes_every_event(backend_writer, oscars_event):
    assert (await backend_writer.patch(f"/v2/events/{oscars_event}", {"name": "By a manager"})).status == 200
    assert (await backend_writer.delete(f"/v2/events/{oscars_event}")).status == 200


async def test_an_organiser_token_stops_when_the_guild_has_no_organisers(olga, backend_store):
    await backend_store.settings.save(GuildSettings(guild_id=GUILD, organiser_role_id=None))
    refused = await olga.post("/v2/events", new())
    assert refused.status == 403
    assert "acts as member" in (await refused.json())["message"]
