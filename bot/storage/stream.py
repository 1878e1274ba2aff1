"""The notifications a guild broadcasts, numbered per guild, for the API's Server-Sent Events stream
(GET /{v}/notifications/stream): written in the same transaction as the broadcast's fan-out (outbox.py), so
each notification is numbered exactly once; kept STREAM_RETENTION, so a client that reconnects within it
with Last-Event-ID misses nothing."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .database import Clock, Connection, Database, epoch

STREAM_RETENTION = timedelta(hours=24)
STREAM_CHANNEL = "notifications"  # Store.subscribe: payload the guild id whose stream grew


@dataclass(frozen=True, slots=True)
class StreamEntry:
    seq: int  # the SSE `id:`, rising per guild
    key: str
    payload: dict[str, Any]


async def append(db: Connection, guild_id: int, key: str, payload: dict[str, Any], now: int) -> None:
    """Inside the caller's transaction: number the notification `key` of the guild once, then tell listeners."""
    await db.serialize("notification_stream", guild_id)  # one numbering at a time per guild (PostgreSQL)
    row = await db.one("SELECT coalesce(max(seq), 0) FROM notification_stream WHERE guild_id = ?", (guild_id,))
    added = await db.execute(
        "INSERT INTO notification_stream (guild_id, seq, key, payload, created_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (guild_id, key) DO NOTHING",
        (guild_id, row[0] + 1, key, json.dumps(payload, separators=(",", ":"), ensure_ascii=False), now),
    )
    if added:
        await db.notify(STREAM_CHANNEL, str(guild_id))


class SqlNotificationStream:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock
        # Whether a notification written by another process is announced (STREAM_CHANNEL): PostgreSQL's
        # LISTEN/NOTIFY; a SQLite stream must be looked at now and then instead.
        self.announced = db.shared

    async def since(self, guild_id: int, after: int, limit: int = 100) -> list[StreamEntry]:
        """The guild's notifications numbered after `after`, oldest first (those pruned are gone)."""
        async with self._db.read() as db:
            rows = await db.all(
                "SELECT seq, key, payload FROM notification_stream WHERE guild_id = ? AND seq > ? ORDER BY seq LIMIT ?",
                (guild_id, after, limit),
            )
        return [StreamEntry(r["seq"], r["key"], json.loads(r["payload"])) for r in rows]

    async def latest(self, guild_id: int) -> int:
        """The number of the guild's latest notification; 0 for none."""
        async with self._db.read() as db:
            row = await db.one("SELECT coalesce(max(seq), 0) FROM notification_stream WHERE guild_id = ?", (guild_id,))
        return row[0]

    async def prune(self, before: datetime) -> int:
        """Forget notifications written before `before`; the latest of each guild stays, so its numbering goes on."""
        async with self._db.write() as db:
            return await db.execute(
                "DELETE FROM notification_stream WHERE created_at < ? AND seq < "
                "(SELECT max(seq) FROM notification_stream s WHERE s.guild_id = notification_stream.guild_id)",
                (epoch(before),),
            )
