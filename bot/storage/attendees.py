"""RSVPs: who answered what to each occurrence, decided by the domain's rules inside one transaction."""

from __future__ import annotations

from collections.abc import Callable

from bot.domain.errors import NotFound
from bot.domain.rsvp import WAITLISTED, Attendee, Change, promotions, respond

from .database import Clock, Connection, Database, Row, epoch

Decide = Callable[[list[Attendee]], list[Change]]


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


async def decide_answers(
    db: Connection, guild_id: int, event_id: int, occurrence: int, decide: Decide, now: int
) -> list[Change]:
    """Inside the caller's transaction (holding the event's "answers" lock): read one occurrence's
    attendees, let the domain decide, write its changes."""
    scope = (guild_id, event_id, occurrence)
    rows = await db.all("SELECT * FROM attendees WHERE guild_id = ? AND event_id = ? AND occurrence = ?", scope)
    changes = decide([_attendee(r) for r in rows])
    seq = max((r["seq"] for r in rows), default=0)
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


async def promote_waiting(
    db: Connection, guild_id: int, event_id: int, capacity: int | None, now: int
) -> dict[int, list[int]]:
    """Inside the caller's transaction: let every waitlist of the event in as far as `capacity` allows,
    longest-waiting first. Returns the members promoted, by occurrence key."""
    rows = await db.all(
        "SELECT DISTINCT occurrence FROM attendees WHERE guild_id = ? AND event_id = ? AND status = ? "
        "ORDER BY occurrence",
        (guild_id, event_id, WAITLISTED),
    )
    promoted = {}
    for row in rows:
        key = row["occurrence"]
        changes = await decide_answers(db, guild_id, event_id, key, lambda a: promotions(a, capacity), now)
        if changes:
            promoted[key] = [c.user_id for c in changes]
    return promoted


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

    async def respond(
        self, guild_id: int, event_id: int, occurrence: int, user_id: int, wanted: str, capacity: int | None
    ) -> list[Change]:
        """Record one member's answer; a place it frees goes to the waitlist's first, in the same transaction."""
        async with self._db.write() as db:
            # One answer at a time per event, or two members could both take the last place.
            await db.serialize("answers", event_id)
            if await db.one("SELECT 1 FROM events WHERE guild_id = ? AND id = ?", (guild_id, event_id)) is None:
                raise NotFound("event", event_id)
            decide: Decide = lambda rows: respond(rows, user_id, wanted, capacity)  # noqa: E731
            return await decide_answers(db, guild_id, event_id, occurrence, decide, epoch(self._clock()))

    async def withdraw(self, guild_id: int, event_id: int, occurrence: int, user_id: int, status: str) -> bool:
        """Remove the member's answer if it is still `status` (an Interested taken back in Discord's Events
        tab removes the maybe it gave, never an answer given since). Returns whether one was removed."""
        async with self._db.write() as db:
            await db.serialize("answers", event_id)
            removed = await db.execute(
                "DELETE FROM attendees WHERE guild_id = ? AND event_id = ? AND occurrence = ? AND user_id = ? "
                "AND status = ?",
                (guild_id, event_id, occurrence, user_id, status),
            )
        return removed > 0

    async def set_dm_error(
        self, guild_id: int, event_id: int, occurrence: int, user_id: int, error: str | None
    ) -> None:
        async with self._db.write() as db:
            await db.execute(
                "UPDATE attendees SET dm_error = ? "
                "WHERE guild_id = ? AND event_id = ? AND occurrence = ? AND user_id = ?",
                (error, guild_id, event_id, occurrence, user_id),
            )
