"""Copying a whole installation from one store to another (`python -m bot migrate-data`): SQLite to
PostgreSQL when one machine is no longer enough, or back.

Every table is copied with its ids, so card buttons, API tokens (`cbt_<id>_...`) and feed addresses keep
working. The copy is one transaction on the target, checked row for row by count before it commits: a
failure or a mismatch leaves the target as it was. Claimed reminders are copied as pending, since the
process that claimed them is not the one that will send them. Stop the bot before copying: what it
writes meanwhile is not copied.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .database import Connection
from .store import SqlStore

# In an order that satisfies the foreign keys; with each table's key, to read it in pages.
TABLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("meta", ("key",)),
    ("guild_settings", ("guild_id",)),
    ("user_settings", ("user_id",)),
    ("calendars", ("id",)),
    ("webhooks", ("id",)),
    ("events", ("id",)),
    ("attendees", ("event_id", "occurrence", "user_id")),
    ("occurrence_changes", ("event_id", "occurrence")),
    ("reminders", ("id",)),
    ("event_sync", ("id",)),
    ("api_tokens", ("id",)),
    ("problems", ("guild_id", "event_id", "what")),
    ("contacts", ("user_id", "kind")),
    ("dm_channels", ("user_id",)),
    ("reminder_prefs", ("user_id",)),
    ("notification_stream", ("guild_id", "seq")),
    ("native_guilds", ("guild_id",)),
    ("native_events", ("native_id",)),
    ("native_interested", ("native_id", "user_id")),
    ("subscriptions", ("id",)),
    ("feed_items", ("subscription_id", "key")),
    ("feed_answers", ("subscription_id", "key", "occurrence", "user_id")),
)
PAGE = 5000


class TargetNotEmpty(RuntimeError):
    """The target already holds data, and replacing it was not asked for."""


class CountMismatch(RuntimeError):
    """A table's row count differs between source and target after the copy (nothing was committed)."""


@dataclass(frozen=True, slots=True)
class Copied:
    table: str
    source: int
    target: int


async def _count(db: Connection, table: str) -> int:
    return (await db.one(f"SELECT count(*) FROM {table}"))[0]


async def copy_store(
    source: SqlStore, target: SqlStore, *, replace: bool = False, progress: Callable[[str, int], None] | None = None
) -> list[Copied]:
    """Copy every row of `source` into `target` in one transaction and return the counts compared.
    `target` must be empty unless `replace`, which deletes what it holds first (in the same transaction)."""
    async with target.database.write() as into:
        held = {table: await _count(into, table) for table, _key in TABLES}
        if any(held.values()) and not replace:
            filled = ", ".join(f"{table} ({n})" for table, n in held.items() if n)
            raise TargetNotEmpty(f"the target already holds data: {filled}")
        for table, _key in reversed(TABLES):  # children first
            await into.execute(f"DELETE FROM {table}")
        report = []
        for table, key in TABLES:
            copied = await _copy_table(source, into, table, key)
            if progress is not None:
                progress(table, copied)
            async with source.database.read() as db:
                expected = await _count(db, table)
            report.append(Copied(table, expected, await _count(into, table)))
        wrong = [c for c in report if c.source != c.target]
        if wrong:
            raise CountMismatch(", ".join(f"{c.table}: {c.source} in the source, {c.target} copied" for c in wrong))
        await into.continue_ids([table for table, key in TABLES if key == ("id",)])
    return report


async def _copy_table(source: SqlStore, into: Connection, table: str, key: tuple[str, ...]) -> int:
    order = ", ".join(key)
    after: tuple | None = None
    copied = 0
    while True:
        async with source.database.read() as db:
            if after is None:
                rows = await db.all(f"SELECT * FROM {table} ORDER BY {order} LIMIT ?", (PAGE,))
            else:
                marks = ", ".join("?" * len(key))
                rows = await db.all(
                    f"SELECT * FROM {table} WHERE ({order}) > ({marks}) ORDER BY {order} LIMIT ?", (*after, PAGE)
                )
        if not rows:
            return copied
        records = [dict(row) for row in rows]
        if table == "reminders":
            for record in records:
                if record["state"] == "claimed":
                    record.update(state="pending", claimed_by=None, lease_until=None)
        columns = list(records[0])
        await into.execute_many(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
            [[record[c] for c in columns] for record in records],
        )
        copied += len(records)
        after = tuple(records[-1][k] for k in key)
