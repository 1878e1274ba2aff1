"""Discord's Events tab: which guilds mirror into it, their mirror work as a durable queue, and which guild
scheduled event stands for which calbot event (bot/domain/native.py says what is mirrored, bot/exts/native.py
does it).

The queue is one row per guild, claimed with a lease like the reminder outbox: `mark` asks for a pass (every
write of an event of a mirroring guild does, through the follow-up step), `claim` hands due guilds to a worker
until its lease runs out, and `finish`, `retry` or `refuse` end the pass. A mark made while a pass runs is kept
(`marked` counts them), so a change is never folded into a pass that had already read the guild.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from bot.domain.errors import Conflict, NotFound
from bot.domain.models import Event
from bot.domain.native import WINDOW_DAYS, window_days

from .database import Clock, Connection, Database, IntegrityError, Row, epoch, instant, on_shards
from .events import INSERT, event_from_row, event_params, queue_sync

if TYPE_CHECKING:
    from bot.domain.shards import Shards

NATIVE_CHANNEL = "native"  # notified with the guild id when a pass is asked for (PostgreSQL only)


@dataclass(frozen=True, slots=True)
class NativeSettings:
    guild_id: int
    import_calendar_id: int | None = None  # events made in the tab become events of this calendar
    window_days: int = WINDOW_DAYS
    refused: str | None = None  # why Discord refused the last pass (no Manage Events), until the next change
    left_out: dict[int, int] = field(default_factory=dict)  # calendar id → events the 100 cap left out


@dataclass(frozen=True, slots=True)
class Claim:
    guild_id: int
    marked: int  # the guild's mark count when claimed
    attempts: int


@dataclass(frozen=True, slots=True)
class NativeLink:
    native_id: int
    guild_id: int
    event_id: int
    key: int  # the occurrence it mirrors; 0: the whole event or series
    imported: bool  # made in the tab by a member: calbot does not write it
    cover: str | None = None  # the image address calbot last sent as its cover
    seen: str | None = None  # imported: Native.fingerprint() when calbot and the tab last agreed


def _settings(guild_id: int, row: Row | None) -> NativeSettings:
    if row is None:
        return NativeSettings(guild_id)
    return NativeSettings(
        guild_id=guild_id,
        import_calendar_id=row["import_calendar_id"],
        window_days=row["window_days"],
        refused=row["refused"],
        left_out={int(k): v for k, v in json.loads(row["left_out"]).items()},
    )


def _link(row: Row) -> NativeLink:
    return NativeLink(
        native_id=row["native_id"],
        guild_id=row["guild_id"],
        event_id=row["event_id"],
        key=row["occurrence"],
        imported=bool(row["imported"]),
        cover=row["cover"],
        seen=row["seen"],
    )


async def mark_guild(db: Connection, guild_id: int, now: int) -> None:
    await db.execute(
        "INSERT INTO native_guilds (guild_id, due_at, marked) VALUES (?, ?, 1) ON CONFLICT (guild_id) DO UPDATE "
        "SET due_at = ?, marked = native_guilds.marked + 1, refused = NULL",
        (guild_id, now, now),
    )
    await db.notify(NATIVE_CHANNEL, str(guild_id))  # another process (the API's) wakes the bot's worker


class SqlNative:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    # ---- settings

    async def settings(self, guild_id: int) -> NativeSettings:
        async with self._db.read() as db:
            row = await db.one("SELECT * FROM native_guilds WHERE guild_id = ?", (guild_id,))
        return _settings(guild_id, row)

    async def configure(self, guild_id: int, *, import_calendar_id: int | None, window: int | None) -> NativeSettings:
        """Set where tab events are imported to (None: nowhere) and, if given, the look-ahead window; a pass
        follows."""
        if window is not None:
            window_days(window)
        async with self._db.write() as db:
            await mark_guild(db, guild_id, epoch(self._clock()))
            await db.execute(
                "UPDATE native_guilds SET import_calendar_id = ?, window_days = COALESCE(?, window_days) "
                "WHERE guild_id = ?",
                (import_calendar_id, window, guild_id),
            )
            row = await db.one("SELECT * FROM native_guilds WHERE guild_id = ?", (guild_id,))
        return _settings(guild_id, row)

    # ---- the queue

    async def mark(self, guild_id: int, *, only_known: bool = False) -> bool:
        """Ask for a pass over the guild now. `only_known`: only if the guild mirrors or imports (has a row),
        read first so a guild that never did takes no write. Returns whether a pass was asked for."""
        if only_known:
            async with self._db.read() as db:
                if await db.one("SELECT 1 FROM native_guilds WHERE guild_id = ?", (guild_id,)) is None:
                    return False
        async with self._db.write() as db:
            await mark_guild(db, guild_id, epoch(self._clock()))
        return True

    async def mark_all(self, *, shards: Shards | None = None) -> int:
        """At start-up: ask for a pass over every guild that mirrors or imports, so what a crash left is
        found. A SQLite file serves one bot process, so its leases are from a run that ended and go now; a
        shared database's may be another live process's, and run out."""
        lease = "" if self._db.shared else ", lease_until = NULL"
        async with self._db.write() as db:
            return await db.execute(
                f"UPDATE native_guilds SET due_at = ?, marked = marked + 1{lease} "
                f"WHERE refused IS NULL AND {on_shards(shards)}",
                (epoch(self._clock()),),
            )

    async def claim(self, lease_seconds: int, limit: int = 10, *, shards: Shards | None = None) -> list[Claim]:
        """Guilds due for a pass, each leased to the caller for `lease_seconds`."""
        now = epoch(self._clock())
        free = "due_at <= ? AND (lease_until IS NULL OR lease_until <= ?)"
        async with self._db.write() as db:
            rows = await db.all(
                f"UPDATE native_guilds SET lease_until = ? WHERE guild_id IN (SELECT guild_id FROM native_guilds "
                f"WHERE {free} AND {on_shards(shards)} ORDER BY due_at LIMIT ?) AND {free} "
                "RETURNING guild_id, marked, attempts",
                (now + lease_seconds, now, now, limit, now, now),
            )
        return [Claim(r["guild_id"], r["marked"], r["attempts"]) for r in rows]

    async def finish(self, claim: Claim, following: datetime | None, left_out: dict[int, int]) -> None:
        """The pass succeeded: the next one is due at `following` (None: only when asked), or at once when
        the guild was marked meanwhile."""
        async with self._db.write() as db:
            await db.execute(
                "UPDATE native_guilds SET lease_until = NULL, attempts = 0, last_error = NULL, left_out = ?, "
                "due_at = CASE WHEN marked = ? THEN ? ELSE due_at END WHERE guild_id = ?",
                (json.dumps(left_out), claim.marked, epoch(following), claim.guild_id),
            )

    async def retry(self, claim: Claim, at: datetime, error: str) -> None:
        """The pass failed (Discord down, rate limited): try again at `at`, or at once if marked meanwhile."""
        async with self._db.write() as db:
            await db.execute(
                "UPDATE native_guilds SET lease_until = NULL, attempts = attempts + 1, last_error = ?, "
                "due_at = CASE WHEN marked = ? THEN ? ELSE due_at END WHERE guild_id = ?",
                (error, claim.marked, epoch(at), claim.guild_id),
            )

    async def refuse(self, claim: Claim, reason: str) -> None:
        """Discord refused (403): no pass until the next change asks for one."""
        async with self._db.write() as db:
            await db.execute(
                "UPDATE native_guilds SET lease_until = NULL, attempts = 0, last_error = ?, refused = ?, "
                "due_at = CASE WHEN marked = ? THEN NULL ELSE due_at END WHERE guild_id = ?",
                (reason, reason, claim.marked, claim.guild_id),
            )

    async def next_due(self, *, shards: Shards | None = None) -> datetime | None:
        """When the next pass may be claimed: its due time, or a running pass's lease end."""
        async with self._db.read() as db:
            row = await db.one(
                "SELECT min(CASE WHEN lease_until > due_at THEN lease_until ELSE due_at END) AS due "
                f"FROM native_guilds WHERE due_at IS NOT NULL AND {on_shards(shards)}",
                (),
            )
        return instant(row["due"]) if row is not None else None

    async def guilds(self, *, shards: Shards | None = None) -> list[int]:
        """Every guild that mirrors or imports."""
        async with self._db.read() as db:
            rows = await db.all(f"SELECT guild_id FROM native_guilds WHERE {on_shards(shards)} ORDER BY guild_id", ())
        return [r["guild_id"] for r in rows]

    # ---- which scheduled event is which event

    async def links(self, guild_id: int) -> list[NativeLink]:
        async with self._db.read() as db:
            rows = await db.all("SELECT * FROM native_events WHERE guild_id = ? ORDER BY native_id", (guild_id,))
        return [_link(r) for r in rows]

    async def link_of(self, guild_id: int, native_id: int) -> NativeLink | None:
        async with self._db.read() as db:
            row = await db.one(
                "SELECT * FROM native_events WHERE guild_id = ? AND native_id = ?", (guild_id, native_id)
            )
        return None if row is None else _link(row)

    async def link(self, link: NativeLink) -> None:
        """Store (or move) which scheduled event stands for which event; the one that stood for it before
        goes."""
        async with self._db.write() as db:
            await db.execute(
                "DELETE FROM native_events WHERE native_id = ? OR (guild_id = ? AND event_id = ? AND occurrence = ?)",
                (link.native_id, link.guild_id, link.event_id, link.key),
            )
            await db.execute(
                "INSERT INTO native_events (native_id, guild_id, event_id, occurrence, imported, cover, seen) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (link.native_id, link.guild_id, link.event_id, link.key, int(link.imported), link.cover, link.seen),
            )

    async def saw(self, guild_id: int, native_id: int, fingerprint: str) -> None:
        """calbot and the tab agree on an imported scheduled event as it is now."""
        async with self._db.write() as db:
            await db.execute(
                "UPDATE native_events SET seen = ? WHERE guild_id = ? AND native_id = ?",
                (fingerprint, guild_id, native_id),
            )

    async def unlink(self, guild_id: int, native_id: int) -> None:
        async with self._db.write() as db:
            await db.execute("DELETE FROM native_events WHERE guild_id = ? AND native_id = ?", (guild_id, native_id))

    # ---- members whose Interested calbot recorded as their answer

    async def interested(self, native_id: int) -> set[int]:
        async with self._db.read() as db:
            rows = await db.all("SELECT user_id FROM native_interested WHERE native_id = ?", (native_id,))
        return {r["user_id"] for r in rows}

    async def set_interested(self, native_id: int, user_id: int, interested: bool) -> None:
        async with self._db.write() as db:
            if interested:
                await db.execute(
                    "INSERT INTO native_interested (native_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
                    (native_id, user_id),
                )
            else:
                await db.execute(
                    "DELETE FROM native_interested WHERE native_id = ? AND user_id = ?", (native_id, user_id)
                )

    async def import_event(self, event: Event, native_id: int, fingerprint: str) -> Event:
        """Create the event a member made in the tab, and remember which scheduled event it is, in one
        transaction: a crash cannot import it twice. Queued for the follow-up like every write."""
        event = event.validated()
        now = epoch(self._clock())
        async with self._db.write() as db:
            if await db.one("SELECT 1 FROM native_events WHERE native_id = ?", (native_id,)) is not None:
                raise Conflict("native_id", f"scheduled event {native_id} is already in calbot")
            try:
                row = await db.one(INSERT, event_params(event) | {"created_at": now, "updated_at": now})
            except IntegrityError:  # the (guild, calendar) foreign key
                raise NotFound("calendar", event.calendar_id) from None
            created = event_from_row(row)
            await queue_sync(db, created.guild_id, created.id, None, now)
            await db.execute(
                "INSERT INTO native_events (native_id, guild_id, event_id, occurrence, imported, seen) "
                "VALUES (?, ?, ?, 0, 1, ?)",
                (native_id, created.guild_id, created.id, fingerprint),
            )
        return created
