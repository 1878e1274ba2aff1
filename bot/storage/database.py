"""What the repositories share: the `Database` a backend supplies, and the helpers that map rows.

The repositories (one per file: settings, calendars, events, changes, sync, attendees, outbox, tokens)
are written once in the SQL that SQLite and PostgreSQL share. A backend (sqlite.py, postgres.py)
supplies a `Database`: transactions, placeholders, and the few things the two do differently (taking a
lock for a read-modify-write, skipping rows another process has claimed, telling other processes
something changed). Instants are stored as UTC epoch seconds and flags as 0/1 integers on both, so
every row maps to the domain the same way.
"""

from __future__ import annotations

import asyncio
import hashlib
import weakref
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from importlib import resources
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from bot.domain.shards import Shards

Clock = Callable[[], datetime]
Row = Mapping[str, Any]
Params = Mapping[str, Any] | Sequence[Any]

NO_LIMIT = 2**62  # LIMIT for "all": SQLite spells it -1 and PostgreSQL ALL; a huge number reads the same on both
_MAX_ID = 2**63 - 1  # ids are signed 64-bit on both backends; binding a larger int fails


class IntegrityError(Exception):
    """A constraint refused a write (unique name, foreign key); each backend raises it for its driver's error."""


class DatabaseInUse(Exception):
    """A long-running process holds the SQLite file's process lock (sqlite.py, ProcessLock)."""

    def __init__(self, database: object, pid: int | None) -> None:
        self.database, self.pid = database, pid
        holder = f"another calbot process (pid {pid})" if pid else "another calbot process"
        super().__init__(f"{database} is in use by {holder}")


class Unavailable(Exception):
    """The database cannot serve a read or a write right now: PostgreSQL down, restarting or refusing
    connections, a connection lost, SQLite locked by another process for longer than its busy timeout, a
    disk full or failing. Both backends raise it from `Database.read()` and `write()` in place of their
    drivers' errors of that kind (the driver's error is its `__cause__`), so a caller can say "try again in
    a minute" (a 503 in the API) without knowing the backend. Errors of ours (bad SQL, a broken constraint)
    stay what they are.

    `during_write`: raised by `write()` with its transaction certainly not committed (rolled back, or never
    begun), so nothing of that write was stored.
    `while_committing`: raised by `write()` when the connection was lost during COMMIT (PostgreSQL): the
    server may or may not have committed, and nobody can know which. Neither flag: a read failed.
    `committed_before`: the same asyncio task (one slash command, one button press, one API request) had
    committed another write before this one failed, so part of its work is stored.
    """

    def __init__(
        self, reason: str, *, during_write: bool = False, while_committing: bool = False, committed_before: bool = False
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.during_write = during_write
        self.while_committing = while_committing
        self.committed_before = committed_before

    @property
    def nothing_changed(self) -> bool:
        """Whether the work that failed stored nothing at all: its failing write was rolled back, and it
        had committed no other before."""
        return self.during_write and not self.committed_before


# Tasks that committed a write, for Unavailable.committed_before. discord.py runs each command and each
# button press in a task of its own, and aiohttp each request; weak keys, so a finished task is forgotten.
_committing_tasks: weakref.WeakSet[asyncio.Task[Any]] = weakref.WeakSet()


def note_commit() -> None:
    """Record that the running task committed a write (the backends call it after each COMMIT)."""
    task = asyncio.current_task()
    if task is not None:
        _committing_tasks.add(task)


def unavailable(
    error: BaseException, *, during_write: bool, while_committing: bool = False, reason: str | None = None
) -> Unavailable:
    """The Unavailable to raise for the driver's `error` (raise it `from error`); `reason`: in words, when the
    driver's own say little."""
    task = asyncio.current_task()
    return Unavailable(
        reason or str(error) or type(error).__name__,
        during_write=during_write,
        while_committing=while_committing,
        committed_before=task is not None and task in _committing_tasks,
    )


class Connection(Protocol):
    """One connection inside `Database.read()` or `write()`. Parameters are `?` positional or `:name` named."""

    async def execute(self, sql: str, params: Params = ()) -> int: ...  # rows changed
    async def one(self, sql: str, params: Params = ()) -> Row | None: ...
    async def all(self, sql: str, params: Params = ()) -> list[Row]: ...
    async def execute_many(self, sql: str, rows: list[Sequence[Any]]) -> None: ...

    async def serialize(self, *key: object) -> None:
        """Hold off other writers of `key` until this transaction ends (a read-modify-write: settings,
        a capped RSVP list). SQLite's writes are already one at a time."""

    async def notify(self, channel: str, payload: str) -> None:
        """Tell other processes, when this transaction commits."""

    async def continue_ids(self, tables: list[str]) -> None:
        """After rows were copied in with their ids: new rows of `tables` get ids after the highest."""


class Database(Protocol):
    # True when several processes share the database: claims left behind may belong to a live process.
    shared: bool
    # Appended to the claim's inner SELECT: PostgreSQL's FOR UPDATE SKIP LOCKED; SQLite needs none.
    skip_locked: str

    # Both raise Unavailable for the driver's "cannot now" errors, from the body's statements too.
    def read(self) -> AbstractAsyncContextManager[Connection]: ...
    def write(self) -> AbstractAsyncContextManager[Connection]: ...
    async def data_version(self) -> Any: ...


def lock_key(*key: object) -> int:
    """A signed 64-bit number for `key` (PostgreSQL's advisory locks take one)."""
    digest = hashlib.blake2b(repr(key).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def utc_now() -> datetime:
    """The stores' clock unless they are given one (tests move theirs by hand)."""
    return datetime.now(UTC)


def epoch(value: datetime | None) -> int | None:
    return None if value is None else int(value.timestamp())


def instant(value: int | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


def storable(row_id: int) -> bool:
    return -_MAX_ID <= row_id <= _MAX_ID


def text_id(text: str) -> int | None:
    """The row id `text` spells ("12" or "#12"), else None. ASCII digits only: "²".isdigit() is true
    but int("²") fails; and a number past 64 bits names no row."""
    digits = text.strip().lstrip("#")
    if not (digits.isascii() and digits.isdigit()):
        return None
    value = int(digits)
    return value if storable(value) else None


def on_shards(shards: Shards | None) -> str:
    """An SQL condition: the row's guild is on one of `shards` (always true for None)."""
    return "1 = 1" if shards is None else shards.sql_condition("guild_id")


class SchemaTooNew(RuntimeError):
    """The database was migrated by a newer calbot than this one."""


def migrations(backend: str) -> list[tuple[int, str, str]]:
    """(version, file name, SQL) for every migration bundled for `backend` ("sqlite", "postgres"), in order."""
    folder = resources.files("bot.storage").joinpath(f"migrations/{backend}")
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            found.append((int(entry.name.split("_", 1)[0]), entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


def redact_url(url: str) -> str:
    """`url` with its password masked: `postgresql://user:***@host/db`, and `password=***` in the query
    string (libpq reads it there too). Done on the text, which is otherwise kept as it was."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    netloc, tail = rest[:end], rest[end:]
    userinfo, at, host = netloc.rpartition("@")
    if at and ":" in userinfo:
        netloc = f"{userinfo.partition(':')[0]}:***@{host}"
    path, question, query = tail.partition("?")
    if question:
        query, hash_, fragment = query.partition("#")
        query = "&".join(
            "password=***" if item.partition("=")[0].lower() == "password" else item for item in query.split("&")
        )
        tail = f"{path}?{query}{hash_}{fragment}"
    return f"{scheme}://{netloc}{tail}"
