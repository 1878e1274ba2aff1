"""A token only ever reaches its own guild: for every route, another guild's ids and guild_id answer 403
or 404 (or 422 for a calendar named in a body), never data, and change nothing."""

from __future__ import annotations

import pytest

from bot.domain.models import Calendar
from tests.api.conftest import GUILD, OTHER_GUILD

SECRET_NAME = "Our secret raid"


@pytest.fixture
async def ours(writer, store):
    """Our guild's calendar and event, made through the API."""
    calendar = await store.calendars.create(Calendar(guild_id=GUILD, name="Ours"))
    response = await writer.post(
        "/v2/events", {"name": SECRET_NAME, "starts": "2026-03-01T18:00:00Z", "calendar_id": calendar.id}
    )
    return calendar.id, (await response.json())["data"]["id"]


def routes(calendar_id: int, event_id: int) -> list[tuple[str, str, object, set[int]]]:
    month = {"DaysInMonth": 31, "EpochStart": 1772323200000}
    return [
        ("GET", f"/v2/events/{event_id}", None, {404}),
        ("PUT", f"/v2/events/{event_id}", {"name": "stolen"}, {404}),
        ("PATCH", f"/v1/events/{event_id}", {"name": "stolen"}, {404}),
        ("DELETE", f"/v2/events/{event_id}", None, {404}),
        ("POST", "/v2/events", {"name": "x", "starts": "2026-03-01T18:00:00Z", "calendar_id": calendar_id}, {422}),
        ("POST", "/v2/events/batch", {"resources": [{"name": "x", "starts": "2026-03-01", "calendar_id": calendar_id}]},
         {422}),
        ("PATCH", "/v2/events/batch", {"resources": {str(event_id): {"name": "stolen"}}}, {422}),
        ("DELETE", "/v2/events/batch", {"resources": [event_id]}, {422}),
        ("GET", f"/v2/calendars/{calendar_id}", None, {404}),
        ("PUT", f"/v2/calendars/{calendar_id}", {"name": "stolen"}, {404}),
        ("PATCH", f"/v1/calendars/{calendar_id}", {"name": "stolen"}, {404}),
        ("DELETE", f"/v2/calendars/{calendar_id}", None, {404}),
        ("POST", "/v1/events/list/month", {"guild_id": GUILD, **month}, {403}),
        ("POST", "/v1/events/list/date", {"guild_id": GUILD, "startEpoch": 1772323200000}, {403}),
        ("POST", "/v1/events/get", {"guild_id": GUILD, "id": str(event_id)}, {403}),
        ("POST", "/v1/events/get", {"guild_id": OTHER_GUILD, "id": str(event_id)}, {404}),
        ("POST", "/v1/events/create", {"guild_id": GUILD, "epochStart": 1, "epochEnd": 1, "summary": "x"}, {403}),
        ("POST", "/v1/events/update", {"guild_id": GUILD, "id": str(event_id), "summary": "stolen"}, {403}),
        ("POST", "/v1/events/update", {"guild_id": OTHER_GUILD, "id": str(event_id), "summary": "stolen"}, {404}),
        ("POST", "/v1/events/delete", {"guild_id": GUILD, "id": str(event_id)}, {403}),
        ("POST", "/v1/events/delete", {"guild_id": OTHER_GUILD, "id": str(event_id)}, {404}),
    ]  # fmt: skip


ROUTE_IDS = [f"{m} {p.replace('{', '').replace('}', '')} {n}" for n, (m, p, _b, _s) in enumerate(routes(1, 2))]


@pytest.mark.parametrize("index", range(len(ROUTE_IDS)), ids=ROUTE_IDS)
async def test_another_guilds_token_gets_no_data_and_changes_nothing(ours, stranger, store, index):
    calendar_id, event_id = ours
    method, path, body, statuses = routes(calendar_id, event_id)[index]
    before = await store.events.get(GUILD, event_id), await store.calendars.get(GUILD, calendar_id)
    response = await stranger.request(method, path, json=body)
    assert response.status in statuses, await response.text()
    text = await response.text()
    assert SECRET_NAME not in text and "Ours" not in text
    assert (await store.events.get(GUILD, event_id), await store.calendars.get(GUILD, calendar_id)) == before
    assert (await store.events.page(OTHER_GUILD))[1] == 0  # nothing was made in the stranger's guild either


async def test_lists_show_only_the_tokens_guild(ours, stranger):
    for path in ("/v2/events", "/v1/events", "/v2/calendars"):
        body = await (await stranger.get(path)).json()
        assert body["data"] == [] and body["meta"]["total"] == 0
    month = {"guild_id": OTHER_GUILD, "DaysInMonth": 31, "EpochStart": 1772323200000}
    assert await (await stranger.post("/v1/events/list/month", month)).json() == {"count": 0, "events": []}
