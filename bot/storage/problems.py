"""Work a background task could not do for one event, kept where the guild's managers see it (/notifications).

The series-card roller, the reminder horizon, the event_sync drain and reminder dispatch each work through
the rows of every guild; a row that raises (a rule stored before validation refused it, an end millennia
away) is logged and skipped, and recorded here so it does not fail in silence. One row per (guild, event,
what): a failure seen again bumps its count and last-seen time and keeps the first-seen one; the row goes
when that work succeeds for the event again, or with the event (ON DELETE CASCADE).

The error kept is one line of words, bounded, with no traceback: managers read it, and anything shaped
like a secret (a URL's path and query, a token, a password) is masked first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from .database import NO_LIMIT, Clock, Database, IntegrityError, Row, epoch, instant, on_shards, storable

if TYPE_CHECKING:
    from bot.domain.shards import Shards

# What failed (the `what` column; its CHECK constraint lists the same).
SERIES_CARD = "series card"  # moving a series' card on to its next occurrence
REMINDERS = "reminders"  # planning an event's reminders
FOLLOW_UP = "follow-up"  # the Discord-side step after a write: reminders, card, DMs (the event_sync drain)
DELIVERY = "delivery"  # handling one of its reminders when it fell due
EVENTS_TAB = "events tab"  # mirroring it into Discord's Events tab (bot/exts/native.py)
WHAT = (SERIES_CARD, REMINDERS, FOLLOW_UP, DELIVERY, EVENTS_TAB)

ERROR_MAX = 200  # characters of the error kept


@dataclass(frozen=True, slots=True)
class Problem:
    guild_id: int
    event_id: int
    what: str  # one of WHAT
    error: str  # one line, at most ERROR_MAX characters
    first_seen: datetime
    last_seen: datetime
    count: int  # how many times it failed since first_seen
    event_name: str | None = None  # the event's stored name (read without the rest of its row)


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A stored event row that cannot be mapped to an Event (say a rule stored before validation refused
    it): `EventRepository.all_series` leaves it out and reports it here."""

    guild_id: int
    event_id: int
    error: Exception
    has_card: bool  # whether the row names a card message


_SECRETS = (
    # a URL keeps its scheme and host: its user info, path and query may hold a password or a webhook token
    (re.compile(r"\b([a-z][a-z0-9+.-]*://)(?:[^/\s@]*@)?([^/\s?#:]+)[^\s]*", re.IGNORECASE), r"\1\2/…"),
    (re.compile(r"\bcbt_\d+_\S+"), "cbt_***"),  # our API tokens
    (re.compile(r"\b[\w-]{23,28}\.[\w-]{6,7}\.[\w-]{27,}"), "***"),  # a Discord bot token
    (re.compile(r"\b(password|passwd|pwd|secret|token|authorization)\b(\s*[=:]\s*)\S+", re.IGNORECASE), r"\1\2***"),
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def describe(error: BaseException | str) -> str:
    """An error as a manager may read it: `Type: message` (the message alone for a plain string), first
    non-empty line only, secrets masked, control characters dropped, at most ERROR_MAX characters."""
    if isinstance(error, BaseException):
        message = next((line.strip() for line in str(error).splitlines() if line.strip()), "")
        text = f"{type(error).__name__}: {message}" if message else type(error).__name__
    else:
        text = next((line.strip() for line in error.splitlines() if line.strip()), "") or "unknown error"
    text = _CONTROL.sub("", text)
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text if len(text) <= ERROR_MAX else text[: ERROR_MAX - 1] + "…"


def _problem(row: Row) -> Problem:
    return Problem(
        guild_id=row["guild_id"],
        event_id=row["event_id"],
        what=row["what"],
        error=row["error"],
        first_seen=instant(row["first_seen"]),
        last_seen=instant(row["last_seen"]),
        count=row["count"],
        event_name=row["name"],
    )


class SqlProblems:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def record(self, guild_id: int, event_id: int, what: str, error: BaseException | str) -> bool:
        """Record that `what` failed for the event (again): the error is kept as `describe` gives it.
        Returns False, recording nothing, when the event is not stored (deleted meanwhile)."""
        if what not in WHAT:
            raise ValueError(f"unknown problem kind {what!r}")
        if not storable(event_id):
            return False
        now = epoch(self._clock())
        try:
            async with self._db.write() as db:
                if await db.one("SELECT 1 FROM events WHERE guild_id = ? AND id = ?", (guild_id, event_id)) is None:
                    return False
                await db.execute(
                    """
                    INSERT INTO problems (guild_id, event_id, what, error, first_seen, last_seen, count)
                    VALUES (?, ?, ?, ?, ?, ?, 1)
                    ON CONFLICT (guild_id, event_id, what) DO UPDATE SET
                        error = excluded.error, last_seen = excluded.last_seen, count = problems.count + 1
                    """,
                    (guild_id, event_id, what, describe(error), now, now),
                )
        except IntegrityError:  # the event was deleted between the check and the insert (PostgreSQL)
            return False
        return True

    async def clear(self, guild_id: int, event_id: int, *what: str) -> bool:
        """The work `what` (none named: all of it) succeeded for the event. Returns whether something was
        recorded. Reads before it writes: clearing what was never recorded, the common case, takes no lock."""
        if not storable(event_id):
            return False
        scope, params = "guild_id = ? AND event_id = ?", (guild_id, event_id)
        if what:
            scope, params = f"{scope} AND what IN ({', '.join('?' * len(what))})", (*params, *what)
        async with self._db.read() as db:
            if await db.one(f"SELECT 1 FROM problems WHERE {scope}", params) is None:
                return False
        async with self._db.write() as db:
            return await db.execute(f"DELETE FROM problems WHERE {scope}", params) > 0

    async def for_guild(self, guild_id: int, limit: int | None = None) -> list[Problem]:
        """The guild's problems, the most recently seen first, each with its event's stored name."""
        async with self._db.read() as db:
            rows = await db.all(
                "SELECT p.*, e.name FROM problems p JOIN events e ON e.id = p.event_id AND e.guild_id = p.guild_id "
                "WHERE p.guild_id = ? ORDER BY p.last_seen DESC, p.event_id, p.what LIMIT ?",
                (guild_id, NO_LIMIT if limit is None else limit),
            )
        return [_problem(r) for r in rows]

    async def events_with(self, what: str, *, shards: Shards | None = None) -> set[tuple[int, int]]:
        """(guild, event) of every problem of kind `what` (of `shards`' guilds): a job running over many
        events reads these once a pass and clears only where something was recorded."""
        async with self._db.read() as db:
            rows = await db.all(
                f"SELECT guild_id, event_id FROM problems WHERE what = ? AND {on_shards(shards)}", (what,)
            )
        return {(r["guild_id"], r["event_id"]) for r in rows}
