"""`POST /{v}/events/search`: Orion's search body over a guild's events, on SQLite and PostgreSQL alike; what it
cannot run is a 422 naming the part, and it never reaches another guild's events."""

from __future__ import annotations

import pytest

from tests.api.conftest import GUILD, Caller


async def make(caller: Caller, name: str, starts: str, **fields) -> int:
    response = await caller.post("/v2/events", {"name": name, "starts": starts, **fields})
    assert response.status == 201, await response.text()
    return (await response.json())["data"]["id"]


async def names(caller: Caller, body: dict, query: str = "") -> list[str]:
    response = await caller.post(f"/v2/events/search{query}", body)
    assert response.status == 200, await response.text()
    return [e["name"] for e in (await response.json())["data"]]


async def test_filters_join_as_laravel_joins_them_and_nulls_sort_as_mysql(backend_writer):
    await make(backend_writer, "A", "2026-05-01T10:00:00Z", location="Hall", url="https://example.org/a")
    await make(backend_writer, "B", "2026-05-02T10:00:00Z", location="Field")
    await make(backend_writer, "C", "2026-05-03T10:00:00Z", all_day=True)
    # a and b or c is (a and b) or c
    body = {"filters": [
        {"field": "location", "operator": "=", "value": "Hall"},
        {"field": "all_day", "operator": "=", "value": True},
        {"field": "name", "operator": "=", "value": "B", "type": "or"},
    ]}  # fmt: skip
    assert await names(backend_writer, body) == ["B"]
    assert await names(backend_writer, {"filters": [{"field": "url", "operator": "=", "value": None}]}) == ["B", "C"]
    assert await names(backend_writer, {"filters": [{"field": "url", "operator": "!=", "value": None}]}) == ["A"]
    assert await names(backend_writer, {"sort": [{"field": "url", "direction": "asc"}]}) == ["B", "C", "A"]
    assert await names(backend_writer, {"sort": [{"field": "url", "direction": "desc"}]}) == ["A", "B", "C"]
    assert await names(backend_writer, {}, "?limit=2&page=2") == ["C"]


async def test_like_escapes_and_folds_case_alike_on_both_backends(backend_writer):
    await make(backend_writer, "50% off", "2026-05-01T10:00:00Z")
    await make(backend_writer, "500 OFF", "2026-05-02T10:00:00Z")
    like = {"filters": [{"field": "name", "operator": "like", "value": "50\\%%"}]}
    assert await names(backend_writer, like) == ["50% off"]
    anything = {"filters": [{"field": "name", "operator": "like", "value": "%off"}]}
    assert await names(backend_writer, anything) == ["50% off", "500 OFF"]
    assert await names(backend_writer, {"search": {"value": "OFF", "case_sensitive": True}}) == ["500 OFF"]
    assert await names(backend_writer, {"search": {"value": "OFF"}}) == ["50% off", "500 OFF"]


async def test_another_guilds_events_are_never_found(writer, stranger):
    await make(writer, "Ours", "2026-05-01T10:00:00Z")
    assert await names(stranger, {}) == []
    response = await stranger.post("/v2/events/search", {"filters": [{"field": "guild_id", "value": GUILD}]})
    assert response.status == 422  # guild_id is not a field a search may name


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"filters": [{"field": "guild_id", "operator": "=", "value": 1}]}, "filters.0.field"),
        ({"filters": [{"field": "name) OR (1=1", "operator": "=", "value": "x"}]}, "filters.0.field"),
        ({"filters": [{"field": "name", "operator": "; DROP", "value": "x"}]}, "filters.0.operator"),
        ({"filters": [{"field": "name", "operator": "<", "value": "x"}]}, "filters.0.operator"),
        ({"filters": [{"field": "id", "operator": "like", "value": "1%"}]}, "filters.0.value"),
        ({"filters": [{"field": "starts", "operator": ">", "value": "soon"}]}, "filters.0.value"),
        ({"filters": [{"field": "id", "operator": "in", "value": []}]}, "filters.0.value"),
        ({"filters": [{"field": "id", "operator": "="}]}, "filters.0.value"),
        ({"filters": [{"field": "name", "value": "x", "type": "xor"}]}, "filters.0.type"),
        ({"filters": [{"nested": [{"nested": [{"nested": []}]}]}]}, "filters.0.nested.0.nested.0.nested"),
        ({"filters": [{"field": "id", "value": 1}] * 51}, "filters"),
        ({"filters": "name=x"}, "filters"),
        ({"sort": [{"field": "secret", "direction": "asc"}]}, "sort.0.field"),
        ({"sort": [{"field": "name", "direction": "up"}]}, "sort.0.direction"),
        ({"scopes": [{"name": "upcoming"}]}, "scopes"),
        ({"search": {"value": 5}}, "search.value"),
    ],
)
async def test_what_cannot_be_run_is_named(writer, body, path):
    response = await writer.post("/v2/events/search", body)
    assert response.status == 422, await response.text()
    assert path in (await response.json())["errors"]
