"""When the database is unavailable: which errors mean that, and what the API may honestly say about a write.

An unavailable database (PostgreSQL down, restarting or refusing connections; SQLite locked by another
process past its busy timeout, out of disk, failing to read or write) is answered 503 with `Retry-After`,
not 500. The answer says "Nothing was changed" only when that is known:

- a read changes nothing;
- a write whose failure came before anything could commit (no connection could be had, the server refused
  a statement, SQLite failed a statement or its COMMIT: all rolled back) stored nothing;
- a write whose connection was lost while committing may or may not have been saved, and the answer says so;
- a request that committed a write before a later step failed saved that much, and the answer says what.

The backends raise `bot.storage.database.Unavailable` for these (its `during_write`: the failing write was
rolled back), with the driver's error as its cause; a driver's error that escapes untranslated is
recognised here too.
"""

import socket
import sqlite3
from enum import Enum

import asyncpg

from bot.storage.database import Unavailable

RETRY_AFTER = 60  # seconds; the answer says "try again in a minute"

UNAVAILABLE = "The database is unavailable; try again in a minute."

# SQLite's primary result codes (the low byte of the extended code) that mean "not now" rather than "never".
_SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_NOMEM, _SQLITE_READONLY, _SQLITE_IOERR = 5, 6, 7, 8, 10
_SQLITE_FULL, _SQLITE_CANTOPEN, _SQLITE_PROTOCOL = 13, 14, 15
_SQLITE_CODES = {
    _SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_NOMEM, _SQLITE_READONLY, _SQLITE_IOERR, _SQLITE_FULL, _SQLITE_CANTOPEN,
    _SQLITE_PROTOCOL,
}  # fmt: skip
_SQLITE_MESSAGES = (
    "database is locked",
    "database table is locked",
    "disk i/o error",
    "database or disk is full",
    "unable to open database file",
    "attempt to write a readonly database",
    "out of memory",
)

# PostgreSQL errors reported before any statement ran: no connection could be had.
_PG_BEFORE = (
    asyncpg.CannotConnectNowError,  # 57P03: starting up or shutting down
    asyncpg.TooManyConnectionsError,  # 53300
    asyncpg.ClientCannotConnectError,  # 08001
    asyncpg.ConnectionRejectionError,  # 08004
)
# The server refused a statement: that statement failed, and its transaction with it.
_PG_REFUSED = (
    asyncpg.InsufficientResourcesError,  # 53xxx: disk full, out of memory
    asyncpg.ReadOnlySQLTransactionError,  # 25006: a standby, after a failover
)
# The connection ended under a statement: if it was the COMMIT, it may have been applied.
_PG_LOST = (
    asyncpg.PostgresConnectionError,  # 08xxx, ConnectionDoesNotExistError ("closed in the middle of operation")
    asyncpg.AdminShutdownError,  # 57P01: the server is stopping
    asyncpg.CrashShutdownError,  # 57P02
)


class Outcome(Enum):
    UNCHANGED = "nothing was committed"
    UNKNOWN = "a write may have committed"


def _chain(error: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [error]
    while todo and len(seen) < 16:
        current = todo.pop(0)
        if current is None or any(current is s for s in seen):
            continue
        seen.append(current)
        todo += [current.__cause__, current.__context__]
    return seen


def _sqlite(error: sqlite3.Error) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    if isinstance(code, int) and code & 0xFF in _SQLITE_CODES:
        return True
    text = str(error).lower()
    return any(message in text for message in _SQLITE_MESSAGES)


def _interface(error: asyncpg.InterfaceError) -> bool:
    text = str(error).lower()
    return "connection is closed" in text or "pool is clos" in text


def classify(error: BaseException) -> Outcome | None:
    """What `error` (or the error it was raised from) says about the database: None when it is no outage."""
    for current in _chain(error):
        if isinstance(current, Unavailable):
            if current.during_write:
                return Outcome.UNCHANGED  # the failing write was rolled back
            # A read, or a write whose COMMIT was under way. Said outright when the backend says it (a
            # `while_committing` flag); else told by the driver's error: one from connecting means no statement ran.
            committing = getattr(current, "while_committing", None)
            if isinstance(committing, bool):
                return Outcome.UNKNOWN if committing else Outcome.UNCHANGED
            return _driver(current.__cause__) or Outcome.UNKNOWN
        outcome = _driver(current)
        if outcome is not None:
            return outcome
    return None


def _driver(error: BaseException | None) -> Outcome | None:
    """The outcome a driver's error of the "cannot now" kind implies, else None."""
    if isinstance(error, sqlite3.Error):
        # A failed statement or COMMIT leaves SQLite's file as it was: nothing of the transaction is kept.
        return Outcome.UNCHANGED if _sqlite(error) else None
    if isinstance(error, _PG_BEFORE + _PG_REFUSED):
        return Outcome.UNCHANGED
    if isinstance(error, _PG_LOST):
        return Outcome.UNKNOWN
    if isinstance(error, asyncpg.InterfaceError):
        return Outcome.UNCHANGED if _interface(error) else None  # refused before anything was sent
    if isinstance(error, ConnectionRefusedError | socket.gaierror):
        return Outcome.UNCHANGED  # connecting failed
    if isinstance(error, OSError):  # TimeoutError among them
        return Outcome.UNKNOWN
    return None


def message(outcome: Outcome, *, write: bool, saved: list[str]) -> str:
    """The 503's message: "Nothing was changed" only where that is true. `saved`: what the request had
    committed before the failure (an event, a calendar made for it)."""
    done = f" Saved before it became unavailable: {', '.join(saved)}." if saved else ""
    if write and outcome is Outcome.UNKNOWN:
        return (
            f"{UNAVAILABLE}{done} The connection was lost during the change, so it may or may not have been "
            "saved: look before trying again."
        )
    return f"{UNAVAILABLE}{done} {'Nothing else' if saved else 'Nothing'} was changed."
