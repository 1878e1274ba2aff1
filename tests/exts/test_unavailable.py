"""A database that cannot serve right now (locked by another process, PostgreSQL gone) is what members are
told, privately: "try again in a minute", and "nothing was changed" only when that is certain."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.config import Config, load_config
from bot.storage import postgres
from bot.storage.database import Unavailable
from bot.storage.sqlite import sqlite_path
from tests.conftest import QUIET_SYNC, write_config
from tests.proxy import TcpProxy

UNAVAILABLE = "⚠️ The database is unavailable right now; try again in a minute."
NOTHING_CHANGED = " Nothing was changed."


async def shorten_busy_timeout(world) -> None:
    """The bot's writer waits 5 s for another process's lock; the test waits 50 ms."""
    async with world.bot.store.database.read() as db:
        await db.execute("PRAGMA busy_timeout = 50")


async def test_a_write_while_another_process_locks_the_file_changes_nothing_and_says_so(world):
    await shorten_busy_timeout(world)
    path = sqlite_path(world.config.database.url)
    holder = sqlite3.connect(path, isolation_level=None)  # as `token create` in another process would
    holder.execute("BEGIN EXCLUSIVE")
    try:
        res = await world.admin.slash(world.general, "calendar create", name="Raids")
        text = world.refused(res, Unavailable, UNAVAILABLE)
        assert text == UNAVAILABLE + NOTHING_CHANGED
        # Reading goes on meanwhile (WAL): the lock is on writing only.
        listing = await world.alice.slash(world.general, "event list")
        assert not listing.response.content.startswith("⚠️")
    finally:
        holder.close()
    assert await world.bot.store.calendars.list(world.guild.id) == []
    again = await world.admin.slash(world.general, "calendar create", name="Raids")
    assert "Raids" in again.response.content and not again.response.content.startswith("⚠️")


# ---- PostgreSQL going away under the bot


@pytest.fixture
async def proxy(postgres_url: str, bots: list) -> AsyncIterator[TcpProxy]:
    proxy = await TcpProxy.before(postgres_url)
    yield proxy
    await proxy.restore()
    for bot in bots:  # the bot's store closes while its server is still there, then the proxy goes
        if bot._store is not None:
            await bot._store.close()
            bot._store = None
    await proxy.cut()


@pytest.fixture
def postgres_config(tmp_path: Path, postgres_url: str, proxy: TcpProxy) -> Config:
    path = write_config(tmp_path, QUIET_SYNC)
    return load_config(
        str(path), environ={"DISCORD_TOKEN": "test-token", "CALBOT_DATABASE_URL": proxy.url(postgres_url)}
    )


@pytest.fixture
def config(request: pytest.FixtureRequest, tmp_path: Path) -> Config:
    """The SQLite config of every behaviour test, or PostgreSQL behind a proxy for the tests named so."""
    if "postgres" in request.node.name:
        return request.getfixturevalue("postgres_config")
    return load_config(str(write_config(tmp_path, QUIET_SYNC)), environ={"DISCORD_TOKEN": "test-token"})


async def test_postgres_going_away_is_told_without_claiming_nothing_changed(world, proxy: TcpProxy, monkeypatch):
    monkeypatch.setattr(postgres, "RECONNECT_SECONDS", 0.05)  # the listening connection retries sooner
    made = await world.admin.slash(world.general, "calendar create", name="Raids")
    assert "Raids" in made.response.content
    await proxy.cut()  # the server is gone: connections dropped, new ones refused
    # ...for a moment: back before the bot's reconnecting (the pool's, the listener's) keeps the test waiting
    back = asyncio.get_running_loop().call_later(0.3, lambda: asyncio.ensure_future(proxy.restore()))

    res = await world.alice.slash(world.general, "event list")
    # a read failed: nothing was changed is true here, but a read cannot know what came before it
    assert world.refused(res, Unavailable, UNAVAILABLE) == UNAVAILABLE
    back.cancel()

    await proxy.restore()
    listing = await world.alice.slash(world.general, "event list")
    assert not listing.response.content.startswith("⚠️")
