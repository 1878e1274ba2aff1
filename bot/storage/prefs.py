"""Members' own private reminders (rules: bot/domain/reminders.py, `ReminderPrefs` and `private_slots`)."""

from __future__ import annotations

from bot.domain.reminders import ReminderPrefs
from bot.domain.rsvp import REMINDED

from .database import Clock, Database, Row, epoch

_CHUNK = 500  # members per statement, whatever the attendance
_REMINDED = ", ".join(f"'{status}'" for status in REMINDED)


def _codes(text: str | None) -> tuple[str, ...] | None:
    return None if text is None else tuple(text.split())


def _prefs(row: Row) -> ReminderPrefs:
    intervals, channels = _codes(row["intervals"]), _codes(row["channels"])
    return ReminderPrefs(user_id=row["user_id"], intervals=intervals, channels=channels, off=bool(row["off"]))


class SqlReminderPrefs:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def get(self, user_id: int) -> ReminderPrefs | None:
        async with self._db.read() as db:
            row = await db.one("SELECT * FROM reminder_prefs WHERE user_id = ?", (user_id,))
        return None if row is None else _prefs(row)

    async def save(self, prefs: ReminderPrefs) -> ReminderPrefs:
        joined = [None if codes is None else " ".join(codes) for codes in (prefs.intervals, prefs.channels)]
        async with self._db.write() as db:
            row = await db.one(
                """
                INSERT INTO reminder_prefs (user_id, intervals, channels, off, updated_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (user_id) DO UPDATE SET intervals = excluded.intervals, channels = excluded.channels,
                                                   off = excluded.off, updated_at = excluded.updated_at
                RETURNING *
                """,
                (prefs.user_id, *joined, int(prefs.off), epoch(self._clock())),
            )
        return _prefs(row)

    async def clear(self, user_id: int) -> bool:
        async with self._db.write() as db:
            return await db.execute("DELETE FROM reminder_prefs WHERE user_id = ?", (user_id,)) == 1

    async def of(self, user_ids: list[int]) -> dict[int, ReminderPrefs]:
        """The preferences of those of these members who have any."""
        found: dict[int, ReminderPrefs] = {}
        async with self._db.read() as db:
            for start in range(0, len(user_ids), _CHUNK):
                chunk = user_ids[start : start + _CHUNK]
                rows = await db.all(
                    f"SELECT * FROM reminder_prefs WHERE user_id IN ({', '.join('?' * len(chunk))})", tuple(chunk)
                )
                found.update((row["user_id"], _prefs(row)) for row in rows)
        return found

    async def attending(self, guild_id: int, event_id: int) -> list[ReminderPrefs]:
        """The preferences of the members going or maybe to any occurrence of the event who have any."""
        async with self._db.read() as db:
            rows = await db.all(
                "SELECT DISTINCT p.* FROM attendees a JOIN reminder_prefs p ON p.user_id = a.user_id "
                f"WHERE a.guild_id = ? AND a.event_id = ? AND a.status IN ({_REMINDED}) ORDER BY p.user_id",
                (guild_id, event_id),
            )
        return [_prefs(row) for row in rows]

    async def events_of(self, user_id: int) -> list[tuple[int, int]]:
        """(guild, event) of every event the member answers going or maybe to that is a series or still to end:
        the events whose reminders their preferences change."""
        now = epoch(self._clock())
        async with self._db.read() as db:
            rows = await db.all(
                "SELECT DISTINCT e.guild_id, e.id FROM attendees a JOIN events e ON e.id = a.event_id "
                f"WHERE a.user_id = ? AND a.status IN ({_REMINDED}) "
                "AND (e.recurrence IS NOT NULL OR coalesce(e.ends, e.starts) >= ?) ORDER BY e.guild_id, e.id",
                (user_id, now),
            )
        return [(row["guild_id"], row["id"]) for row in rows]
