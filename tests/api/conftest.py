"""The HTTP API against a real SQLite store in a temp dir, through aiohttp's test client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.api import create_app
from bot.config import Config, load_config
from bot.storage import Store, open_store
from bot.storage.sqlite import SqliteStore
from tests.conftest import write_config

GUILD = 375357265198317579  # the DisCal document's guild
OTHER_GUILD = 2_000_000_000_000_000_002
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def api_config(folder: Path, body: str = "") -> Config:
    return load_config(str(write_config(folder, body)), environ={})


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return api_config(tmp_path, "[api]\nrate_limit_per_minute = 100000\n")


@pytest.fixture
async def store(config: Config) -> AsyncIterator[SqliteStore]:
    opened = await open_store(config.database.url)
    yield opened
    await opened.close()


@dataclass
class Caller:
    """A client holding one token: its requests carry `Authorization: Bearer <token>`."""

    client: TestClient
    token: str

    def _headers(self, headers: dict | None, bare: bool) -> dict:
        return {"Authorization": self.token if bare else f"Bearer {self.token}", **(headers or {})}

    async def request(self, method: str, path: str, *, json=None, data=None, headers=None, bare=False, **kwargs):
        response = await self.client.request(
            method, path, json=json, data=data, headers=self._headers(headers, bare), **kwargs
        )
        await response.read()
        return response

    async def get(self, path: str, **kwargs):
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, json=None, **kwargs):
        return await self.request("POST", path, json=json, **kwargs)

    async def put(self, path: str, json=None, **kwargs):
        return await self.request("PUT", path, json=json, **kwargs)

    async def patch(self, path: str, json=None, **kwargs):
        return await self.request("PATCH", path, json=json, **kwargs)

    async def delete(self, path: str, json=None, **kwargs):
        return await self.request("DELETE", path, json=json, **kwargs)


@pytest.fixture
async def client(store: SqliteStore, config: Config) -> AsyncIterator[TestClient]:
    app = create_app(store, config, clock=lambda: NOW)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


@pytest.fixture
async def writer(client: TestClient, store: SqliteStore) -> Caller:
    _token, text = await store.tokens.create(GUILD, "tests", "write")
    return Caller(client, text)


@pytest.fixture
async def reader(client: TestClient, store: SqliteStore) -> Caller:
    _token, text = await store.tokens.create(GUILD, "reads", "read")
    return Caller(client, text)


@pytest.fixture
async def stranger(client: TestClient, store: SqliteStore) -> Caller:
    """A write token of another guild."""
    _token, text = await store.tokens.create(OTHER_GUILD, "elsewhere", "write")
    return Caller(client, text)


# ---- the same API over each backend: SQLite, and PostgreSQL when CALBOT_TEST_POSTGRES_DSN names a server


@pytest.fixture
async def backend_store(store_url: str) -> AsyncIterator[Store]:
    """A new, empty store on each backend (tests/conftest.py's `store_url`: sqlite, then postgres)."""
    opened = await open_store(store_url)
    yield opened
    await opened.close()


@pytest.fixture
async def backend_client(backend_store: Store, config: Config) -> AsyncIterator[TestClient]:
    app = create_app(backend_store, config, clock=lambda: NOW)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


@pytest.fixture
async def backend_writer(backend_client: TestClient, backend_store: Store) -> Caller:
    _token, text = await backend_store.tokens.create(GUILD, "tests", "write")
    return Caller(backend_client, text)
