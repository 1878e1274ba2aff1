"""One-occurrence changes of a series: moved, edited or cancelled occurrences (RECURRENCE-ID, EXDATE)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.domain.errors import NotFound
from bot.domain.models import OccurrenceChange

from .database import (
    Clock,
    Database,
    Row,
    epoch,
    instant,
)

if TYPE_CHECKING:
    pass


def _change(row: Row) -> OccurrenceChange:
    return OccurrenceChange(
        guild_id=row["guild_id"],
        event_id=row["event_id"],
        occurrence=instant(row["occurrence"]),
        cancelled=bool(row["cancelled"]),
        starts=instant(row["starts"]),
        ends=instant(row["ends"]),
        name=row["name"],
        description=row["description"],
        location=row["location"],
    )


class SqlOccurrenceChanges:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def for_events(self, guild_id: int, event_ids: list[int]) -> dict[int, list[OccurrenceChange]]:
        found: dict[int, list[OccurrenceChange]] = {event_id: [] for event_id in event_ids}
        if not event_ids:
            return found
        async with self._db.read() as db:
            rows = await db.all(
                "SELECT * FROM occurrence_changes "
                f"WHERE guild_id = ? AND event_id IN ({','.join('?' * len(event_ids))})",
                (guild_id, *event_ids),
            )
        for row in rows:
            found[row["event_id"]].append(_change(row))
        return found

    async def save(self, change: OccurrenceChange) -> OccurrenceChange:
        change = change.validated()
        async with self._db.write() as db:
            if (
                await db.one("SELECT 1 FROM events WHERE guild_id = ? AND id = ?", (change.guild_id, change.event_id))
                is None
            ):
                raise NotFound("event", change.event_id)
            await db.execute("""
                INSERT INTO occurrence_changes (guild_id, event_id, occurrence, cancelled, starts, ends, name,
                                                description, location, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (event_id, occurrence) DO UPDATE SET
                    cancelled = excluded.cancelled, starts = excluded.starts, ends = excluded.ends,
                    name = excluded.name, description = excluded.description, location = excluded.location,
                    updated_at = excluded.updated_at
                """,
                (change.guild_id, change.event_id, epoch(change.occurrence), int(change.cancelled),
                 epoch(change.starts), epoch(change.ends), change.name, change.description, change.location,
                 epoch(self._clock())),
            )  # fmt: skip
        return change
