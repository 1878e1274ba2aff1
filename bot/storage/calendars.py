"""Calendars, and the secret of each one's ICS feed address."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from bot.domain.colors import Color
from bot.domain.errors import Conflict, NotFound
from bot.domain.models import Calendar, Event

from .database import (
    Clock,
    Connection,
    Database,
    IntegrityError,
    Row,
    epoch,
    instant,
    storable,
    text_id,
)
from .events import event_from_row, queue_sync
from .native import mark_guild

if TYPE_CHECKING:
    pass


def _calendar(row: Row) -> Calendar:
    return Calendar(
        id=row["id"],
        guild_id=row["guild_id"],
        name=row["name"],
        description=row["description"],
        color=Color[row["color"]],
        channel_id=row["channel_id"],
        ping_role_id=row["ping_role_id"],
        discord_events=bool(row["discord_events"]),
        created_at=instant(row["created_at"]),
        updated_at=instant(row["updated_at"]),
    )


def _name_taken(calendar: Calendar) -> Conflict:
    return Conflict("name", f"this server already has a calendar named {calendar.name!r}")


async def _mirror(db: Connection, row: Row, mirrored: bool, now: int) -> Row | None:
    """Turn the calendar's mirroring into Discord's Events tab on or off; a change asks for a pass over the
    guild (bot/storage/native.py) in the same transaction. Returns the row as changed, if it changed."""
    if bool(row["discord_events"]) == mirrored:
        return None
    changed = await db.one(
        "UPDATE calendars SET discord_events = ? WHERE id = ? RETURNING *", (int(mirrored), row["id"])
    )
    await mark_guild(db, row["guild_id"], now)
    return changed


class SqlCalendars:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def create(self, calendar: Calendar) -> Calendar:
        calendar = calendar.validated()
        now = epoch(self._clock())
        try:
            async with self._db.write() as db:
                row = await db.one(
                    """
                    INSERT INTO calendars (guild_id, name, description, color, channel_id, ping_role_id,
                                           created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *
                    """,
                    (
                        calendar.guild_id,
                        calendar.name,
                        calendar.description,
                        calendar.color.name,
                        calendar.channel_id,
                        calendar.ping_role_id,
                        now,
                        now,
                    ),
                )
                row = await _mirror(db, row, calendar.discord_events, now) or row
        except IntegrityError:
            raise _name_taken(calendar) from None
        return _calendar(row)

    async def get(self, guild_id: int, calendar_id: int) -> Calendar:
        if not storable(calendar_id):
            raise NotFound("calendar", calendar_id)
        async with self._db.read() as db:
            row = await db.one("SELECT * FROM calendars WHERE guild_id = ? AND id = ?", (guild_id, calendar_id))
        if row is None:
            raise NotFound("calendar", calendar_id)
        return _calendar(row)

    async def find(self, guild_id: int, ref: str) -> Calendar:
        """By name (any case), else by id."""
        text = ref.strip()
        async with self._db.read() as db:
            row = await db.one(
                "SELECT * FROM calendars WHERE guild_id = ? AND lower(name) = lower(?)", (guild_id, text)
            )
            if row is None and (calendar_id := text_id(text)) is not None:
                row = await db.one("SELECT * FROM calendars WHERE guild_id = ? AND id = ?", (guild_id, calendar_id))
        if row is None:
            raise NotFound("calendar", ref)
        return _calendar(row)

    async def list(self, guild_id: int) -> list[Calendar]:
        async with self._db.read() as db:
            rows = await db.all("SELECT * FROM calendars WHERE guild_id = ? ORDER BY lower(name), id", (guild_id,))
        return [_calendar(r) for r in rows]

    async def update(self, calendar: Calendar) -> Calendar:
        calendar = calendar.validated()
        try:
            async with self._db.write() as db:
                row = await db.one(
                    """
                    UPDATE calendars SET name = ?, description = ?, color = ?, channel_id = ?, ping_role_id = ?,
                                         updated_at = ?
                    WHERE guild_id = ? AND id = ? RETURNING *
                    """,
                    (
                        calendar.name,
                        calendar.description,
                        calendar.color.name,
                        calendar.channel_id,
                        calendar.ping_role_id,
                        epoch(self._clock()),
                        calendar.guild_id,
                        calendar.id,
                    ),
                )
                if row is not None:
                    row = await _mirror(db, row, calendar.discord_events, epoch(self._clock())) or row
        except IntegrityError:
            raise _name_taken(calendar) from None
        if row is None:
            raise NotFound("calendar", calendar.id)
        return _calendar(row)

    async def delete(self, guild_id: int, calendar_id: int) -> list[Event]:
        """Delete the calendar and its events in one transaction, each event queued for the bot with its
        last state (its card is marked cancelled, its reminders cancelled); return the events deleted."""
        now = epoch(self._clock())
        async with self._db.write() as db:
            scope = (guild_id, calendar_id)
            rows = await db.all("SELECT * FROM events WHERE guild_id = ? AND calendar_id = ? ORDER BY id", scope)
            await db.execute("DELETE FROM events WHERE guild_id = ? AND calendar_id = ?", scope)
            if await db.execute("DELETE FROM calendars WHERE guild_id = ? AND id = ?", scope) == 0:
                raise NotFound("calendar", calendar_id)
            events = [event_from_row(r) for r in rows]
            for event in events:
                await queue_sync(db, guild_id, event.id, event, now)
        return events

    async def count_events(self, guild_id: int, calendar_id: int) -> int:
        async with self._db.read() as db:
            row = await db.one(
                "SELECT count(*) FROM events WHERE guild_id = ? AND calendar_id = ?", (guild_id, calendar_id)
            )
        return row[0]

    async def get_or_create(self, guild_id: int, name: str) -> Calendar:
        try:
            return await self.find(guild_id, name)
        except NotFound:
            pass
        try:
            return await self.create(Calendar(guild_id=guild_id, name=name))
        except Conflict:  # created meanwhile by another command
            return await self.find(guild_id, name)

    async def feed_secret(self, guild_id: int, calendar_id: int, *, reset: bool = False) -> str:
        """The secret of the calendar's ICS feed address: made on first use, replaced when `reset`."""
        async with self._db.write() as db:
            await db.serialize("calendar", calendar_id)
            row = await db.one(
                "SELECT feed_secret FROM calendars WHERE guild_id = ? AND id = ?", (guild_id, calendar_id)
            )
            if row is None:
                raise NotFound("calendar", calendar_id)
            if row["feed_secret"] and not reset:
                return row["feed_secret"]
            secret = secrets.token_urlsafe(32)
            await db.execute(
                "UPDATE calendars SET feed_secret = ? WHERE guild_id = ? AND id = ?",
                (secret, guild_id, calendar_id),
            )
        return secret

    async def by_feed_secret(self, secret: str) -> Calendar:
        """The calendar whose feed address carries `secret`: the only lookup not scoped by guild, as the
        secret (256 random bits) is the credential."""
        async with self._db.read() as db:
            row = await db.one("SELECT * FROM calendars WHERE feed_secret = ?", (secret,))
        if row is None:
            raise NotFound("calendar feed", "")
        return _calendar(row)
