"""What only the SQLite backend does: its file, its migrations. The repositories' behaviour is tested on
both backends in test_repositories.py."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import bot.storage.sqlite as sqlite_module
from bot.storage import SchemaTooNew, open_store
from bot.storage.database import migrations
from bot.storage.sqlite import SqliteStore

LATEST = migrations("sqlite")[-1][0]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "calbot.sqlite3"


@pytest.fixture
def url(db_path: Path) -> str:
    return f"sqlite:///{db_path}"


@pytest.fixture
async def store(url: str) -> AsyncIterator[SqliteStore]:
    opened = await open_store(url)
    yield opened
    await opened.close()


def inspect(path: Path, sql: str) -> list[tuple]:
    """Read the file with a separate plain sqlite3 connection, as another process would."""
    connection = sqlite3.connect(path)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def tables(path: Path) -> set[str]:
    return {row[0] for row in inspect(path, "SELECT name FROM sqlite_master WHERE type = 'table'")}


# ---- opening and migrations


async def test_a_new_file_gets_every_migration_and_the_latest_version(url: str, db_path: Path) -> None:
    assert not db_path.parent.exists()
    store = await open_store(url)
    try:
        assert await store.schema_version() == LATEST
    finally:
        await store.close()
    assert inspect(db_path, "PRAGMA user_version") == [(LATEST,)]
    assert {"meta", "guild_settings", "calendars", "events"} <= tables(db_path)


async def test_reopening_applies_nothing(url: str) -> None:
    first = await open_store(url)
    await first.close()
    again = await open_store(url)
    try:
        assert await again.migrate() == []
        assert await again.schema_version() == LATEST
    finally:
        await again.close()


async def test_a_database_from_a_newer_calbot_is_refused_and_left_alone(url: str, db_path: Path) -> None:
    store = await open_store(url)
    await store.close()
    connection = sqlite3.connect(db_path)
    connection.execute(f"PRAGMA user_version = {LATEST + 7}")
    connection.close()
    with pytest.raises(SchemaTooNew, match=rf"version {LATEST + 7} is newer.*upgrade calbot"):
        await open_store(url)
    assert inspect(db_path, "PRAGMA user_version") == [(LATEST + 7,)]


def with_extra(monkeypatch: pytest.MonkeyPatch, *extra: tuple[int, str, str]) -> None:
    real = migrations("sqlite")
    monkeypatch.setattr(sqlite_module, "migrations", lambda backend: [*real, *extra])


BROKEN = (LATEST + 2, f"{LATEST + 2:04d}_broken.sql", "CREATE TABLE half_done (a INTEGER);\nTHIS IS NOT SQL;\n")
GOOD = (LATEST + 1, f"{LATEST + 1:04d}_good.sql", "-- a comment\nCREATE TABLE extra (a INTEGER);\n-- trailing\n")


async def test_a_failing_migration_rolls_back_every_pending_one(
    url: str, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_extra(monkeypatch, BROKEN)
    with pytest.raises(sqlite3.OperationalError):
        await open_store(url)
    # the bundled migrations ran in the same transaction, so they are undone too
    assert inspect(db_path, "PRAGMA user_version") == [(0,)]
    assert tables(db_path) == set()


async def test_an_upgrade_is_all_or_nothing(url: str, db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    await (await open_store(url)).close()
    with_extra(monkeypatch, GOOD, BROKEN)
    with pytest.raises(sqlite3.OperationalError):
        await open_store(url)
    assert inspect(db_path, "PRAGMA user_version") == [(LATEST,)]
    assert "extra" not in tables(db_path)
    assert "half_done" not in tables(db_path)


async def test_pending_migrations_are_applied_together(
    url: str, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await (await open_store(url)).close()
    third = (LATEST + 2, f"{LATEST + 2:04d}_more.sql", "CREATE TABLE more (a INTEGER);")
    with_extra(monkeypatch, GOOD, third)
    store = await open_store(url)
    try:
        assert await store.migrate() == []
    finally:
        await store.close()
    assert inspect(db_path, "PRAGMA user_version") == [(LATEST + 2,)]
    assert {"extra", "more"} <= tables(db_path)


async def test_the_file_is_in_wal_mode(store: SqliteStore, db_path: Path) -> None:
    assert inspect(db_path, "PRAGMA journal_mode") == [("wal",)]


@pytest.fixture
def blocked(db_path: Path) -> Path:
    db_path.mkdir(parents=True)  # a folder where the database file should be
    return db_path


async def test_a_file_that_cannot_be_opened_fails_cleanly(url: str, blocked: Path) -> None:
    with pytest.raises(sqlite3.OperationalError):
        await open_store(url)
    # aiosqlite's worker thread has finished, so it cannot call back into the event loop once
    # asyncio.run() has closed it (which printed a stray traceback after `migrate`'s error line)
    assert [t for t in threading.enumerate() if "_connection_worker_thread" in t.name] == []


async def test_other_urls_are_not_opened() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        await open_store("mysql://localhost/calbot")
