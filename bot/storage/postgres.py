"""The PostgreSQL backend (asyncpg): one database shared by every bot and API process.

The repositories are the shared ones (store.py); this module supplies connections from a pool, turns
their `?` and `:name` placeholders into PostgreSQL's `$n`, and adds what only a shared database needs:
advisory locks for read-modify-write transactions, FOR UPDATE SKIP LOCKED for claiming reminders, and
LISTEN/NOTIFY so a reminder or event written by one process wakes the others at once. A server that is
down, refusing, restarting, out of disk or out of connections raises `Unavailable` (database.py) from
`read()` and `write()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any

import asyncpg

from .database import (
    Clock,
    IntegrityError,
    Params,
    Row,
    SchemaTooNew,
    Unavailable,
    lock_key,
    migrations,
    note_commit,
    redact_url,
    unavailable,
    utc_now,
)
from .interface import REMINDERS_CHANNEL
from .store import SqlStore

log = logging.getLogger(__name__)

CHANNEL_PREFIX = "calbot_"  # NOTIFY channels are per database, so ours carry a prefix
RECONNECT_SECONDS = 5.0


# The errors that mean "the database cannot serve us now", not "this statement is wrong": no connection (OSError
# and TimeoutError from connecting, a connection lost: PostgresConnectionError, ConnectionDoesNotExistError
# among them), the server shutting down, starting up or cancelling (OperatorInterventionError), out of disk,
# memory or connections (InsufficientResourcesError), or a standby after a failover (read-only).
# Seconds a connection may take to open. A server that accepts and never answers (a firewall dropping packets,
# a wedged host) fails a start or a reconnect in this long, instead of asyncpg's 60.
CONNECT_TIMEOUT = 10.0

_UNAVAILABLE: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InsufficientResourcesError,
    asyncpg.exceptions.ReadOnlySQLTransactionError,
)

# What asyncpg raises for a call on a connection that was closed under us ("connection has been released
# back to the pool", "another operation is in progress"): "unavailable" only if the connection is gone.
_CONNECTION_GONE = (asyncpg.InterfaceError, asyncpg.exceptions.InternalClientError)
LOST = "the connection to PostgreSQL was lost"

_TOKEN = re.compile(r"'(?:[^']|'')*'|--[^\n]*|::|\?|:([A-Za-z_][A-Za-z0-9_]*)", re.S)


@functools.lru_cache(maxsize=512)
def translate(sql: str) -> tuple[str, tuple[str, ...] | int]:
    """`sql` with `$n` placeholders, and what fills them: the parameter names in order (for `:name`),
    or how many there are (for `?`). String literals, comments and `::` casts are left alone."""
    names: list[str] = []
    positional = 0

    def placeholder(match: re.Match[str]) -> str:
        nonlocal positional
        text = match.group(0)
        if text == "?":
            positional += 1
            return f"${positional}"
        if match.group(1) is None:  # a literal, a comment or a cast
            return text
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    query = _TOKEN.sub(placeholder, sql)
    if names and positional:
        raise ValueError("a statement mixes ? and :name placeholders")
    return query, tuple(names) if names else positional


def _arguments(sql: str, params: Params) -> tuple[str, list[Any]]:
    query, shape = translate(sql)
    if isinstance(params, Mapping):
        return query, [params[name] for name in shape] if isinstance(shape, tuple) else []
    return query, list(params)


def _rowcount(status: str) -> int:
    """asyncpg reports "UPDATE 3", "DELETE 0", "INSERT 0 1": the last word is the row count."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


class PostgresConnection:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self._conn = connection

    async def execute(self, sql: str, params: Params = ()) -> int:
        query, args = _arguments(sql, params)
        try:
            return _rowcount(await self._conn.execute(query, *args))
        except asyncpg.IntegrityConstraintViolationError as error:
            raise IntegrityError(str(error)) from error

    async def one(self, sql: str, params: Params = ()) -> Row | None:
        query, args = _arguments(sql, params)
        try:
            return await self._conn.fetchrow(query, *args)
        except asyncpg.IntegrityConstraintViolationError as error:
            raise IntegrityError(str(error)) from error

    async def all(self, sql: str, params: Params = ()) -> list[Row]:
        query, args = _arguments(sql, params)
        return await self._conn.fetch(query, *args)

    async def execute_many(self, sql: str, rows: list[Sequence[Any]]) -> None:
        query, _shape = translate(sql)
        await self._conn.executemany(query, rows)

    async def serialize(self, *key: object) -> None:
        await self._conn.execute("SELECT pg_advisory_xact_lock($1)", lock_key(*key))

    async def notify(self, channel: str, payload: str) -> None:
        # Sent when the transaction commits, and not at all if it rolls back.
        await self._conn.execute("SELECT pg_notify($1, $2)", CHANNEL_PREFIX + channel, payload)

    async def continue_ids(self, tables: list[str]) -> None:
        # Rows inserted with their ids leave an identity's sequence where it was.
        for table in tables:
            await self._conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), coalesce(max(id), 0) + 1, false) FROM {table}"
            )


class PostgresDatabase:
    shared = True
    skip_locked = "FOR UPDATE SKIP LOCKED"

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[PostgresConnection]:
        try:
            async with self.pool.acquire() as connection:
                try:
                    yield PostgresConnection(connection)
                except _CONNECTION_GONE as error:
                    if _lost(connection):
                        raise unavailable(error, during_write=False, reason=LOST) from error
                    raise
        except _UNAVAILABLE as error:
            raise unavailable(error, during_write=False) from error

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[PostgresConnection]:
        """One transaction. An Unavailable from here has `during_write`, or `while_committing` when the
        connection failed during COMMIT: then the server may or may not have committed, and nobody can say."""
        committing = committed = False
        try:
            async with self.pool.acquire() as connection:
                transaction = connection.transaction()
                await transaction.start()
                try:
                    yield PostgresConnection(connection)
                except BaseException as error:
                    if isinstance(error, _CONNECTION_GONE) and _lost(connection):
                        raise unavailable(error, during_write=True, reason=LOST) from error  # the server rolled back
                    await _roll_back(transaction)
                    raise
                committing = True
                try:
                    await transaction.commit()
                except _CONNECTION_GONE as error:
                    if _lost(connection):
                        raise unavailable(error, during_write=False, while_committing=True, reason=LOST) from error
                    raise
                committed = True
        except _UNAVAILABLE as error:
            if not committed:
                raise unavailable(error, during_write=not committing, while_committing=committing) from error
            # Lost while the pool reset the connection after the commit: the write is stored all the same.
            log.warning("A PostgreSQL connection failed after its transaction committed: %s", error)
        note_commit()

    async def data_version(self) -> str:
        # The snapshot names the transactions running and the next id to be given out, so it changes
        # when any write starts or commits, in any process. It changes for other databases' writes too:
        # a cache keyed on it is emptied too often, never too late.
        async with self.read() as db:
            return (await db.one("SELECT pg_current_snapshot()::text AS snapshot"))["snapshot"]


def _lost(connection: asyncpg.pool.PoolConnectionProxy) -> bool:
    """Whether the pooled connection was closed under us (the server went away or ended it). asyncpg then
    detaches it from the pool, and every call on it raises InterfaceError, is_closed() included."""
    try:
        return connection.is_closed()
    except asyncpg.InterfaceError:
        return True


async def _roll_back(transaction: asyncpg.transaction.Transaction) -> None:
    """Roll back after a failure in the transaction. On a lost connection that fails too, and the server has
    rolled back already; the error that brought us here is the one to raise."""
    try:
        await transaction.rollback()
    except (*_UNAVAILABLE, asyncpg.InterfaceError) as error:
        log.debug("Could not roll back a failed transaction: %s", error)


class PostgresStore(SqlStore):
    def __init__(self, pool: asyncpg.Pool, url: str, clock: Clock) -> None:
        self.url = url
        self._listeners: dict[str, list[Callable[[str], None]]] = {}
        self._listener: asyncpg.Connection | None = None
        self._reconnect: asyncio.Task | None = None
        self._closing = False
        super().__init__(PostgresDatabase(pool), clock)

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        clock: Clock = utc_now,
        min_size: int = 1,
        max_size: int = 10,
        connect_timeout: float = CONNECT_TIMEOUT,
    ) -> PostgresStore:
        """Connect a pool and bring the schema up to date."""
        try:
            pool = await asyncpg.create_pool(url, min_size=min_size, max_size=max_size, timeout=connect_timeout)
        except TimeoutError as error:
            raise Unavailable(f"PostgreSQL did not answer within {connect_timeout:g} s") from error
        try:
            store = cls(pool, url, clock)
            await store.migrate()
        except BaseException:
            await pool.close()
            raise
        return store

    async def schema_version(self) -> int:
        async with self.database.read() as db:
            exists = await db.one("SELECT to_regclass('schema_version') IS NOT NULL AS present")
            if not exists["present"]:
                return 0
            row = await db.one("SELECT max(version) AS version FROM schema_version")
        return row["version"] or 0

    async def migrate(self) -> list[str]:
        """Apply every pending migration in one transaction; return the names applied. Processes starting
        together take turns, so each migration runs once."""
        bundled = migrations("postgres")
        latest = bundled[-1][0]
        async with self.database.write() as db:
            await db.serialize("migrate")
            await db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, applied_at BIGINT)")
            current = (await db.one("SELECT coalesce(max(version), 0) AS version FROM schema_version"))["version"]
            if current > latest:
                raise SchemaTooNew(
                    f"database schema version {current} is newer than this calbot knows ({latest}); upgrade calbot"
                )
            pending = [m for m in bundled if m[0] > current]
            for version, _name, sql in pending:
                await db.execute(sql)  # no parameters: asyncpg runs a whole script
                await db.execute(
                    "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
                    (version, int(utc_now().timestamp())),
                )
        applied = [name for _v, name, _s in pending]
        if applied:
            log.info("Applied migrations %s to %s", ", ".join(applied), redact_url(self.url))
        return applied

    # ---- LISTEN/NOTIFY

    async def subscribe(self, channel: str, callback: Callable[[str], None]) -> None:
        """Call `callback(payload)` whenever a transaction that notified `channel` commits."""
        self._listeners.setdefault(channel, []).append(callback)
        if self._listener is None:
            await self._listen()
        elif len(self._listeners[channel]) == 1:
            await self._listener.add_listener(CHANNEL_PREFIX + channel, self._notified)

    async def _listen(self) -> None:
        # A connection of its own: a pooled one goes back to the pool, and LISTEN lasts as long as it does.
        listener = await asyncpg.connect(self.url, timeout=CONNECT_TIMEOUT)
        for channel in self._listeners:
            await listener.add_listener(CHANNEL_PREFIX + channel, self._notified)
        listener.add_termination_listener(self._lost)
        self._listener = listener

    def _notified(self, _connection: object, _pid: int, channel: str, payload: str) -> None:
        for callback in self._listeners.get(channel.removeprefix(CHANNEL_PREFIX), []):
            try:
                callback(payload)
            except Exception:
                log.exception("A %s notification could not be handled", channel)

    def _lost(self, _connection: object) -> None:
        if self._closing:
            return
        log.warning("Lost the PostgreSQL connection that listens for other processes' changes; reconnecting")
        self._listener = None
        self._reconnect = asyncio.get_running_loop().create_task(self._relisten())

    async def _relisten(self) -> None:
        while not self._closing and self._listener is None:
            try:
                await self._listen()
                log.info("Listening for other processes' changes again")
                # Reminders notified meanwhile were missed: look for due ones now rather than at the next
                # poll. (Queued API changes are picked up by the sync loop in any case.)
                for callback in self._listeners.get(REMINDERS_CHANNEL, []):
                    callback(str(int(utc_now().timestamp())))
            except (OSError, asyncpg.PostgresError):
                await asyncio.sleep(RECONNECT_SECONDS)

    async def close(self) -> None:
        self._closing = True
        if self._reconnect is not None:
            self._reconnect.cancel()
        if self._listener is not None:
            await self._listener.close()
        await self.database.pool.close()
        log.info("Database %s closed", redact_url(self.url))
