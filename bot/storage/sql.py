"""The repositories, written once in the SQL that SQLite and PostgreSQL share.

A backend (sqlite.py, postgres.py) supplies a `Database`: transactions, placeholders, and the few
things the two do differently (taking a lock for a read-modify-write, skipping rows another process
has claimed, telling other processes something changed). Instants are stored as UTC epoch seconds and
flags as 0/1 integers on both, so every row maps to the domain the same way.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import secrets
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import TYPE_CHECKING, Any, Protocol

from bot.domain.colors import Color
from bot.domain.errors import Conflict, InvalidField, NotFound
from bot.domain.models import Calendar, Event, GuildSettings, OccurrenceChange, UserSettings
from bot.domain.occurrences import Occurrence, Slot, occurrence_at, remap, slots
from bot.domain.recurrence import parse_rrule
from bot.domain.reminders import PlannedReminder, Reminder
from bot.domain.rsvp import ONE_OFF, WAITLISTED, Attendee, Change, promotions, respond

if TYPE_CHECKING:
    from bot.domain.shards import Shards

Clock = Callable[[], datetime]
Row = Mapping[str, Any]
Params = Mapping[str, Any] | Sequence[Any]

# What other processes are told through Database.notify (PostgreSQL's LISTEN/NOTIFY).
REMINDERS_CHANNEL = "reminders"  # payload: the earliest due time written, epoch seconds
SYNC_CHANNEL = "sync"  # payload: the guild whose event waits in event_sync

_NO_LIMIT = 2**62  # LIMIT for "all": SQLite spells it -1 and PostgreSQL ALL; a huge number reads the same on both
_MAX_ID = 2**63 - 1  # ids are signed 64-bit on both backends; binding a larger int fails


class IntegrityError(Exception):
    """A constraint refused a write (unique name, foreign key); each backend raises it for its driver's error."""


class Connection(Protocol):
    """One connection inside `Database.read()` or `write()`. Parameters are `?` positional or `:name` named."""

    async def execute(self, sql: str, params: Params = ()) -> int: ...  # rows changed
    async def one(self, sql: str, params: Params = ()) -> Row | None: ...
    async def all(self, sql: str, params: Params = ()) -> list[Row]: ...
    async def execute_many(self, sql: str, rows: list[Sequence[Any]]) -> None: ...

    async def serialize(self, *key: object) -> None:
        """Hold off other writers of `key` until this transaction ends (a read-modify-write: settings,
        a capped RSVP list). SQLite's writes are already one at a time."""

    async def notify(self, channel: str, payload: str) -> None:
        """Tell other processes, when this transaction commits."""

    async def continue_ids(self, tables: list[str]) -> None:
        """After rows were copied in with their ids: new rows of `tables` get ids after the highest."""


class Database(Protocol):
    # True when several processes share the database: claims left behind may belong to a live process.
    shared: bool
    # Appended to the claim's inner SELECT: PostgreSQL's FOR UPDATE SKIP LOCKED; SQLite needs none.
    skip_locked: str

    def read(self) -> AbstractAsyncContextManager[Connection]: ...
    def write(self) -> AbstractAsyncContextManager[Connection]: ...
    async def data_version(self) -> Any: ...


def lock_key(*key: object) -> int:
    """A signed 64-bit number for `key` (PostgreSQL's advisory locks take one)."""
    digest = hashlib.blake2b(repr(key).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def utc_now() -> datetime:
    """The stores' clock unless they are given one (tests move theirs by hand)."""
    return datetime.now(UTC)


def _ts(value: datetime | None) -> int | None:
    return None if value is None else int(value.timestamp())


def _dt(value: int | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


def _storable(row_id: int) -> bool:
    return -_MAX_ID <= row_id <= _MAX_ID


def _text_id(text: str) -> int | None:
    """The row id `text` spells ("12" or "#12"), else None. ASCII digits only: "²".isdigit() is true
    but int("²") fails; and a number past 64 bits names no row."""
    digits = text.strip().lstrip("#")
    if not (digits.isascii() and digits.isdigit()):
        return None
    value = int(digits)
    return value if _storable(value) else None


def _on(shards: Shards | None) -> str:
    """An SQL condition: the row's guild is on one of `shards` (always true for None)."""
    return "1 = 1" if shards is None else shards.sql_condition("guild_id")


def _claimable(shards: Shards | None) -> str:
    """An SQL condition: a pending reminder a process on `shards` can send: a channel post of one of its
    guilds, or a DM of any guild (any process can open a DM)."""
    return f"state = 'pending' AND (channel = 'discord_private' OR {_on(shards)})"


class SchemaTooNew(RuntimeError):
    """The database was migrated by a newer calbot than this one."""


def migrations(backend: str) -> list[tuple[int, str, str]]:
    """(version, file name, SQL) for every migration bundled for `backend` ("sqlite", "postgres"), in order."""
    folder = resources.files("bot.storage").joinpath(f"migrations/{backend}")
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            found.append((int(entry.name.split("_", 1)[0]), entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


class SqlStore:
    """The repositories over one Database; the backends add opening, migrating and closing."""

    def __init__(self, db: Database, clock: Clock) -> None:
        from .tokens import SqlApiTokens  # here: bot.storage.tokens imports this module's helpers

        self.database = db
        self.settings = SqlSettings(db, clock)
        self.users = SqlUsers(db, clock)
        self.sync = SqlEventSync(db, clock)
        self.calendars = SqlCalendars(db, clock)
        self.changes = SqlOccurrenceChanges(db, clock)
        self.events = SqlEvents(db, clock, self.changes)
        self.meta = SqlMeta(db)
        self.attendees = SqlAttendees(db, clock)
        self.reminders = SqlReminders(db, clock)
        self.tokens = SqlApiTokens(db, clock)


class SqlMeta:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, key: str) -> str | None:
        async with self._db.read() as db:
            row = await db.one("SELECT value FROM meta WHERE key = ?", (key,))
        return None if row is None else row["value"]

    async def set(self, key: str, value: str) -> None:
        async with self._db.write() as db:
            await db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )


def _guild_settings(row: Row) -> GuildSettings:
    return GuildSettings(
        guild_id=row["guild_id"],
        timezone=row["timezone"],
        manager_role_id=row["manager_role_id"],
        default_channel_id=row["default_channel_id"],
        default_reminders=tuple(json.loads(row["default_reminders"])),
        default_channels=tuple(json.loads(row["default_channels"])),
        date_order=row["date_order"],
        all_day_time=row["all_day_time"],
    )


class SqlSettings:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def get(self, guild_id: int) -> GuildSettings | None:
        async with self._db.read() as db:
            row = await db.one("SELECT * FROM guild_settings WHERE guild_id = ?", (guild_id,))
        return None if row is None else _guild_settings(row)

    async def save(self, settings: GuildSettings) -> GuildSettings:
        settings = settings.validated()
        async with self._db.write() as db:
            await self._write(db, settings)
        return settings

    async def change(self, defaults: GuildSettings, **changes: Any) -> GuildSettings:
        """Apply `changes` to the stored settings (or `defaults`) in one transaction, so two admins
        changing different settings at once both keep their change."""
        async with self._db.write() as db:
            await db.serialize("settings", defaults.guild_id)
            row = await db.one("SELECT * FROM guild_settings WHERE guild_id = ?", (defaults.guild_id,))
            current = defaults if row is None else _guild_settings(row)
            settings = dataclasses.replace(current, **changes).validated()
            await self._write(db, settings)
        return settings

    async def _write(self, db: Connection, settings: GuildSettings) -> None:
        await db.execute(
            """
            INSERT INTO guild_settings (guild_id, timezone, manager_role_id, default_channel_id,
                                        default_reminders, default_channels, date_order, all_day_time, updated_at)
            VALUES (:guild_id, :timezone, :manager_role_id, :default_channel_id,
                    :default_reminders, :default_channels, :date_order, :all_day_time, :updated_at)
            ON CONFLICT (guild_id) DO UPDATE SET
                timezone = excluded.timezone, manager_role_id = excluded.manager_role_id,
                default_channel_id = excluded.default_channel_id,
                default_reminders = excluded.default_reminders,
                default_channels = excluded.default_channels, date_order = excluded.date_order,
                all_day_time = excluded.all_day_time, updated_at = excluded.updated_at
            """,
            {
                "guild_id": settings.guild_id,
                "timezone": settings.timezone,
                "manager_role_id": settings.manager_role_id,
                "default_channel_id": settings.default_channel_id,
                "default_reminders": json.dumps(list(settings.default_reminders)),
                "default_channels": json.dumps(list(settings.default_channels)),
                "date_order": settings.date_order,
                "all_day_time": settings.all_day_time,
                "updated_at": _ts(self._clock()),
            },
        )


class SqlUsers:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def get(self, user_id: int) -> UserSettings | None:
        async with self._db.read() as db:
            row = await db.one("SELECT * FROM user_settings WHERE user_id = ?", (user_id,))
        return None if row is None else UserSettings(user_id=row["user_id"], timezone=row["timezone"])

    async def save(self, settings: UserSettings) -> UserSettings:
        settings = settings.validated()
        async with self._db.write() as db:
            await db.execute(
                "INSERT INTO user_settings (user_id, timezone, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (user_id) DO UPDATE SET timezone = excluded.timezone, updated_at = excluded.updated_at",
                (settings.user_id, settings.timezone, _ts(self._clock())),
            )
        return settings

    async def clear(self, user_id: int) -> None:
        async with self._db.write() as db:
            await db.execute("DELETE FROM user_settings WHERE user_id = ?", (user_id,))


def _calendar(row: Row) -> Calendar:
    return Calendar(
        id=row["id"],
        guild_id=row["guild_id"],
        name=row["name"],
        description=row["description"],
        color=Color[row["color"]],
        channel_id=row["channel_id"],
        ping_role_id=row["ping_role_id"],
        created_at=_dt(row["created_at"]),
        updated_at=_dt(row["updated_at"]),
    )


def _name_taken(calendar: Calendar) -> Conflict:
    return Conflict("name", f"this server already has a calendar named {calendar.name!r}")


class SqlCalendars:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def create(self, calendar: Calendar) -> Calendar:
        calendar = calendar.validated()
        now = _ts(self._clock())
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
        except IntegrityError:
            raise _name_taken(calendar) from None
        return _calendar(row)

    async def get(self, guild_id: int, calendar_id: int) -> Calendar:
        if not _storable(calendar_id):
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
            if row is None and (calendar_id := _text_id(text)) is not None:
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
                        _ts(self._clock()),
                        calendar.guild_id,
                        calendar.id,
                    ),
                )
        except IntegrityError:
            raise _name_taken(calendar) from None
        if row is None:
            raise NotFound("calendar", calendar.id)
        return _calendar(row)

    async def delete(self, guild_id: int, calendar_id: int) -> list[Event]:
        """Delete the calendar and its events in one transaction; return the events deleted."""
        async with self._db.write() as db:
            scope = (guild_id, calendar_id)
            events = await db.all("SELECT * FROM events WHERE guild_id = ? AND calendar_id = ?", scope)
            await db.execute("DELETE FROM events WHERE guild_id = ? AND calendar_id = ?", scope)
            if await db.execute("DELETE FROM calendars WHERE guild_id = ? AND id = ?", scope) == 0:
                raise NotFound("calendar", calendar_id)
        return [_event(r) for r in events]

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


_EVENT_COLUMNS = (
    "guild_id",
    "calendar_id",
    "name",
    "description",
    "content",
    "location",
    "url",
    "author_id",
    "all_day",
    "starts",
    "ends",
    "timezone",
    "repeats",
    "registration_enabled",
    "registration_deadline",
    "notifications_enabled",
    "notifications_interval",
    "notifications_channels",
    "color",
    "image",
    "capacity",
    "recurrence",
    "card_channel_id",
    "card_message_id",
)


def _event_params(event: Event) -> dict[str, Any]:
    params = {name: getattr(event, name) for name in _EVENT_COLUMNS}
    params.update(
        starts=_ts(event.starts),
        ends=_ts(event.ends),
        registration_deadline=_ts(event.registration_deadline),
        notifications_interval=json.dumps(list(event.notifications_interval)),
        notifications_channels=json.dumps(list(event.notifications_channels)),
        color=event.color.name,
        recurrence=event.recurrence and event.recurrence.rrule_text(),
        all_day=int(event.all_day),
        repeats=int(event.repeats),
        registration_enabled=int(event.registration_enabled),
        notifications_enabled=int(event.notifications_enabled),
    )
    return params


def _event(row: Row) -> Event:
    return Event(
        id=row["id"],
        guild_id=row["guild_id"],
        calendar_id=row["calendar_id"],
        name=row["name"],
        description=row["description"],
        content=row["content"],
        location=row["location"],
        url=row["url"],
        author_id=row["author_id"],
        all_day=bool(row["all_day"]),
        starts=_dt(row["starts"]),
        ends=_dt(row["ends"]),
        timezone=row["timezone"],
        repeats=bool(row["repeats"]),
        registration_enabled=bool(row["registration_enabled"]),
        registration_deadline=_dt(row["registration_deadline"]),
        notifications_enabled=bool(row["notifications_enabled"]),
        notifications_interval=tuple(json.loads(row["notifications_interval"])),
        notifications_channels=tuple(json.loads(row["notifications_channels"])),
        color=Color[row["color"]],
        image=row["image"],
        capacity=row["capacity"],
        recurrence=parse_rrule(row["recurrence"]) if row["recurrence"] else None,
        card_channel_id=row["card_channel_id"],
        card_message_id=row["card_message_id"],
        created_at=_dt(row["created_at"]),
        updated_at=_dt(row["updated_at"]),
    )


class SqlEvents:
    def __init__(self, db: Database, clock: Clock, changes: SqlOccurrenceChanges) -> None:
        self._db = db
        self._clock = clock
        self._changes = changes

    async def create(self, event: Event) -> Event:
        event = event.validated()
        params = _event_params(event)
        params["created_at"] = params["updated_at"] = _ts(self._clock())
        columns = (*_EVENT_COLUMNS, "created_at", "updated_at")
        try:
            async with self._db.write() as db:
                row = await db.one(
                    f"INSERT INTO events ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)}) "
                    "RETURNING *",
                    params,
                )
        except IntegrityError:  # the (guild, calendar) foreign key
            raise NotFound("calendar", event.calendar_id) from None
        return _event(row)

    async def get(self, guild_id: int, event_id: int) -> Event:
        if not _storable(event_id):
            raise NotFound("event", event_id)
        async with self._db.read() as db:
            row = await db.one("SELECT * FROM events WHERE guild_id = ? AND id = ?", (guild_id, event_id))
        if row is None:
            raise NotFound("event", event_id)
        return _event(row)

    async def update(self, event: Event) -> Event:
        event = event.validated()
        params = _event_params(event)
        params.update(updated_at=_ts(self._clock()), id=event.id)
        # The card's place is written only by set_card: an edit that read the event before its card was
        # posted must not erase it.
        unchanged = ("guild_id", "card_channel_id", "card_message_id")
        assignments = ", ".join(f"{c} = :{c}" for c in (*_EVENT_COLUMNS, "updated_at") if c not in unchanged)
        try:
            async with self._db.write() as db:
                row = await db.one(
                    f"UPDATE events SET {assignments} WHERE guild_id = :guild_id AND id = :id RETURNING *",
                    params,
                )
        except IntegrityError:
            raise NotFound("calendar", event.calendar_id) from None
        if row is None:
            raise NotFound("event", event.id)
        return _event(row)

    async def split(self, head: Event, tail: Event, from_key: int) -> tuple[Event, Event]:
        """ "This and following": shorten the series to `head`, start `tail` as a new event, and move the
        answers and occurrence changes from `from_key` on to it; all in one transaction."""
        head, tail = head.validated(), tail.validated()
        now = _ts(self._clock())
        params = _event_params(tail) | {"created_at": now, "updated_at": now}
        columns = (*_EVENT_COLUMNS, "created_at", "updated_at")
        async with self._db.write() as db:
            await db.serialize("answers", head.id)
            updated = await db.one(
                "UPDATE events SET recurrence = ?, updated_at = ? WHERE guild_id = ? AND id = ? RETURNING *",
                (head.recurrence.rrule_text(), now, head.guild_id, head.id),
            )
            if updated is None:
                raise NotFound("event", head.id)
            created = await db.one(
                f"INSERT INTO events ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)}) RETURNING *",
                params,
            )
            for table in ("attendees", "occurrence_changes"):
                await db.execute(
                    f"UPDATE {table} SET event_id = ? WHERE guild_id = ? AND event_id = ? AND occurrence >= ?",
                    (created["id"], head.guild_id, head.id, from_key),
                )
        return _event(updated), _event(created)

    async def rekey(self, guild_id: int, old: Event, new: Event) -> int:
        """A series' timing changed: move its answers and one-occurrence changes to the keys the same
        occurrences have now (see domain remap), in one transaction. Returns how many keys moved."""
        async with self._db.write() as db:
            await db.serialize("answers", new.id)
            rows = await db.all(
                "SELECT occurrence FROM attendees WHERE guild_id = :g AND event_id = :e "
                "UNION SELECT occurrence FROM occurrence_changes WHERE guild_id = :g AND event_id = :e",
                {"g": guild_id, "e": new.id},
            )
            mapping = remap(old, new, [r["occurrence"] for r in rows])
            for table in ("attendees", "occurrence_changes"):
                # Through negative keys first, so a key moving onto one that moves away never collides.
                for before, after in mapping.items():
                    await db.execute(
                        f"UPDATE {table} SET occurrence = ? WHERE guild_id = ? AND event_id = ? AND occurrence = ?",
                        (-after, guild_id, new.id, before),
                    )
                await db.execute(
                    f"UPDATE {table} SET occurrence = -occurrence "
                    "WHERE guild_id = ? AND event_id = ? AND occurrence < 0",
                    (guild_id, new.id),
                )
        return len(mapping)

    async def delete(self, guild_id: int, event_id: int) -> Event:
        if not _storable(event_id):
            raise NotFound("event", event_id)
        async with self._db.write() as db:
            row = await db.one("DELETE FROM events WHERE guild_id = ? AND id = ? RETURNING *", (guild_id, event_id))
        if row is None:
            raise NotFound("event", event_id)
        return _event(row)

    async def set_card(self, guild_id: int, event_id: int, channel_id: int, message_id: int) -> None:
        async with self._db.write() as db:
            await db.execute(
                "UPDATE events SET card_channel_id = ?, card_message_id = ? WHERE guild_id = ? AND id = ?",
                (channel_id, message_id, guild_id, event_id),
            )

    async def _page(
        self, where: str, params: dict[str, Any], limit: int | None, offset: int
    ) -> tuple[list[Event], int]:
        async with self._db.read() as db:
            rows = await db.all(
                f"SELECT * FROM events WHERE {where} ORDER BY starts, id LIMIT :limit OFFSET :offset",
                {**params, "limit": _NO_LIMIT if limit is None else limit, "offset": offset},
            )
            total = (await db.one(f"SELECT count(*) FROM events WHERE {where}", params))[0]
        return [_event(r) for r in rows], total

    @staticmethod
    def _scope(guild_id: int, calendar_id: int | None) -> tuple[str, dict[str, Any]]:
        if calendar_id is None:
            return "guild_id = :guild_id", {"guild_id": guild_id}
        return "guild_id = :guild_id AND calendar_id = :calendar_id", {"guild_id": guild_id, "calendar_id": calendar_id}

    async def between(
        self,
        guild_id: int,
        start: datetime,
        end: datetime,
        *,
        calendar_id: int | None = None,
        limit: int | None = 25,
        offset: int = 0,
    ) -> tuple[list[Event], int]:
        """One-off events overlapping [start, end): starting inside it, or started before and still running.
        `limit` None: all of them."""
        scope, params = self._scope(guild_id, calendar_id)
        where = f"{scope} AND recurrence IS NULL AND starts < :end AND (starts >= :start OR ends > :start)"
        return await self._page(where, {**params, "start": _ts(start), "end": _ts(end)}, limit, offset)

    async def upcoming(
        self,
        guild_id: int,
        now: datetime,
        *,
        calendar_id: int | None = None,
        limit: int | None = 25,
        offset: int = 0,
    ) -> tuple[list[Event], int]:
        """One-off events not over yet: starting from now, or running now."""
        scope, params = self._scope(guild_id, calendar_id)
        where = f"{scope} AND recurrence IS NULL AND (starts >= :now OR ends > :now)"
        return await self._page(where, {**params, "now": _ts(now)}, limit, offset)

    async def series(self, guild_id: int, before: datetime, *, calendar_id: int | None = None) -> list[Event]:
        """Recurring events whose first occurrence is before `before` (their rule says what falls in a window)."""
        scope, params = self._scope(guild_id, calendar_id)
        async with self._db.read() as db:
            rows = await db.all(
                f"SELECT * FROM events WHERE {scope} AND recurrence IS NOT NULL AND starts < :before ORDER BY id",
                {**params, "before": _ts(before)},
            )
        return [_event(r) for r in rows]

    async def occurrence_slots(
        self, guild_id: int, start: datetime, end: datetime, *, calendar_id: int | None = None
    ) -> list[Slot]:
        """Every occurrence overlapping [start, end), one-off or of a series (moves and cancellations
        applied), as (start, end, event id, key) in epoch seconds, in order. Only the columns that say
        when are read, so a month of a big guild is cheap to count and page through."""
        scope, params = self._scope(guild_id, calendar_id)
        params |= {"start": _ts(start), "end": _ts(end)}
        async with self._db.read() as db:
            one_offs = await db.all(
                f"SELECT id, starts, ends FROM events WHERE {scope} AND recurrence IS NULL "
                "AND starts < :end AND (starts >= :start OR ends > :start)",
                params,
            )
            series_rows = await db.all(
                f"SELECT id, starts, ends, timezone, recurrence FROM events WHERE {scope} "
                "AND recurrence IS NOT NULL AND starts < :end",
                params,
            )
        found: list[Slot] = [(r["starts"], r["ends"], r["id"], ONE_OFF) for r in one_offs]
        changes = await self._changes.for_events(guild_id, [r["id"] for r in series_rows])
        for row in series_rows:
            # Only what says when: this Event exists to be expanded here and goes no further.
            timing = Event(
                guild_id=guild_id, calendar_id=0, name="", id=row["id"], starts=_dt(row["starts"]),
                ends=_dt(row["ends"]), timezone=row["timezone"], recurrence=parse_rrule(row["recurrence"]),
            )  # fmt: skip
            found.extend(slots(timing, changes[row["id"]], after=start, before=end))
        found.sort()
        return found

    async def occurrences(
        self, guild_id: int, start: datetime, end: datetime, *, calendar_id: int | None = None
    ) -> list[Occurrence]:
        """The occurrences of `occurrence_slots`, as Occurrence objects."""
        return await self.materialise(
            guild_id, await self.occurrence_slots(guild_id, start, end, calendar_id=calendar_id)
        )

    async def materialise(self, guild_id: int, wanted: list[Slot]) -> list[Occurrence]:
        """Occurrence objects for slots (a page of a list), in the same order."""
        ids = sorted({event_id for _s, _e, event_id, _k in wanted})
        if not ids:
            return []
        async with self._db.read() as db:
            rows = await db.all(
                f"SELECT * FROM events WHERE guild_id = ? AND id IN ({','.join('?' * len(ids))})", (guild_id, *ids)
            )
        events = {r["id"]: _event(r) for r in rows}
        changes = await self._changes.for_events(guild_id, [i for i, e in events.items() if e.recurrence is not None])
        found = []
        for _starts, _ends, event_id, key in wanted:
            event = events.get(event_id)  # deleted since the list was counted: left out
            if event is None:
                continue
            if key == ONE_OFF:
                found.append(Occurrence.of(event))
            elif (occurrence := occurrence_at(event, changes[event_id], datetime.fromtimestamp(key, UTC))) is not None:
                found.append(occurrence)
        return found

    async def occurrence(self, guild_id: int, event_id: int, key: int) -> Occurrence:
        """One occurrence by its key (0 for a one-off event), its change applied; cancelled ones too."""
        event = await self.get(guild_id, event_id)
        if event.recurrence is None:
            if key != ONE_OFF:
                raise NotFound("occurrence", key)
            return Occurrence.of(event)
        original = datetime.fromtimestamp(key, UTC)
        changes = (await self._changes.for_events(guild_id, [event_id]))[event_id]
        found = occurrence_at(event, changes, original)
        if found is None:
            raise NotFound("occurrence", original.strftime("%Y-%m-%d %H:%M UTC"))
        return found

    async def all_series(self, *, shards: Shards | None = None) -> list[Event]:
        """Every recurring event of every guild (on `shards`): the reminder horizon is extended for each."""
        async with self._db.read() as db:
            rows = await db.all(f"SELECT * FROM events WHERE recurrence IS NOT NULL AND {_on(shards)} ORDER BY id")
        return [_event(r) for r in rows]

    async def find(self, guild_id: int, ref: str, now: datetime) -> Event:
        """The event `ref` names: its exact name (any case), else its id ("12", "#12"), else the one
        event whose name contains it. Several matches → InvalidField asking to pick one."""
        text = ref.strip()
        if text.startswith("#") and (event_id := _text_id(text)) is not None:
            return await self.get(guild_id, event_id)  # what autocomplete sends: an id, never a name
        async with self._db.read() as db:
            rows = await db.all(
                "SELECT * FROM events WHERE guild_id = ? AND lower(name) = lower(?) LIMIT 2", (guild_id, text)
            )
        if len(rows) == 1:
            return _event(rows[0])
        several = InvalidField("event", f"{text[:60]!r} matches several events; pick one from the list")
        if rows:
            raise several
        if (event_id := _text_id(text)) is not None:
            try:
                return await self.get(guild_id, event_id)
            except NotFound:
                pass
        matches = await self.search(guild_id, text, now, limit=2)
        if len(matches) > 1:
            raise several
        if not matches:
            raise NotFound("event", text[:60])
        return matches[0]

    async def search(self, guild_id: int, text: str, now: datetime, limit: int = 25) -> list[Event]:
        """Events whose name contains `text` (or whose id is `text`): upcoming soonest first, then past."""
        needle = text.strip().lstrip("#")
        escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        async with self._db.read() as db:
            rows = await db.all(
                """
                SELECT * FROM events
                WHERE guild_id = :guild_id AND (lower(name) LIKE lower(:pattern) ESCAPE '\\' OR id = :id)
                ORDER BY coalesce(ends, starts) < :now,
                         CASE WHEN coalesce(ends, starts) < :now THEN -starts ELSE starts END
                LIMIT :limit
                """,
                {
                    "guild_id": guild_id,
                    "pattern": f"%{escaped}%",
                    "id": _text_id(needle) or -1,
                    "now": _ts(now),
                    "limit": limit,
                },
            )
        return [_event(r) for r in rows]

    # ---- several events in one transaction (the HTTP API's batches: all are written or none)

    async def page(
        self, guild_id: int, *, calendar_id: int | None = None, limit: int | None = 25, offset: int = 0
    ) -> tuple[list[Event], int]:
        """Every event of the guild (one-off and series), by start; and how many there are."""
        scope, params = self._scope(guild_id, calendar_id)
        return await self._page(scope, params, limit, offset)

    async def create_many(self, events: list[Event], *, sync: bool = False) -> list[Event]:
        """Create `events` in one transaction. A calendar missing from its guild raises NotFound and stores
        nothing. With `sync`, each is queued for the bot (as `store.sync.push` does) in the same
        transaction, so no crash can leave an event without its card and reminders."""
        events = [e.validated() for e in events]
        now = _ts(self._clock())
        columns = (*_EVENT_COLUMNS, "created_at", "updated_at")
        insert = f"INSERT INTO events ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)}) RETURNING *"
        created = []
        async with self._db.write() as db:
            for event in events:
                try:
                    row = await db.one(insert, _event_params(event) | {"created_at": now, "updated_at": now})
                except IntegrityError:  # the (guild, calendar) foreign key
                    raise NotFound("calendar", event.calendar_id) from None
                created.append(_event(row))
                if sync:
                    await _queue_sync(db, event.guild_id, created[-1].id, None, now)
        return created

    async def update_many(self, events: list[Event], *, sync: bool = False) -> list[Event]:
        """Update `events` (each of its own guild) in one transaction: one missing event or calendar raises
        NotFound and changes nothing. The card's place is kept, as in `update`."""
        events = [e.validated() for e in events]
        now = _ts(self._clock())
        unchanged = ("guild_id", "card_channel_id", "card_message_id")
        assignments = ", ".join(f"{c} = :{c}" for c in (*_EVENT_COLUMNS, "updated_at") if c not in unchanged)
        statement = f"UPDATE events SET {assignments} WHERE guild_id = :guild_id AND id = :id RETURNING *"
        updated = []
        async with self._db.write() as db:
            for event in events:
                if event.id is None or not _storable(event.id):
                    raise NotFound("event", event.id)
                try:
                    row = await db.one(statement, _event_params(event) | {"updated_at": now, "id": event.id})
                except IntegrityError:
                    raise NotFound("calendar", event.calendar_id) from None
                if row is None:
                    raise NotFound("event", event.id)
                updated.append(_event(row))
                if sync:
                    await _queue_sync(db, event.guild_id, event.id, None, now)
        return updated

    async def delete_many(self, guild_id: int, event_ids: list[int], *, sync: bool = False) -> list[Event]:
        """Delete the guild's events `event_ids` in one transaction; one missing id raises NotFound and
        deletes nothing. With `sync`, each deleted event is queued for the bot with its last state."""
        now = _ts(self._clock())
        deleted = []
        async with self._db.write() as db:
            for event_id in event_ids:
                if not _storable(event_id):
                    raise NotFound("event", event_id)
                row = await db.one("DELETE FROM events WHERE guild_id = ? AND id = ? RETURNING *", (guild_id, event_id))
                if row is None:
                    raise NotFound("event", event_id)
                deleted.append(_event(row))
                if sync:
                    await _queue_sync(db, guild_id, event_id, deleted[-1], now)
        return deleted


async def _queue_sync(db: Connection, guild_id: int, event_id: int, deleted: Event | None, now: int) -> None:
    """Queue an event for the bot inside the caller's transaction, and wake the bot that serves its guild."""
    snapshot = None
    if deleted is not None:
        snapshot = json.dumps(
            {
                **_event_params(deleted),
                "id": deleted.id,
                "created_at": _ts(deleted.created_at),
                "updated_at": _ts(deleted.updated_at),
            }
        )
    await db.execute(
        "INSERT INTO event_sync (guild_id, event_id, deleted, created_at) VALUES (?, ?, ?, ?)",
        (guild_id, event_id, snapshot, now),
    )
    await db.notify(SYNC_CHANNEL, str(guild_id))


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
            now = _ts(self._clock())
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


def _reminder(row: Row) -> Reminder:
    return Reminder(
        id=row["id"],
        guild_id=row["guild_id"],
        event_id=row["event_id"],
        occurrence_start=_dt(row["occurrence_start"]),
        interval=row["interval"],
        channel=row["channel"],
        target=row["target"],
        occurrence=row["occurrence"],
        scheduled_for=_dt(row["scheduled_for"]),
        due=_dt(row["due"]),
        state=row["state"],
        attempts=row["attempts"],
        late=bool(row["late"]),
        last_error=row["last_error"],
        message_id=row["message_id"],
        updated_at=_dt(row["updated_at"]),
    )


class SqlReminders:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def schedule(
        self,
        guild_id: int,
        event_id: int,
        planned: list[PlannedReminder],
        keep: set[tuple[datetime, str, str]] | None = None,
    ) -> datetime | None:
        """Add `planned` (moved ones take their new due time) and cancel the event's pending reminders whose
        (occurrence start, interval, channel) is in neither `planned` nor `keep`: `keep` names reminders
        still valid but not planned again, such as one due a moment ago and not yet sent. Sent, failed and
        missed ones are history and stay. Returns the earliest due time now pending for the event."""
        now = _ts(self._clock())
        keys = {(_ts(start), interval, channel) for start, interval, channel in (keep or set())}
        keys |= {(_ts(p.occurrence_start), p.interval, p.channel) for p in planned}
        async with self._db.write() as db:
            pending = await db.all(
                "SELECT id, occurrence_start, interval, channel FROM reminders "
                "WHERE guild_id = ? AND event_id = ? AND state = 'pending' AND target = 0",
                (guild_id, event_id),
            )
            for row in pending:
                if (row["occurrence_start"], row["interval"], row["channel"]) not in keys:
                    await db.execute(
                        "UPDATE reminders SET state = 'cancelled', updated_at = ? WHERE id = ?",
                        (now, row["id"]),
                    )
            for p in planned:
                await db.execute(
                    """
                    INSERT INTO reminders (guild_id, event_id, occurrence, occurrence_start, interval, channel,
                                           target, scheduled_for, due, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?)
                    ON CONFLICT (event_id, occurrence_start, interval, channel, target) DO UPDATE SET
                        state = 'pending', scheduled_for = excluded.scheduled_for, due = excluded.due,
                        attempts = 0, last_error = NULL, occurrence = excluded.occurrence,
                        updated_at = excluded.updated_at
                    -- moved (still pending), or cancelled once and planned again: sent ones stay history
                    WHERE (reminders.state = 'pending' AND reminders.scheduled_for != excluded.scheduled_for)
                       OR reminders.state = 'cancelled'
                    """,
                    (
                        guild_id,
                        event_id,
                        p.occurrence,
                        _ts(p.occurrence_start),
                        p.interval,
                        p.channel,
                        _ts(p.due),
                        _ts(p.due),
                        now,
                        now,
                    ),
                )
            row = await db.one(
                "SELECT min(due) FROM reminders WHERE guild_id = ? AND event_id = ? AND state = 'pending'",
                (guild_id, event_id),
            )
            if planned:
                await db.notify(REMINDERS_CHANNEL, str(min(_ts(p.due) for p in planned)))
        return _dt(row[0])

    async def cancel_event(self, guild_id: int, event_id: int) -> int:
        async with self._db.write() as db:
            return await db.execute(
                "UPDATE reminders SET state = 'cancelled', updated_at = ? "
                "WHERE guild_id = ? AND event_id = ? AND state = 'pending'",
                (_ts(self._clock()), guild_id, event_id),
            )

    async def claim(
        self, now: datetime, worker: str, lease: timedelta, limit: int, *, shards: Shards | None = None
    ) -> list[Reminder]:
        """Claim up to `limit` due reminders for `worker` until `now + lease`. With `shards`, only those a
        process on them can send: its guilds' channel posts, and DMs of any guild. Rows another process is
        claiming at this moment are skipped, not waited for (PostgreSQL), so dispatchers never queue up."""
        async with self._db.write() as db:
            rows = await db.all(
                f"""
                UPDATE reminders
                SET state = 'claimed', claimed_by = :worker, lease_until = :lease_until,
                    attempts = attempts + 1, updated_at = :now
                WHERE id IN (
                    SELECT id FROM reminders
                    WHERE {_claimable(shards)} AND due <= :now
                    ORDER BY due LIMIT :limit {self._db.skip_locked}
                )
                RETURNING *
                """,
                {"worker": worker, "lease_until": _ts(now + lease), "now": _ts(now), "limit": limit},
            )
        return sorted((_reminder(r) for r in rows), key=lambda r: (r.due, r.id))

    async def release_expired(self, now: datetime) -> int:
        """Claims whose lease ran out (their worker died or hung) go back to pending."""
        return await self._release(now, "AND lease_until < :now")

    async def recover(self, now: datetime) -> int:
        """At start-up. A SQLite file serves one bot process, so every claim left is from a run that ended:
        release them all now rather than waiting for their leases. A shared database's claims may be
        another live process's: only expired ones go."""
        return await self.release_expired(now) if self._db.shared else await self._release(now)

    async def _release(self, now: datetime, condition: str = "") -> int:
        async with self._db.write() as db:
            return await db.execute(
                "UPDATE reminders SET state = 'pending', claimed_by = NULL, lease_until = NULL, updated_at = :now "
                f"WHERE state = 'claimed' {condition}",
                {"now": _ts(now)},
            )

    async def finish(
        self,
        reminder_id: int,
        worker: str,
        state: str,
        *,
        error: str | None = None,
        message_id: int | None = None,
        late: bool = False,
    ) -> bool:
        async with self._db.write() as db:
            changed = await db.execute(
                """
                UPDATE reminders SET state = ?, last_error = ?, message_id = ?, late = ?, lease_until = NULL,
                                     updated_at = ?
                WHERE id = ? AND state = 'claimed' AND claimed_by = ?
                """,
                (state, error, message_id, int(late), _ts(self._clock()), reminder_id, worker),
            )
        return changed == 1

    async def retry(self, reminder_id: int, worker: str, due: datetime, error: str) -> bool:
        async with self._db.write() as db:
            changed = await db.execute(
                """
                UPDATE reminders SET state = 'pending', due = ?, last_error = ?, claimed_by = NULL,
                                     lease_until = NULL, updated_at = ?
                WHERE id = ? AND state = 'claimed' AND claimed_by = ?
                """,
                (_ts(due), error, _ts(self._clock()), reminder_id, worker),
            )
        return changed == 1

    async def fan_out(self, parent: Reminder, worker: str, user_ids: list[int]) -> int:
        """Turn a due DM reminder into one pending row per recipient, in one transaction with marking it
        done, so a crash cannot lose or double the recipients. Returns how many rows were added."""
        now = _ts(self._clock())
        async with self._db.write() as db:
            # One executemany, not a statement per recipient: each statement is a round trip while the
            # transaction is open, so a fan-out to 5,000 members held it for 5,000 of them.
            delivery = (parent.event_id, _ts(parent.occurrence_start), parent.interval)
            counted = (
                "SELECT count(*) FROM reminders WHERE event_id = ? AND occurrence_start = ? AND interval = ? "
                "AND channel = 'discord_private' AND target != 0"
            )
            before = (await db.one(counted, delivery))[0]
            await db.execute_many(
                """
                INSERT INTO reminders (guild_id, event_id, occurrence, occurrence_start, interval, channel, target,
                                       scheduled_for, due, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, 'discord_private', ?, ?, ?, ?, ?)
                ON CONFLICT (event_id, occurrence_start, interval, channel, target) DO NOTHING
                """,
                [(parent.guild_id, parent.event_id, parent.occurrence, _ts(parent.occurrence_start), parent.interval,
                  user_id, _ts(parent.scheduled_for), _ts(parent.due), now, now) for user_id in user_ids],
            )  # fmt: skip
            added = (await db.one(counted, delivery))[0] - before
            await db.execute(
                "UPDATE reminders SET state = 'sent', last_error = ?, lease_until = NULL, updated_at = ? "
                "WHERE id = ? AND state = 'claimed' AND claimed_by = ?",
                (f"sent as {len(user_ids)} DM(s)", now, parent.id, worker),
            )
            if added:
                await db.notify(REMINDERS_CHANNEL, str(_ts(parent.due)))
        return added

    async def next_due(self, *, shards: Shards | None = None) -> datetime | None:
        """When the next reminder `claim` would return with these `shards` falls due."""
        async with self._db.read() as db:
            row = await db.one(f"SELECT min(due) FROM reminders WHERE {_claimable(shards)}")
        return _dt(row[0])

    async def recent(self, guild_id: int, limit: int = 25) -> list[Reminder]:
        """The guild's latest finished reminders, newest first."""
        async with self._db.read() as db:
            rows = await db.all(
                "SELECT * FROM reminders WHERE guild_id = ? AND state IN ('sent', 'failed', 'missed') "
                "ORDER BY updated_at DESC, id DESC LIMIT ?",
                (guild_id, limit),
            )
        return [_reminder(r) for r in rows]

    async def for_event(self, guild_id: int, event_id: int) -> list[Reminder]:
        async with self._db.read() as db:
            rows = await db.all(
                "SELECT * FROM reminders WHERE guild_id = ? AND event_id = ? ORDER BY due, id", (guild_id, event_id)
            )
        return [_reminder(r) for r in rows]


def _change(row: Row) -> OccurrenceChange:
    return OccurrenceChange(
        guild_id=row["guild_id"],
        event_id=row["event_id"],
        occurrence=_dt(row["occurrence"]),
        cancelled=bool(row["cancelled"]),
        starts=_dt(row["starts"]),
        ends=_dt(row["ends"]),
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
                (change.guild_id, change.event_id, _ts(change.occurrence), int(change.cancelled), _ts(change.starts),
                 _ts(change.ends), change.name, change.description, change.location, _ts(self._clock())),
            )  # fmt: skip
        return change


class SqlEventSync:
    """Events written outside the bot, waiting for the bot to post their cards and schedule reminders."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def push(self, guild_id: int, event_id: int, deleted: Event | None = None) -> None:
        async with self._db.write() as db:
            await _queue_sync(db, guild_id, event_id, deleted, _ts(self._clock()))

    async def take(self, limit: int = 100, *, shards: Shards | None = None) -> list[tuple[int, int, int, Event | None]]:
        """The oldest waiting entries (of `shards`' guilds): (entry id, guild id, event id, the deleted event
        or None)."""
        async with self._db.read() as db:
            rows = await db.all(f"SELECT * FROM event_sync WHERE {_on(shards)} ORDER BY id LIMIT ?", (limit,))
        return [
            (r["id"], r["guild_id"], r["event_id"], _event(json.loads(r["deleted"])) if r["deleted"] else None)
            for r in rows
        ]

    async def done(self, entry_ids: list[int]) -> None:
        if not entry_ids:
            return
        async with self._db.write() as db:
            await db.execute(f"DELETE FROM event_sync WHERE id IN ({','.join('?' * len(entry_ids))})", tuple(entry_ids))
