"""The event_sync queue: events written whose Discord-side follow-up (card, reminders) is still to do."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from bot.domain.models import Event

from .database import (
    Clock,
    Database,
    epoch,
    on_shards,
)
from .events import event_from_row, queue_sync

if TYPE_CHECKING:
    from bot.domain.shards import Shards


class SqlEventSync:
    """Events written outside the bot, waiting for the bot to post their cards and schedule reminders."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def push(self, guild_id: int, event_id: int, deleted: Event | None = None) -> None:
        async with self._db.write() as db:
            await queue_sync(db, guild_id, event_id, deleted, epoch(self._clock()))

    async def take(self, limit: int = 100, *, shards: Shards | None = None) -> list[tuple[int, int, int, Event | None]]:
        """The oldest waiting entries (of `shards`' guilds): (entry id, guild id, event id, the deleted event
        or None)."""
        async with self._db.read() as db:
            rows = await db.all(f"SELECT * FROM event_sync WHERE {on_shards(shards)} ORDER BY id LIMIT ?", (limit,))
        return [
            (r["id"], r["guild_id"], r["event_id"], event_from_row(json.loads(r["deleted"])) if r["deleted"] else None)
            for r in rows
        ]

    async def done(self, entry_ids: list[int]) -> None:
        if not entry_ids:
            return
        async with self._db.write() as db:
            await db.execute(f"DELETE FROM event_sync WHERE id IN ({','.join('?' * len(entry_ids))})", tuple(entry_ids))
