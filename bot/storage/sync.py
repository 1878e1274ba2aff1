"""The event_sync queue: events written whose Discord-side follow-up (card, reminders, DMs to members
promoted off a waitlist) is still to do. Every write of an event adds an entry in its own transaction;
the bot removes entries once it has done what they ask, so work a crash interrupted is done at start-up."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from bot.domain.models import Event

from .database import Clock, Database, Row, epoch, on_shards
from .events import queue_sync, salvaged
from .interface import SyncEntry

if TYPE_CHECKING:
    from bot.domain.shards import Shards


def _entry(row: Row) -> SyncEntry:
    promoted = json.loads(row["promoted"]) if row["promoted"] else {}
    return SyncEntry(
        id=row["id"],
        guild_id=row["guild_id"],
        event_id=row["event_id"],
        deleted=salvaged(json.loads(row["deleted"])) if row["deleted"] else None,
        promoted={int(key): list(users) for key, users in promoted.items()},
    )


class SqlEventSync:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def push(self, guild_id: int, event_id: int, deleted: Event | None = None) -> None:
        async with self._db.write() as db:
            await queue_sync(db, guild_id, event_id, deleted, epoch(self._clock()))

    async def take(self, limit: int = 100, *, shards: Shards | None = None) -> list[SyncEntry]:
        """The oldest waiting entries (of `shards`' guilds)."""
        async with self._db.read() as db:
            rows = await db.all(f"SELECT * FROM event_sync WHERE {on_shards(shards)} ORDER BY id LIMIT ?", (limit,))
        return [_entry(r) for r in rows]

    async def for_event(self, guild_id: int, event_id: int) -> list[SyncEntry]:
        """The event's waiting entries, oldest first."""
        async with self._db.read() as db:
            rows = await db.all(
                "SELECT * FROM event_sync WHERE guild_id = ? AND event_id = ? ORDER BY id", (guild_id, event_id)
            )
        return [_entry(r) for r in rows]

    async def done(self, entry_ids: list[int]) -> None:
        if not entry_ids:
            return
        async with self._db.write() as db:
            await db.execute(f"DELETE FROM event_sync WHERE id IN ({','.join('?' * len(entry_ids))})", tuple(entry_ids))
