"""Tokens and errors, as a client sees them: every error is JSON, with the right status."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.api import create_app
from tests.api.conftest import GUILD, Caller, api_config

EVENT = {"name": "Raid", "starts": "2026-03-01T18:00:00Z"}


async def test_no_token_is_401_with_a_json_body_and_www_authenticate(client):
    for method, path in [("GET", "/v2/events"), ("POST", "/v1/events/list/month"), ("DELETE", "/v1/events/1")]:
        response = await client.request(method, path)
        assert response.status == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert "token" in (await response.json())["message"]


@pytest.mark.parametrize("header", ["Bearer cbt_1_wrong", "cbt_1_wrong", "Bearer", "Basic dXNlcjpwYXNz", "Bearer  "])
async def test_a_wrong_token_is_401(client, writer, header):
    response = await client.get("/v2/events", headers={"Authorization": header})
    assert response.status == 401
    assert "message" in await response.json()


async def test_bearer_and_discals_bare_header_both_work(writer):
    assert (await writer.get("/v2/events")).status == 200
    assert (await writer.get("/v2/events", bare=True)).status == 200
    assert (await writer.get("/v2/events", headers={"Authorization": f"bearer {writer.token}"})).status == 200


async def test_a_revoked_token_stops_working_at_once(writer, store):
    assert (await writer.get("/v2/events")).status == 200
    [token] = await store.tokens.list(GUILD)
    await store.tokens.revoke(token.id)
    response = await writer.get("/v2/events")
    assert response.status == 401
    assert "revoked" in (await response.json())["message"]


async def test_a_read_token_reads_but_writing_is_403(reader):
    assert (await reader.get("/v1/events")).status == 200
    assert (await reader.post("/v1/events/list/month", {"guild_id": GUILD, "DaysInMonth": 31,
                                                        "EpochStart": 1519884000000})).status == 200  # fmt: skip
    for method, path, body in [
        ("POST", "/v2/events", EVENT),
        ("POST", "/v2/events/batch", {"resources": [EVENT]}),
        ("PATCH", "/v2/events/1", {"name": "x"}),
        ("DELETE", "/v2/events/batch", {"resources": [1]}),
        ("POST", "/v2/calendars", {"name": "Mine"}),
        ("POST", "/v1/events/create", {"guild_id": GUILD, "epochStart": 1, "epochEnd": 1, "summary": "x"}),
        ("POST", "/v1/events/delete", {"guild_id": GUILD, "id": "1"}),
    ]:
        response = await reader.request(method, path, json=body)
        assert response.status == 403, (method, path)
        assert "scope read" in (await response.json())["message"]
    assert (await reader.get("/v2/events")).status == 200


async def test_last_use_is_recorded(writer, store):
    await writer.get("/v2/events")
    [token] = await store.tokens.list(GUILD)
    assert token.last_used_at is not None


@pytest.mark.parametrize(
    "raw",
    [
        b'{"resources": [{"name": "x",}]}',  # the DisCal document's trailing commas
        b'{"guild_id": 1, "id": e7gqkup5l8}',  # and its unquoted id
        b"{",
        b"NaN",
        b'{"a": Infinity}',
        b"\xff\xfe\x00",
        b"[" * 100000 + b"]" * 100000,
        b"   ",
        b'{"name": "\\ud800", "starts": "2026-03-01T10:00:00Z"}',  # valid JSON, but not text
    ],
)
async def test_a_body_that_is_not_json_is_400(writer, raw):
    for path in ("/v2/events/batch", "/v1/events/create"):
        response = await writer.request("POST", path, data=raw, headers={"Content-Type": "application/json"})
        assert response.status == 400, path
        body = await response.json()
        assert any(word in body["message"] for word in ("JSON", "empty", "surrogate"))
        assert "Traceback" not in await response.text()


@pytest.mark.parametrize("body", [b"[]", b'"text"', b"12", b"null", b'[{"name": "x"}]'])
async def test_json_that_is_not_an_object_is_400(writer, body):
    response = await writer.request("POST", "/v2/events", data=body)
    assert response.status == 400
    assert (await response.json())["message"] == "The body must be a JSON object."


async def test_discal_routes_also_say_it_as_message(writer):
    response = await writer.request("POST", "/v1/events/get", data=b"{", headers={"Content-Type": "application/json"})
    body = await response.json()
    assert response.status == 400 and body["Message"] == body["message"]


async def test_a_body_over_one_mebibyte_is_413(writer):
    big = {"resources": [{**EVENT, "description": "x" * (1024 * 1024)}]}
    response = await writer.post("/v2/events/batch", big)
    assert response.status == 413
    assert "1 MiB" in (await response.json())["message"]

    async def chunks():  # no Content-Length: the limit holds while reading
        for _ in range(5):
            yield b" " * 300_000

    response = await writer.request("POST", "/v2/events", data=chunks())
    assert response.status == 413


async def test_an_unknown_route_is_a_json_404_and_a_wrong_method_a_json_405(writer):
    response = await writer.get("/v3/events")
    assert response.status == 404 and "openapi.json" in (await response.json())["message"]
    response = await writer.put("/v2/events", {})
    assert response.status == 405
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}
    assert "PUT is not allowed" in (await response.json())["message"]
    response = await writer.get("/v1/events/list/month")
    assert response.status == 405 and response.headers["Allow"] == "POST"
    response = await writer.get("/v2/events/batch")
    assert response.status == 405


async def test_an_unknown_id_is_404(writer):
    for method in ("GET", "PUT", "PATCH", "DELETE"):
        response = await writer.request(method, "/v2/events/999", json={"name": "x"})
        assert response.status == 404, method
        assert (await response.json())["message"] == "No such event."
    assert (await writer.get("/v2/events/99999999999999999999999")).status == 404
    assert (await writer.get("/v2/calendars/5")).status == 404


async def test_validation_is_422_naming_every_bad_field(writer):
    response = await writer.post(
        "/v2/events",
        {
            "name": "  ",
            "starts": "2026-03-01T18:00:00Z",
            "ends": "2026-03-01T17:00:00Z",
            "url": "ftp://nope",
            "all_day": "yes",
            "notifications_interval": ["pt3y"],
            "notifications_channels": ["pigeon"],
            "calendar_id": 42,
            "color": "PURPLE",
            "capacity": 0,
        },
    )
    assert response.status == 422
    body = await response.json()
    assert body["message"] == "The given data was invalid."
    assert set(body["errors"]) == {
        "name", "ends", "url", "all_day", "notifications_interval", "notifications_channels", "calendar_id", "color",
        "capacity",
    }  # fmt: skip
    assert all(isinstance(messages, list) and messages for messages in body["errors"].values())
    assert body["errors"]["calendar_id"] == ["there is no calendar 42 on this server"]


@pytest.fixture
async def limited(tmp_path, store):
    config = api_config(tmp_path, "[api]\nrate_limit_per_minute = 3\n")
    async with TestClient(TestServer(create_app(store, config))) as client:
        _token, text = await store.tokens.create(GUILD, "busy", "read")
        _token, other = await store.tokens.create(GUILD, "calm", "read")
        yield Caller(client, text), Caller(client, other)


async def test_beyond_the_rate_a_token_gets_429_with_retry_after(limited):
    busy, calm = limited
    statuses = [(await busy.get("/v2/events")).status for _ in range(3)]
    assert statuses == [200, 200, 200]
    response = await busy.get("/v2/events")
    assert response.status == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 20
    assert "3 a minute" in (await response.json())["message"]
    assert (await calm.get("/v2/events")).status == 200  # the limit is per token
    assert response.headers["X-RateLimit-Limit"] == "3"
