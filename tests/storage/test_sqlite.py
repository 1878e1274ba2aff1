"""What only the SQLite backend does: its file, its migrations. The repositories' behaviour is tested on
both backends in test_repositories.py."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import bot.storage.sqlite as sqlite_module
from bot.storage import SchemaTooNew, open_store
from bot.storage.database import DatabaseInUse, Unavailable, migrations
from bot.storage.sqlite import SqliteStore, process_lock

LATEST = migrations("sqlite")[-1][0]
ROOT = Path(__file__).resolve().parents[2]


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


# ---- a database that cannot serve now: Unavailable, not the driver's error


def lock_out(path: Path) -> sqlite3.Connection:
    """Another connection (as another process would have) holding the write lock: close it to end it."""
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    return holder


async def test_a_write_locked_out_past_the_busy_timeout_is_unavailable_and_changes_nothing(url: str, db_path: Path):
    store = await SqliteStore.open(url, busy_timeout_ms=50)
    try:
        await store.meta.set("before", "1")
        holder = lock_out(db_path)
        try:
            with pytest.raises(Unavailable) as raised:
                await store.meta.set("during", "1")
            # In WAL mode the other writer does not block reads.
            assert await store.meta.get("before") == "1"
        finally:
            holder.close()
        assert "database is locked" in raised.value.reason
        assert isinstance(raised.value.__cause__, sqlite3.OperationalError)
        assert raised.value.during_write
        # this test's task committed "before": so its work is not "nothing changed" as a whole
        assert raised.value.committed_before and not raised.value.nothing_changed
        await store.meta.set("after", "1")  # the store is not left inside a transaction
        assert inspect(db_path, "SELECT key FROM meta WHERE key IN ('before', 'during', 'after') ORDER BY key") == [
            ("after",),
            ("before",),
        ]
    finally:
        await store.close()


async def test_a_failure_in_a_task_that_wrote_nothing_changed_nothing(url: str, db_path: Path) -> None:
    store = await SqliteStore.open(url, busy_timeout_ms=20)
    holder = lock_out(db_path)
    try:
        # a task of its own, as each slash command, button press and API request is
        raised = await asyncio.create_task(_failure(store.meta.set("key", "value")))
        assert raised.during_write and not raised.committed_before and raised.nothing_changed
    finally:
        holder.close()
        await store.close()


async def _failure(work) -> Unavailable:
    with pytest.raises(Unavailable) as raised:
        await work
    return raised.value


async def test_a_full_disk_is_unavailable_and_the_write_is_rolled_back(store: SqliteStore, db_path: Path) -> None:
    await store.meta.set("small", "x")
    async with store.database.read() as db:  # the file may not grow: as if the disk were full
        pages = (await db.one("PRAGMA page_count"))[0]
        await db.execute(f"PRAGMA max_page_count = {pages}")
    raised = await asyncio.create_task(_failure(store.meta.set("big", "x" * 1_000_000)))
    assert "database or disk is full" in raised.reason
    assert raised.nothing_changed
    assert await store.meta.get("big") is None
    await store.meta.set("small", "y")  # a write that fits still works: nothing was left half-done
    assert inspect(db_path, "SELECT value FROM meta WHERE key IN ('small', 'big')") == [("y",)]


async def test_errors_of_ours_stay_what_they_are(store: SqliteStore) -> None:
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        async with store.database.write() as db:
            await db.execute("INSERT INTO no_such_table VALUES (1)")
    with pytest.raises(sqlite3.OperationalError, match="syntax error"):
        async with store.database.read() as db:
            await db.one("SELEC 1")
    await store.meta.set("still", "fine")


# ---- one long-running process per file: ProcessLock

HOLDER = """
import sys, time
from bot.storage.sqlite import process_lock
lock = process_lock(sys.argv[1])
lock.acquire()
print("locked", flush=True)
time.sleep(600)
"""


@pytest.fixture
def holder(url: str):
    """Another process holding the file's lock, as a running bot does."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, url], cwd=ROOT, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert process.stdout.readline().strip() == "locked"
    yield process
    process.kill()
    process.wait(timeout=10)


def test_a_second_process_cannot_take_the_lock_and_learns_who_has_it(url: str, holder: subprocess.Popen) -> None:
    with pytest.raises(DatabaseInUse) as raised:
        process_lock(url).acquire()
    assert raised.value.pid == holder.pid
    assert str(raised.value).endswith(f"is in use by another calbot process (pid {holder.pid})")


def test_every_spelling_of_the_file_meets_at_one_lock(
    url: str, db_path: Path, holder: subprocess.Popen, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    link = tmp_path / "link"
    link.symlink_to(db_path.parent, target_is_directory=True)
    monkeypatch.chdir(db_path.parent.parent)
    for other in ("sqlite:///data/calbot.sqlite3", f"sqlite:///{link}/calbot.sqlite3", f"sqlite:///{db_path}"):
        with pytest.raises(DatabaseInUse):
            process_lock(other).acquire()


def test_the_lock_goes_with_a_killed_process(url: str, holder: subprocess.Popen) -> None:
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=10)
    lock = process_lock(url)
    lock.acquire()  # no stale lock to clean up by hand
    try:
        assert lock.held
        assert lock.path.read_text() == f"{os.getpid()}\n"
    finally:
        lock.release()


async def test_the_lock_leaves_sqlite_alone(url: str, db_path: Path, holder: subprocess.Popen) -> None:
    # Short commands (migrate, token) use the file while a bot holds the lock: it is not SQLite's.
    store = await open_store(url)
    try:
        await store.meta.set("beside", "the bot")
        assert await store.meta.get("beside") == "the bot"
    finally:
        await store.close()
    assert process_lock(url).path == db_path.parent / "calbot.sqlite3.lock"


def test_released_it_is_free_for_the_next_process(url: str) -> None:
    first = process_lock(url)
    with first, pytest.raises(DatabaseInUse):  # a second holder in one process is refused too
        process_lock(url).acquire()
    assert not first.held
    second = subprocess.run(
        [sys.executable, "-c", HOLDER.replace("time.sleep(600)", ""), url], cwd=ROOT, capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60, check=False,
    )  # fmt: skip
    assert second.stdout.strip() == "locked", second.stderr
