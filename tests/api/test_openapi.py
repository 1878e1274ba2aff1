"""`GET /openapi.json` describes every route, and schemathesis (4.x, run offline against a local server)
sends whatever the document allows to every operation and finds no 5xx and no answer off the document."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from bot.api import create_app
from bot.api.openapi import document
from bot.domain.models import Calendar, Event
from bot.storage import open_store
from tests.api.conftest import GUILD, api_config

OPENAPI = document()
schema = schemathesis.openapi.from_dict(OPENAPI)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


async def test_the_document_is_served_and_is_openapi_3_1(writer):
    response = await writer.client.get("/openapi.json")  # no token needed
    assert response.status == 200
    served = await response.json()
    assert served["openapi"] == "3.1.0" and served == OPENAPI


def described(path: str) -> str:
    return path.replace("{id:\\d+}", "{id}").replace("{secret:[A-Za-z0-9_-]{20,100}}", "{secret}")


async def test_every_route_the_app_serves_is_described_with_its_errors(client):
    served = set()
    for route in client.app.router.routes():
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
        self.runner = web.AppRunner(create_app(self.store, config))
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"

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


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_operation_answers_5xx_or_off_the_document(case, server):
    case.call_and_validate(base_url=server.url, headers={"Authorization": f"Bearer {server.token}"}, checks=CHECKS)
