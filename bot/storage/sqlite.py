"""The SQLite backend (aiosqlite): the embedded default.

One connection serves every repository. aiosqlite already runs its statements one at a time on the
connection's thread; an asyncio lock around each operation keeps a multi-statement transaction from
interleaving with another coroutine's statements (which would otherwise read its uncommitted rows or
join its transaction). Writes run in `BEGIN IMMEDIATE`, so they take the write lock up front and
another process's writer waits `busy_timeout` instead of failing half-way. A file still locked after
that, a full disk or a failing one raise `Unavailable` (database.py) from `read()` and `write()`.

A long-running process (`python -m bot run`) holds `ProcessLock` on the file for its whole life, so a
second bot cannot start on the same file (see ProcessLock for why a lock file of its own).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from pathlib import Path
from typing import Any

import aiosqlite

from .database import (
    Clock,
    DatabaseInUse,
    IntegrityError,
    Params,
    Row,
    SchemaTooNew,
    migrations,
    note_commit,
    unavailable,
    utc_now,
)
from .store import SqlStore

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 2000  # under Discord's 3 s to answer: a member hears "unavailable" rather than nothing
LOCK_SUFFIX = ".lock"

# SQLite's (primary) result codes that mean "not now" rather than "wrong": the file locked past the busy
# timeout, the disk full, an I/O error, the file unreadable, or read-only (a disk remounted so after errors).
_UNAVAILABLE_CODES = frozenset(
    {
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_FULL,
        sqlite3.SQLITE_CANTOPEN,
        sqlite3.SQLITE_PROTOCOL,
        sqlite3.SQLITE_READONLY,
    }
)


def _is_unavailable(error: BaseException) -> bool:
    if not isinstance(error, sqlite3.Error):
        return False
    code = getattr(error, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in _UNAVAILABLE_CODES


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
            try:
                yield self.connection
            except sqlite3.Error as error:
                if _is_unavailable(error):
                    raise unavailable(error, during_write=False) from error
                raise

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[SqliteConnection]:
        """One transaction. Whatever fails in it, from BEGIN to COMMIT, it is rolled back (if SQLite has
        not done so itself, as it may on a full disk or an I/O error), so an Unavailable from here always
        has `during_write` (SQLite does not commit when COMMIT fails)."""
        async with self._lock:
            try:
                await self.connection.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as error:
                if _is_unavailable(error):
                    raise unavailable(error, during_write=True) from error
                raise
            try:
                yield self.connection
                await self.connection.execute("COMMIT")
            except BaseException as error:
                await self._roll_back()
                if _is_unavailable(error):
                    raise unavailable(error, during_write=True) from error
                raise
        note_commit()

    async def _roll_back(self) -> None:
        if not self._raw.in_transaction:
            return  # SQLite rolled back by itself
        try:
            await self.connection.execute("ROLLBACK")
        except sqlite3.Error as error:  # the error that brought us here matters more
            log.warning("Could not roll back a failed transaction: %s", error)

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
    async def open(cls, url: str, *, clock: Clock = utc_now, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> SqliteStore:
        """Open (creating the folder and file if needed) and bring the schema up to date. A write that
        waits longer than `busy_timeout_ms` for another process's raises Unavailable."""
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
            for pragma in ("journal_mode = WAL", "foreign_keys = ON", f"busy_timeout = {int(busy_timeout_ms)}",
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


# ---- one long-running process per file


class ProcessLock:
    """An exclusive lock on a SQLite database for a process's life: `python -m bot run` holds it, so two
    bots never serve one file (two dispatchers, two sync drains, and each releasing the other's reminder
    claims at start-up: doubled reminders). Short commands (`migrate`, `token`) and `api` do not take it;
    SQLite's own locking is enough for them (see the README, Configuration).

    It is `flock()` on a file of its own, `<database>.lock` beside the database, holding the holder's pid:
    - Not a lock on the database file itself. SQLite locks that file (and `-shm` in WAL mode) with POSIX
      `fcntl()` byte-range locks, which belong to the process rather than the descriptor: closing any
      descriptor of the file drops them all, so opening the database a second time to lock it and closing
      it later would silently cancel SQLite's own locks (SQLite's "How To Corrupt", section 2.2). On NFS,
      Linux also emulates flock() with whole-file fcntl() locks, which would collide with SQLite's.
      SQLite never opens the `.lock` file.
    - flock(), not fcntl(), on that file: it belongs to the open file, so it lasts exactly as long as the
      descriptor: the kernel releases it when the process exits, however it ends (SIGKILL included), and
      no other close() in the process can drop it. It is closed on exec, so no program the process
      starts keeps it.
    - The file is named after the database's resolved path (symlinks followed, as SQLite does), so every
      spelling of one database meets at one lock. It stays when the lock is released: deleting it would let
      a process lock the deleted file while another creates and locks a new one.
    """

    def __init__(self, database: Path) -> None:
        self.database = database
        resolved = database.resolve()
        self.path = resolved.with_name(resolved.name + LOCK_SUFFIX)
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock without waiting; DatabaseInUse (naming the holder's pid) if a process has it."""
        import fcntl  # POSIX only, like the rest of the command line (signal handlers)

        if self._fd is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = _pid_in(fd)
            os.close(fd)
            raise DatabaseInUse(self.database, pid) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)  # no stale pid for the next reader
        finally:
            os.close(fd)  # releases the lock

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> ProcessLock:
        self.acquire()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()


def _pid_in(fd: int) -> int | None:
    text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    return int(text) if text.isdigit() else None  # None: being written this very moment


def process_lock(url: str) -> ProcessLock:
    """The ProcessLock of the SQLite database `url` names (not taken yet)."""
    return ProcessLock(sqlite_path(url))
