"""NUL and control characters, lone surrogates and bytes that are not UTF-8, wherever a client can put them
(body fields, JSON keys, ids, query strings, headers), on both backends: a 4xx in JSON naming what is wrong,
never a 500, and nothing stored. PostgreSQL's text cannot hold U+0000, so a NUL that reached it was a 500."""

from __future__ import annotations

import asyncio

import pytest

from bot.api.context import NUL_REFUSED
from tests.api.conftest import GUILD

EVENT = {"name": "Raid", "starts": "2026-03-01T18:00:00Z"}
NUL = "a\x00b"


async def json_of(response) -> dict:
    assert response.content_type == "application/json", response.content_type
    return await response.json()


async def nothing_stored(caller) -> None:
    response = await caller.get("/v2/events")
    assert response.status == 200 and (await response.json())["data"] == []


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v2/events", {**EVENT, "name": NUL}, "name"),
        ("/v2/events", {**EVENT, "description": "x" * 100 + "\x00"}, "description"),
        ("/v2/events", {**EVENT, "content": "\x00"}, "content"),
        ("/v2/events", {**EVENT, "location": "Hall \x00 B"}, "location"),
        ("/v2/events", {**EVENT, "url": "https://example.com/\x00"}, "url"),
        ("/v2/events", {**EVENT, "image": "https://example.com/\x00.png"}, "image"),
        ("/v2/events", {**EVENT, "timezone": "Europe/Berlin\x00"}, "timezone"),
        ("/v2/events", {**EVENT, "color": "RED\x00"}, "color"),
        ("/v2/events", {**EVENT, "starts": "2026-03-01T18:00:00Z\x00"}, "starts"),
        ("/v2/events", {**EVENT, "notifications_interval": ["pt15m", "\x00"]}, "notifications_interval.1"),
        ("/v2/events", {**EVENT, "repeats": True, "schedule": {"frequency": "WEEKLY", "by_day": ["M\x00O"]}},
         "schedule.by_day.0"),
        ("/v2/events", {**EVENT, "na\x00me": "x"}, "na\x00me"),
        ("/v2/events/batch", {"resources": [EVENT, {**EVENT, "name": NUL}]}, "resources.1.name"),
        ("/v1/events/create", {"guild_id": GUILD, "epochStart": 1772388000000, "epochEnd": 1772391600000,
                               "summary": NUL}, "summary"),
        ("/v1/events/create", {"guild_id": GUILD, "epochStart": 1772388000000, "epochEnd": 1772391600000,
                               "summary": "Raid", "location": NUL}, "location"),
        ("/v1/events/create", {"guild_id": f"{GUILD}\x00", "epochStart": 1772388000000, "epochEnd": 1772391600000,
                               "summary": "Raid"}, "guild_id"),
        ("/v2/calendars", {"name": NUL}, "name"),
        ("/v2/calendars", {"name": "Raids", "description": NUL}, "description"),
    ],
)  # fmt: skip
async def test_a_nul_anywhere_in_a_body_is_a_422_naming_its_path_on_both_backends(backend_writer, path, body, field):
    response = await backend_writer.post(path, body)
    assert response.status == 422, await response.text()
    answer = await json_of(response)
    assert answer["errors"] == {field: [NUL_REFUSED]}
    if path.startswith("/v1/"):
        assert answer["Message"] == answer["message"]
    await nothing_stored(backend_writer)
    assert (await json_of(await backend_writer.get("/v2/calendars")))["data"] == []


async def test_a_nul_in_an_update_or_an_id_changes_nothing_on_both_backends(backend_writer):
    created = await json_of(await backend_writer.post("/v2/events", EVENT))
    event_id = created["data"]["id"]
    for method, path, body, field in [
        ("PATCH", f"/v2/events/{event_id}", {"name": NUL}, "name"),
        ("PUT", f"/v1/events/{event_id}", {"location": NUL}, "location"),
        ("PATCH", "/v2/events/batch", {"resources": {f"{event_id}\x00": {"name": "x"}}}, f"resources.{event_id}\x00"),
        ("PATCH", "/v2/events/batch", {"resources": {str(event_id): {"description": NUL}}},
         f"resources.{event_id}.description"),
        ("DELETE", "/v2/events/batch", {"resources": [f"{event_id}\x00"]}, "resources.0"),
        ("POST", "/v1/events/get", {"guild_id": GUILD, "id": f"{event_id}\x00"}, "id"),
        ("POST", "/v1/events/update", {"guild_id": GUILD, "id": str(event_id), "summary": NUL}, "summary"),
        ("POST", "/v1/events/delete", {"guild_id": GUILD, "id": f"\x00{event_id}"}, "id"),
    ]:  # fmt: skip
        response = await backend_writer.request(method, path, json=body)
        assert response.status == 422, (method, path, await response.text())
        assert (await json_of(response))["errors"] == {field: [NUL_REFUSED]}, (method, path)
    shown = await json_of(await backend_writer.get(f"/v2/events/{event_id}"))
    assert shown["data"]["name"] == "Raid" and shown["data"]["location"] == ""


@pytest.mark.parametrize(
    ("path", "status", "key"),
    [
        ("/v2/events?calendar_id=%00", 422, "calendar_id"),
        ("/v2/events?calendar_id=1%00", 422, "calendar_id"),
        ("/v2/events?page=1%00", 422, "page"),
        ("/v2/events?limit=%00", 422, "limit"),
        ("/v2/calendars?page=%00", 422, "page"),
        ("/v2/events?include=calendar%00", 422, "include"),
        ("/v2/events?include=%ff%fe", 422, "include"),  # not UTF-8
        ("/v2/events?include=%ED%A0%80", 422, "include"),  # a surrogate, UTF-8-encoded
        ("/v2/events?calendar_id=%ED%A0%80", 422, "calendar_id"),
        ("/v2/events?%00=1", 200, None),  # an unknown parameter, with a NUL for a name, is ignored
        ("/v2/events/1%00", 404, None),
        ("/v2/events/%00", 404, None),
        ("/v2/calendars/%001", 404, None),
        ("/ics/" + "a" * 30 + "%00.ics", 404, None),
        ("/v2/ev%00ents", 404, None),
    ],
)
async def test_a_nul_or_bad_bytes_in_the_address_is_a_json_4xx_on_both_backends(backend_writer, path, status, key):
    response = await backend_writer.get(path)
    assert response.status == status, await response.text()
    answer = await json_of(response)
    if key is not None:
        assert list(answer["errors"]) == [key]
    else:
        assert ("data" if status == 200 else "message") in answer


@pytest.mark.parametrize(
    "text",
    ["a\x01b", "bell\x07", "esc\x1b[31mred", "tab\tand\nnewline\r", "\u202eright-to-left", "del\x7f", "nbsp\u00a0",
     "\u2028line sep", "zero\u200bwidth", "\ufeffbom"],
)  # fmt: skip
async def test_other_control_characters_never_break_the_api_on_both_backends(backend_writer, text):
    """The domain decides which of these a field may hold (a field error, 422, or stored as given); the API
    itself never fails on them, and what it stores it shows back unchanged."""
    for path, body in [
        ("/v2/events", {**EVENT, "name": f"{text} name", "description": text, "location": text}),
        ("/v1/events/create", {"guild_id": GUILD, "epochStart": 1772388000000, "epochEnd": 1772391600000,
                               "summary": f"{text} name", "description": text, "location": text}),
        ("/v2/calendars", {"name": f"{text} cal", "description": text}),
    ]:  # fmt: skip
        response = await backend_writer.post(path, body)
        assert response.status in (200, 201, 422), (path, response.status, await response.text())
        await json_of(response)
    listed = await json_of(await backend_writer.get("/v2/events"))
    for event in listed["data"]:
        assert event["description"] in (text, text.strip())


async def test_header_bytes_that_are_not_utf8_are_a_401_on_both_backends(backend_writer):
    """aiohttp reads them as lone surrogates; checking such a token used to be a 500. Through a raw socket,
    since aiohttp's client sends only text."""
    server = backend_writer.client.server
    for value in (b"Bearer \xff\xfe", b"cbt_1_\xc3\x28secret", b"\x80"):
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        try:
            writer.write(
                b"GET /v2/events HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nAuthorization: "
                + value
                + b"\r\n\r\n"
            )
            await writer.drain()
            raw = await asyncio.wait_for(reader.read(), 5)
        finally:
            writer.close()
        head, _, body = raw.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 401 "), raw
        assert b'"message":"The API token is not valid (unknown, revoked or mistyped)."' in body
    # the same with non-ASCII text, which aiohttp's client does send (UTF-8)
    for value in ("Bearer café", "cbt_1_sécret", "Bearer \u202e"):
        response = await backend_writer.client.get("/v2/events", headers={"Authorization": value})
        assert response.status == 401 and "not valid" in (await json_of(response))["message"]
