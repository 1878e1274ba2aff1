"""The SQLite backend (aiosqlite): the embedded default.

One connection serves every repository. aiosqlite already runs its statements one at a time on the
connection's thread; an asyncio lock around each operation keeps a multi-statement transaction from
interleaving with another coroutine's statements (which would otherwise read its uncommitted rows or
join its transaction). Writes run in `BEGIN IMMEDIATE`, so they take the write lock up front and
another process's writer waits `busy_timeout` instead of failing half-way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from pathlib import Path
from typing import Any

import aiosqlite

from .database import Clock, IntegrityError, Params, Row, SchemaTooNew, migrations, utc_now
from .store import SqlStore

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000


def _statements(script: str) -> Iterable[str]:
    # executescript() would COMMIT first; splitting lets all pending migrations share one transaction.
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                yield buffer
            buffer = ""
    if buffer.strip() and not all(part.strip().startswith("--") for part in buffer.splitlines() if part.strip()):
        raise ValueError(f"incomplete SQL statement at the end of a migration: {buffer[:80]!r}")


def sqlite_path(url: str) -> Path:
    """`sqlite:///data/x.sqlite3` → data/x.sqlite3 (relative); `sqlite:////srv/x.sqlite3` → /srv/x.sqlite3."""
    if not url.startswith("sqlite:///"):
        raise ValueError(f"not a sqlite URL: {url!r}")
    return Path(url.removeprefix("sqlite:///"))


class SqliteConnection:
    """The store's one aiosqlite connection, as the repositories use it. Each statement's cursor is closed
    at once: an open cursor keeps a statement in progress, which makes COMMIT fail."""

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._db = connection

    async def execute(self, sql: str, params: Params = ()) -> int:
        try:
            async with self._db.execute(sql, params) as cursor:
                return cursor.rowcount
        except sqlite3.IntegrityError as error:
            raise IntegrityError(str(error)) from error

    async def one(self, sql: str, params: Params = ()) -> Row | None:
        try:
            async with self._db.execute(sql, params) as cursor:
                return await cursor.fetchone()
        except sqlite3.IntegrityError as error:
            raise IntegrityError(str(error)) from error

    async def all(self, sql: str, params: Params = ()) -> list[Row]:
        async with self._db.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

    async def execute_many(self, sql: str, rows: list[Sequence[Any]]) -> None:
        async with self._db.executemany(sql, rows):
            pass

    async def serialize(self, *key: object) -> None:
        """Nothing to do: BEGIN IMMEDIATE already lets one writer in at a time."""

    async def notify(self, channel: str, payload: str) -> None:
        """Nothing to do: one bot process serves a SQLite file, and it wakes itself."""

    async def continue_ids(self, tables: list[str]) -> None:
        """Nothing to do: a new rowid is always past the highest, and AUTOINCREMENT's counter moves with
        rows inserted with their ids."""


class SqliteDatabase:
    shared = False
    skip_locked = ""

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self.connection = SqliteConnection(connection)
        self._raw = connection
        self._lock = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[SqliteConnection]:
        async with self._lock:
            yield self.connection

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[SqliteConnection]:
        async with self._lock:
            await self.connection.execute("BEGIN IMMEDIATE")
            try:
                yield self.connection
            except BaseException:
                await self.connection.execute("ROLLBACK")
                raise
            await self.connection.execute("COMMIT")

    async def data_version(self) -> tuple[int, int]:
        # data_version moves on another connection's commit; total_changes on this connection's writes.
        async with self.read() as db:
            row = await db.one("SELECT (SELECT data_version FROM pragma_data_version()), total_changes()")
        return row[0], row[1]


class SqliteStore(SqlStore):
    """Owns the connection; hands out the repositories."""

    def __init__(self, connection: aiosqlite.Connection, path: Path, clock: Clock) -> None:
        self._connection = connection
        self.path = path
        super().__init__(SqliteDatabase(connection), clock)

    @classmethod
    async def open(cls, url: str, *, clock: Clock = utc_now) -> SqliteStore:
        """Open (creating the folder and file if needed) and bring the schema up to date."""
        path = sqlite_path(url)
        path.parent.mkdir(parents=True, exist_ok=True)
        connection = aiosqlite.connect(path, isolation_level=None)
        try:
            await connection
        except BaseException:
            # aiosqlite 0.22 stops its worker thread after a failed connect without waiting for it. Wait
            # here, or the thread reports back to a loop that asyncio.run() may have closed meanwhile and
            # a stray "Event loop is closed" traceback follows the real error.
            worker = getattr(connection, "_thread", None)
            if worker is not None and worker.is_alive():
                await asyncio.to_thread(worker.join, 5)
            raise
        try:
            connection.row_factory = sqlite3.Row
            for pragma in ("journal_mode = WAL", "foreign_keys = ON", f"busy_timeout = {BUSY_TIMEOUT_MS}",
                           "synchronous = NORMAL"):  # fmt: skip
                async with connection.execute(f"PRAGMA {pragma}"):
                    pass
            store = cls(connection, path, clock)
            await store.migrate()
        except BaseException:
            await connection.close()
            raise
        return store

    async def subscribe(self, channel: str, callback) -> None:
        """Nothing to listen to: no other process writes reminders for this one to send."""

    async def schema_version(self) -> int:
        async with self.database.read() as db:
            return (await db.one("PRAGMA user_version"))[0]

    async def migrate(self) -> list[str]:
        """Apply every pending migration in one transaction; return the names applied."""
        pending_all = migrations("sqlite")
        latest = pending_all[-1][0]
        async with self.database.write() as db:
            current = (await db.one("PRAGMA user_version"))[0]
            if current > latest:
                raise SchemaTooNew(
                    f"database schema version {current} is newer than this calbot knows ({latest}); upgrade calbot"
                )
            pending = [m for m in pending_all if m[0] > current]
            for _version, _name, sql in pending:
                for statement in _statements(sql):
                    await db.execute(statement)
            if pending:
                await db.execute(f"PRAGMA user_version = {latest}")
        applied = [name for _v, name, _s in pending]
        if applied:
            log.info("Applied migrations %s to %s", ", ".join(applied), self.path)
        return applied

    async def close(self) -> None:
        # A clean close checkpoints the WAL back into the main file.
        await self._connection.close()
        log.info("Database %s closed", self.path)
