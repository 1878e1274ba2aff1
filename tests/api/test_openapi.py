"""`GET /openapi.json` describes every route, and schemathesis (4.x, run offline against a local server) sends
to every operation what the document allows and what it forbids, and finds no mismatch in either direction:
no 5xx, no answer off the document, no request the document forbids accepted. Every request example the
document gives is accepted as written."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS, positive_data_acceptance

from bot.api import create_app
from bot.api.openapi import document
from bot.domain.models import Calendar, Event
from bot.metrics import Readiness
from bot.storage import open_store
from tests.api.conftest import GUILD, api_config

OPENAPI = document()
# The notification stream never ends (Server-Sent Events), so a case against it would hang until its timeout:
# it is left out here and tested with a real client that reads it event by event (tests/api/test_notifications.py).
schema = schemathesis.openapi.from_dict(OPENAPI).exclude(path="/{version}/notifications/stream")
# Positive and negative cases. Query parameters the document does not name are not sent as "negative": OpenAPI
# does not forbid them, and the routes ignore them as Laravel does.
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], allow_extra_parameters=False)
# Every check but positive_data_acceptance: a body the schema allows may still be refused for what a schema
# cannot say (a calendar_id that is not one of the guild's, an end before the start, a name taken); those are
# 422s naming the field, which status_code_conformance holds to the document. The document's own examples are
# held to succeed by test_every_request_example_is_accepted_as_written.
ALL_CHECKS = [check for check in CHECKS.get_all() if check is not positive_data_acceptance]


async def test_the_document_is_served_and_is_openapi_3_1(writer):
    response = await writer.client.get("/openapi.json")  # no token needed
    assert response.status == 200
    served = await response.json()
    assert served["openapi"] == "3.1.0" and served == OPENAPI


def described(path: str) -> str:
    return path.replace("{id:\\d+}", "{id}").replace("{secret:[A-Za-z0-9_-]{20,100}}", "{secret}")


async def test_every_route_the_app_serves_is_described_with_its_errors(store, config):
    served = set()
    app = create_app(store, config, readiness=Readiness())  # as every API process serves it: with /readyz
    for route in app.router.routes():
        path = described(route.resource.canonical if route.resource else "")
        if route.method == "HEAD":
            continue
        for version in ("v1", "v2"):
            path = (
                path.replace(f"/{version}/events", "/{version}/events", 1)
                if "/list/" not in path and not any(path.endswith(p) for p in ("/get", "/create", "/update", "/delete"))
                else path
            )
            path = path.replace(f"/{version}/calendars", "/{version}/calendars", 1)
            path = path.replace(f"/{version}/notifications", "/{version}/notifications", 1)
        served.add((route.method.lower(), path))
    documented = {(method, path) for path, item in OPENAPI["paths"].items() for method in item}
    assert served == documented
    for path, item in OPENAPI["paths"].items():
        for method, operation in item.items():
            if operation.get("security") == []:
                continue
            assert {"401", "403", "429"} <= set(operation["responses"]), (method, path)
            if "requestBody" in operation:
                assert {"400", "413", "422"} <= set(operation["responses"]), (method, path)


class Server:
    """The API on a free local port, in a thread with its own event loop (schemathesis calls it with
    `requests`, synchronously), over a store seeded with a calendar, events and a write token."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.url = ""
        self.token = ""

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._start())
        self.ready.set()
        self.loop.run_forever()

    async def _start(self) -> None:
        config = api_config(self.folder, "[api]\nrate_limit_per_minute = 1000000\n")
        self.store = await open_store(config.database.url)
        calendar = await self.store.calendars.create(Calendar(guild_id=GUILD, name="Raids"))
        for n in range(3):
            await self.store.events.create(
                Event(guild_id=GUILD, calendar_id=calendar.id, name=f"Event {n}",
                      starts=datetime(2026, 3, 1 + n, 18, tzinfo=UTC))
            )  # fmt: skip
        await self.store.calendars.feed_secret(GUILD, calendar.id)
        _token, self.token = await self.store.tokens.create(GUILD, "schemathesis", "write")
        readiness = Readiness()  # the API process's own check: the database answers
        readiness.add("database", self._database_problem)
        self.runner = web.AppRunner(create_app(self.store, config, readiness=readiness))
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"

    async def _database_problem(self) -> str | None:
        await self.store.calendars.list(GUILD)  # raises what the database answers
        return None

    async def _stop(self) -> None:
        await self.runner.cleanup()
        await self.store.close()

    def start(self) -> None:
        self.thread.start()
        assert self.ready.wait(10), "the API did not start"

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = Server(tmp_path_factory.mktemp("schemathesis"))
    running.start()
    yield running
    running.stop()


def _is_guild_id(value: object) -> bool:
    """Whether `value` is a guild id the document allows (so pinning it to the token's keeps the case as it was)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return value == int(value) and 1 <= value <= 2**63 - 1
    return isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 19


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_operation_disagrees_with_the_document(case, server):
    # DisCal routes name the guild in the body: pinned to the token's, they are exercised past the 403.
    if isinstance(case.body, dict) and _is_guild_id(case.body.get("guild_id")):
        case.body["guild_id"] = GUILD
    case.call_and_validate(base_url=server.url, headers={"Authorization": f"Bearer {server.token}"}, checks=ALL_CHECKS)


def test_every_request_example_is_accepted_as_written(tmp_path):
    examples = [
        (method, path, operation["requestBody"]["content"]["application/json"])
        for path, item in OPENAPI["paths"].items()
        for method, operation in item.items()
        if "requestBody" in operation
    ]
    assert all("example" in content for _method, _path, content in examples), "an operation without an example"
    for index, (method, path, content) in enumerate(examples):
        (tmp_path / str(index)).mkdir()
        running = Server(tmp_path / str(index))  # calendar 1 and events 1 to 3, as the examples expect
        running.start()
        try:
            url = running.url + path.replace("{version}", "v2").replace("{id}", "1")
            response = requests.request(
                method, url, json=content["example"], timeout=10, headers={"Authorization": f"Bearer {running.token}"}
            )
            assert 200 <= response.status_code < 300, (method, path, response.text)
        finally:
            running.stop()


# ---- beyond the document: any JSON at all, with any of the fields the routes read, never answers 5xx

FIELD_NAMES = [
    "name", "calendar_id", "description", "content", "location", "url", "author_id", "all_day", "starts", "ends",
    "repeats", "schedule", "registration_enabled", "registration_deadline", "notifications_enabled",
    "notifications_interval", "notifications_channels", "timezone", "color", "image", "capacity", "frequency",
    "interval", "end_type", "count", "until", "by_day", "by_month", "by_month_day", "by_set_position", "guild_id",
    "id", "epochStart", "epochEnd", "startEpoch", "StartEpoch", "EpochStart", "DaysInMonth", "summary", "recurrence",
    "recur", "recurCount", "resources", "1",
]  # fmt: skip
ANY_TEXT = st.text(st.characters(codec=None, categories=None), max_size=12)  # lone surrogates included
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70), st.floats(allow_nan=False),
    ANY_TEXT, st.sampled_from(["2026-03-01T10:00:00Z", "2026-03-01", "WEEKLY", "RED", "pt15m", "1", str(GUILD)]),
    st.sampled_from(["\ud800", "a\x00b", "\udfff\ud83d", "9" * 30, "-1", "\u202e", " "]),
)  # fmt: skip
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(FIELD_NAMES), ANY_TEXT), inner, max_size=5),
    ),
    max_leaves=12,
)
BODIES = st.dictionaries(st.sampled_from(FIELD_NAMES), JSON_VALUES, max_size=8)
WRITE_ROUTES = [
    ("POST", "/v2/events"), ("PATCH", "/v2/events/1"), ("PUT", "/v1/events/2"), ("POST", "/v2/events/batch"),
    ("PATCH", "/v2/events/batch"), ("DELETE", "/v2/events/batch"), ("POST", "/v2/calendars"),
    ("PATCH", "/v2/calendars/1"), ("POST", "/v1/events/list/month"), ("POST", "/v1/events/list/date"),
    ("POST", "/v1/events/get"), ("POST", "/v1/events/create"), ("POST", "/v1/events/update"),
    ("POST", "/v1/events/delete"),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path"), WRITE_ROUTES)
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(body=BODIES)
def test_any_json_body_gets_a_4xx_or_2xx_never_a_5xx(server, method, path, body):
    encoded = json.dumps(body).encode()  # lone surrogates travel as \\ud800 escapes, as a client would send them
    response = requests.request(
        method, server.url + path, data=encoded, timeout=10,
        headers={"Authorization": f"Bearer {server.token}", "Content-Type": "application/json"},
    )  # fmt: skip
    assert response.status_code < 500, (response.status_code, response.text)
    assert response.headers["Content-Type"].startswith("application/json")
    assert "Traceback" not in response.text
