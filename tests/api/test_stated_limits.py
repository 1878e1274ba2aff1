"""The limits the OpenAPI document states are the ones enforced: a value at each stated bound is taken, and
one past it is refused with the error the document names (422 naming the field, 413 for the body)."""

from __future__ import annotations

import pytest

from bot.api import protocol
from bot.api.fields import EPOCH_MS_MAX, EPOCH_MS_MIN, MAX_ID
from bot.api.openapi import document
from bot.api.perscom import BATCH_MAX, PAGE_MAX, PAGE_NUMBER_MAX
from tests.api.conftest import GUILD

DOC = document()
SCHEMAS = DOC["components"]["schemas"]
EVENT = {"name": "Raid", "starts": "2026-03-01T18:00:00Z"}
DISCAL = {"guild_id": GUILD, "epochStart": 1772388000000, "epochEnd": 1772391600000, "summary": "Raid"}


def plain(schema: dict) -> dict:
    """A property's schema without its `null` alternative."""
    if "anyOf" in schema:
        return next(s for s in schema["anyOf"] if s.get("type") != "null")
    return schema


def text_of(length: int, schema: dict) -> str:
    if "://" in schema.get("pattern", ""):  # a web address
        return "https://example.com/" + "a" * (length - len("https://example.com/"))
    return "x" * length


def bounded_strings(schema_name: str) -> list[tuple[str, int, dict]]:
    found = []
    for name, prop in SCHEMAS[schema_name]["properties"].items():
        prop = plain(prop)
        if prop.get("type") in ("string", ["string", "null"]) and "maxLength" in prop:
            found.append((name, prop["maxLength"], prop))
    return found


def string_cases():
    for schema_name, path, base in [
        ("EventCreate", "/v2/events", EVENT),
        ("CalendarCreate", "/v2/calendars", {"name": "Raids"}),
    ]:
        for name, limit, prop in bounded_strings(schema_name):
            yield pytest.param(path, base, name, limit, prop, id=f"{schema_name}.{name}")
    discal = DOC["paths"]["/v1/events/create"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    for name, prop in discal["properties"].items():
        prop = plain(prop)
        if prop.get("type") == "string" and "maxLength" in prop:
            yield pytest.param("/v1/events/create", DISCAL, name, prop["maxLength"], prop, id=f"discal.{name}")


def test_the_document_states_every_limit_with_the_constants_enforced():
    limits = DOC["info"]["x-limits"]
    assert limits["body_bytes"] == protocol.MAX_BODY == 1024 * 1024
    assert limits["request_line_bytes"] == protocol.MAX_LINE
    assert limits["header_bytes"] == protocol.MAX_FIELD and limits["headers"] == protocol.MAX_HEADERS
    assert limits["header_timeout_seconds"] == protocol.HEADER_TIMEOUT == 10.0
    assert limits["body_timeout_seconds"] == protocol.BODY_TIMEOUT == 30.0
    assert limits["batch_resources"] == BATCH_MAX and limits["page_size"] == PAGE_MAX
    lengths = {name: limit for name, limit, _ in bounded_strings("EventCreate")}
    assert lengths == {
        "name": 255,
        "description": 65535,
        "content": 65535,
        "location": 65535,
        "url": 65535,
        "image": 2048,
    }  # fmt: skip  PERSCOM's EventRequest bounds; the image is calbot's own
    calendar_lengths = {name: limit for name, limit, _ in bounded_strings("CalendarCreate")}
    assert calendar_lengths == {"name": 100, "description": 1000, "subscription_url": 2048}
    for path, item in DOC["paths"].items():
        for method, operation in item.items():
            if "security" not in operation or operation["security"]:
                assert "503" in operation["responses"], (method, path)
            if "requestBody" in operation:
                assert "408" in operation["responses"], (method, path)


@pytest.mark.parametrize(("path", "base", "field", "limit", "prop"), list(string_cases()))
async def test_each_stated_string_length_is_the_one_enforced(writer, path, base, field, limit, prop):
    at_limit = await writer.post(path, {**base, field: text_of(limit, prop)})
    assert at_limit.status in (200, 201), await at_limit.text()
    over = await writer.post(path, {**base, field: text_of(limit + 1, prop)})
    assert over.status == 422, await over.text()
    assert list((await over.json())["errors"]) == [field]


async def test_page_and_limit_bounds(writer):
    assert (await writer.get(f"/v2/events?page={PAGE_NUMBER_MAX}&limit={PAGE_MAX}")).status == 200
    cases = [(f"page={PAGE_NUMBER_MAX + 1}", "page"), ("page=0", "page"), (f"limit={PAGE_MAX + 1}", "limit"),
             ("limit=0", "limit")]  # fmt: skip
    for query, field in cases:
        response = await writer.get(f"/v2/calendars?{query}")
        assert response.status == 422 and list((await response.json())["errors"]) == [field], query


async def test_batch_size_bound(writer):
    full = {"resources": [{**EVENT, "name": f"E{n}"} for n in range(BATCH_MAX)]}
    assert (await writer.post("/v2/events/batch", full)).status == 200
    over = await writer.post("/v2/events/batch", {"resources": [EVENT] * (BATCH_MAX + 1)})
    assert over.status == 422 and "at most 100" in (await over.json())["errors"]["resources"][0]


async def test_epoch_bounds(writer):
    schema = DOC["paths"]["/v1/events/list/month"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    stated = plain(schema["properties"]["EpochStart"])
    assert (stated["minimum"], stated["maximum"]) == (EPOCH_MS_MIN, EPOCH_MS_MAX)
    bounds = [(EPOCH_MS_MIN, 200), (EPOCH_MS_MAX, 200), (EPOCH_MS_MIN - 1, 422), (EPOCH_MS_MAX + 1, 422)]
    for epoch, status in [*bounds, *((str(epoch), status) for epoch, status in bounds)]:  # as numbers and strings
        response = await writer.post(
            "/v1/events/list/month", {"guild_id": GUILD, "DaysInMonth": 1, "EpochStart": epoch}
        )
        assert response.status == status, (epoch, await response.text())


async def test_id_bounds(writer):
    assert DOC["components"]["schemas"]["Event"]["properties"]["id"]["maximum"] == MAX_ID
    for event_id in (MAX_ID, MAX_ID + 1, 10**30):
        response = await writer.get(f"/v2/events/{event_id}")
        assert response.status == 404 and (await response.json())["message"] == "No such event."


async def test_body_size_bound(writer):
    padding = protocol.MAX_BODY - len(b'{"name":"Raid","starts":"2026-03-01T18:00:00Z","x":""}')
    exact = b'{"name":"Raid","starts":"2026-03-01T18:00:00Z","x":"' + b" " * padding + b'"}'
    assert len(exact) == protocol.MAX_BODY
    response = await writer.request("POST", "/v2/events", data=exact, headers={"Content-Type": "application/json"})
    assert response.status == 201, await response.text()
    response = await writer.request(
        "POST", "/v2/events", data=exact + b" ", headers={"Content-Type": "application/json"}
    )
    assert response.status == 413 and (await response.json())["message"] == "The body is larger than 1 MiB."
