"""RSVPs: who answered what to each occurrence, decided by the domain's rules inside one transaction."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.domain.errors import NotFound
from bot.domain.rsvp import WAITLISTED, Attendee, Change, promotions, respond

from .database import (
    Clock,
    Database,
    Row,
    epoch,
)

if TYPE_CHECKING:
    pass


def _attendee(row: Row) -> Attendee:
    return Attendee(
        guild_id=row["guild_id"],
        event_id=row["event_id"],
        occurrence=row["occurrence"],
        user_id=row["user_id"],
        status=row["status"],
        seq=row["seq"],
        dm_error=row["dm_error"],
    )


class SqlAttendees:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def list(self, guild_id: int, event_id: int, occurrence: int) -> list[Attendee]:
        async with self._db.read() as db:
            rows = await db.all(
                "SELECT * FROM attendees WHERE guild_id = ? AND event_id = ? AND occurrence = ? ORDER BY seq",
                (guild_id, event_id, occurrence),
            )
        return [_attendee(r) for r in rows]

    async def _apply(self, guild_id: int, event_id: int, occurrence: int, decide) -> list[Change]:
        """Read the attendees, let the domain decide, write its changes: all in one transaction."""
        async with self._db.write() as db:
            # One answer at a time per event, or two members could both take the last place.
            await db.serialize("answers", event_id)
            scope = (guild_id, event_id, occurrence)
            rows = await db.all("SELECT * FROM attendees WHERE guild_id = ? AND event_id = ? AND occurrence = ?", scope)
            if await db.one("SELECT 1 FROM events WHERE guild_id = ? AND id = ?", (guild_id, event_id)) is None:
                raise NotFound("event", event_id)
            changes = decide([_attendee(r) for r in rows])
            seq = max((r["seq"] for r in rows), default=0)
            now = epoch(self._clock())
            for change in changes:
                seq += 1
                await db.execute(
                    """
                    INSERT INTO attendees (guild_id, event_id, occurrence, user_id, status, seq, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (event_id, occurrence, user_id) DO UPDATE SET
                        status = excluded.status, seq = excluded.seq, updated_at = excluded.updated_at
                    """,
                    (*scope, change.user_id, change.status, seq, now),
                )
        return changes

    async def respond(
        self, guild_id: int, event_id: int, occurrence: int, user_id: int, wanted: str, capacity: int | None
    ) -> list[Change]:
        return await self._apply(guild_id, event_id, occurrence, lambda rows: respond(rows, user_id, wanted, capacity))

    async def rebalance(self, guild_id: int, event_id: int, occurrence: int, capacity: int | None) -> list[Change]:
        return await self._apply(guild_id, event_id, occurrence, lambda rows: promotions(rows, capacity))

    async def waiting(self, guild_id: int, event_id: int) -> list[int]:
        """The occurrences of an event that have members on their waitlist."""
        async with self._db.read() as db:
            rows = await db.all(
                "SELECT DISTINCT occurrence FROM attendees WHERE guild_id = ? AND event_id = ? AND status = ? "
                "ORDER BY occurrence",
                (guild_id, event_id, WAITLISTED),
            )
        return [r["occurrence"] for r in rows]

    async def set_dm_error(
        self, guild_id: int, event_id: int, occurrence: int, user_id: int, error: str | None
    ) -> None:
        async with self._db.write() as db:
            await db.execute(
                "UPDATE attendees SET dm_error = ? "
                "WHERE guild_id = ? AND event_id = ? AND occurrence = ? AND user_id = ?",
                (error, guild_id, event_id, occurrence, user_id),
            )
