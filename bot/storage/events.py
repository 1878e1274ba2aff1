"""Events: one-off and series, their occurrences in a window, lookups by name, and the batches of the
HTTP API. Every write queues the event for the bot's Discord-side follow-up in the same transaction."""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import json
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bot.domain.colors import Color
from bot.domain.edits import timing
from bot.domain.errors import Conflict, InvalidField, NotFound
from bot.domain.models import LONGEST_EVENT, Event, OccurrenceChange
from bot.domain.occurrences import Occurrence, Slot, expand, occurrence_at, remap, slots
from bot.domain.recurrence import parse_rrule
from bot.domain.rsvp import ONE_OFF
from bot.domain.search import SEARCHED, Condition, EventQuery, Group

from .attendees import promote_waiting
from .database import (
    NO_LIMIT,
    Clock,
    Connection,
    Database,
    IntegrityError,
    Row,
    epoch,
    instant,
    on_shards,
    storable,
    text_id,
)
from .interface import SYNC_CHANNEL
from .problems import Unreadable

if TYPE_CHECKING:
    from bot.domain.shards import Shards

log = logging.getLogger(__name__)

EVENT_COLUMNS = (
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
    "anchor",
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
_INSERTED = (*EVENT_COLUMNS, "created_at", "updated_at")
INSERT = f"INSERT INTO events ({', '.join(_INSERTED)}) VALUES ({', '.join(':' + c for c in _INSERTED)}) RETURNING *"


def event_params(event: Event) -> dict[str, Any]:
    params = {name: getattr(event, name) for name in EVENT_COLUMNS}
    params.update(
        starts=epoch(event.starts),
        ends=epoch(event.ends),
        anchor=event.anchor and event.anchor.isoformat(),
        registration_deadline=epoch(event.registration_deadline),
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


def salvaged(row: Row) -> Event:
    """`event_from_row`; for a row whose stored rule cannot be read (written before validation refused it),
    the event without its rule: enough to delete it and mark its card cancelled."""
    try:
        return event_from_row(row)
    except Exception:
        return event_from_row({**row, "recurrence": None})


def event_from_row(row: Row) -> Event:
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
        starts=instant(row["starts"]),
        ends=instant(row["ends"]),
        timezone=row["timezone"],
        anchor=row["anchor"] and datetime.fromisoformat(row["anchor"]),
        repeats=bool(row["repeats"]),
        registration_enabled=bool(row["registration_enabled"]),
        registration_deadline=instant(row["registration_deadline"]),
        notifications_enabled=bool(row["notifications_enabled"]),
        notifications_interval=tuple(json.loads(row["notifications_interval"])),
        notifications_channels=tuple(json.loads(row["notifications_channels"])),
        color=Color[row["color"]],
        image=row["image"],
        capacity=row["capacity"],
        recurrence=parse_rrule(row["recurrence"]) if row["recurrence"] else None,
        card_channel_id=row["card_channel_id"],
        card_message_id=row["card_message_id"],
        created_at=instant(row["created_at"]),
        updated_at=instant(row["updated_at"]),
    )


# One-off events overlapping [:start, :end): starting in it, or started before and still running then. An event
# lasts at most LONGEST_EVENT, so the search of those still running reaches back no further.
_ONE_OFF_OVERLAPS = (
    "recurrence IS NULL AND starts >= :earliest AND starts < :end AND (starts >= :start OR ends > :start)"
)
# The same in two parts for lists, each a short range of an index that holds start and end (the rows are not
# read): those starting in the window, in the order shown; and those still running as it starts, which started
# at most a day before it, or (the few events longer than a day, indexed apart) at most LONGEST_EVENT before.
_ONE_OFFS_STARTING = "recurrence IS NULL AND starts >= :start AND starts < :end"
_ONE_OFFS_RUNNING = (
    "recurrence IS NULL AND starts >= :day_before AND starts < :start AND ends > :start AND ends - starts <= 86400"
)
_LONG_ONE_OFFS_RUNNING = (
    "recurrence IS NULL AND ends - starts > 86400 AND starts >= :earliest AND starts < :start AND ends > :start"
)


LONGEST_SECONDS = int(LONGEST_EVENT.total_seconds())


def _overlap(start: datetime, end: datetime) -> dict[str, int]:
    first = epoch(start)
    return {"start": first, "end": epoch(end), "day_before": first - 86400, "earliest": first - LONGEST_SECONDS}


def slot_order(slot: Slot) -> tuple:
    """Slots by start, then end (none first), event and key: the order the database's index gives one-offs."""
    starts, ends, event_id, key = slot
    return starts, ends is not None, ends or 0, event_id, key


class SqlEvents:
    def __init__(self, db: Database, clock: Clock, changes: SqlOccurrenceChanges) -> None:
        self._db = db
        self._clock = clock
        self._changes = changes

    async def create(self, event: Event) -> Event:
        return (await self.create_many([event]))[0]

    async def get(self, guild_id: int, event_id: int) -> Event:
        if not storable(event_id):
            raise NotFound("event", event_id)
        async with self._db.read() as db:
            row = await db.one("SELECT * FROM events WHERE guild_id = ? AND id = ?", (guild_id, event_id))
        if row is None:
            raise NotFound("event", event_id)
        return event_from_row(row)

    async def update(self, event: Event) -> Event:
        return (await self.update_many([event]))[0]

    async def split(self, head: Event, tail: Event, from_key: int, *, unedited: Event) -> tuple[Event, Event]:
        """ "This and following": shorten the series to `head` and start `tail` as a new event, in one
        transaction. The answers and occurrence changes from `from_key` on go to `tail`, and follow their
        occurrences there as in `update` (`unedited` is the new series as it was split off, before the
        edit made it `tail`)."""
        head, tail = head.validated(), tail.validated()
        now = epoch(self._clock())
        async with self._db.write() as db:
            await refuse_subscribed(db, head.guild_id, [head.id])
            await db.serialize("answers", head.id)
            updated = await db.one(
                "UPDATE events SET recurrence = ?, updated_at = ? WHERE guild_id = ? AND id = ? RETURNING *",
                (head.recurrence.rrule_text(), now, head.guild_id, head.id),
            )
            if updated is None:
                raise NotFound("event", head.id)
            created = event_from_row(await db.one(INSERT, event_params(tail) | {"created_at": now, "updated_at": now}))
            await db.serialize("answers", created.id)
            for table in ("attendees", "occurrence_changes"):
                await db.execute(
                    f"UPDATE {table} SET event_id = ? WHERE guild_id = ? AND event_id = ? AND occurrence >= ?",
                    (created.id, head.guild_id, head.id, from_key),
                )
            promoted = await _follow(db, dataclasses.replace(unedited, id=created.id), created, now)
            await queue_sync(db, head.guild_id, head.id, None, now)
            await queue_sync(db, created.guild_id, created.id, None, now, promoted)
        return event_from_row(updated), created

    async def delete(self, guild_id: int, event_id: int) -> Event:
        return (await self.delete_many(guild_id, [event_id]))[0]

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
                {**params, "limit": NO_LIMIT if limit is None else limit, "offset": offset},
            )
            total = (await db.one(f"SELECT count(*) FROM events WHERE {where}", params))[0]
        return [event_from_row(r) for r in rows], total

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
        return await self._page(f"{scope} AND {_ONE_OFF_OVERLAPS}", {**params, **_overlap(start, end)}, limit, offset)

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
        return await self._page(where, {**params, "now": epoch(now)}, limit, offset)

    async def series(self, guild_id: int, before: datetime, *, calendar_id: int | None = None) -> list[Event]:
        """Recurring events whose first occurrence is before `before` (their rule says what falls in a window)."""
        scope, params = self._scope(guild_id, calendar_id)
        async with self._db.read() as db:
            rows = await db.all(
                f"SELECT * FROM events WHERE {scope} AND recurrence IS NOT NULL AND starts < :before ORDER BY id",
                {**params, "before": epoch(before)},
            )
        return [event_from_row(r) for r in rows]

    async def occurrence_slots(
        self, guild_id: int, start: datetime, end: datetime, *, calendar_id: int | None = None
    ) -> list[Slot]:
        """Every occurrence overlapping [start, end), one-off or of a series (moves and cancellations
        applied), as (start, end, event id, key) in epoch seconds, in order. Only the columns that say
        when are read, so a month of a big guild is cheap to count and page through."""
        slots, _total = await self.occurrence_page(guild_id, start, end, calendar_id=calendar_id)
        return slots

    async def occurrence_page(
        self,
        guild_id: int,
        start: datetime,
        end: datetime,
        *,
        calendar_id: int | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> tuple[list[Slot], int]:
        """A page of `occurrence_slots` (`limit` None: all from `offset`) and how many there are in all.

        One-off events are counted and ordered by the database, which reads only the first offset + limit of
        them (from an index that holds their start and end): a guild of 250,000 events is not read into memory
        to show ten. A series' occurrences come from its rule, merged in order."""
        scope, params = self._scope(guild_id, calendar_id)
        params |= _overlap(start, end)
        wanted = None if limit is None else offset + limit
        order = "ORDER BY starts, ends NULLS FIRST, id"  # no end: as if it ended as it starts (`slot_order`)
        async with self._db.read() as db:
            running = await db.all(
                f"SELECT id, starts, ends FROM events WHERE {scope} AND {_ONE_OFFS_RUNNING} UNION ALL "
                f"SELECT id, starts, ends FROM events WHERE {scope} AND {_LONG_ONE_OFFS_RUNNING}",
                params,
            )
            starting = await db.all(
                f"SELECT id, starts, ends FROM events WHERE {scope} AND {_ONE_OFFS_STARTING} {order} LIMIT :limit",
                {**params, "limit": NO_LIMIT if wanted is None else wanted},
            )
            total = (
                len(running)
                + (await db.one(f"SELECT count(*) FROM events WHERE {scope} AND {_ONE_OFFS_STARTING}", params))[0]
            )
            series_rows = await db.all(
                f"SELECT id, starts, ends, timezone, anchor, recurrence FROM events WHERE {scope} "
                "AND recurrence IS NOT NULL AND starts < :end",
                params,
            )
        changes = await self._changes.for_events(guild_id, [r["id"] for r in series_rows])
        series: list[Slot] = []
        for row in series_rows:
            try:
                # Only what says when: this Event exists to be expanded here and goes no further.
                timing = Event(
                    guild_id=guild_id, calendar_id=0, name="", id=row["id"], starts=instant(row["starts"]),
                    ends=instant(row["ends"]), timezone=row["timezone"], recurrence=parse_rrule(row["recurrence"]),
                    anchor=row["anchor"] and datetime.fromisoformat(row["anchor"]),
                )  # fmt: skip
                series.extend(slots(timing, changes[row["id"]], after=start, before=end))
            except Exception as error:  # a rule stored before validation refused it: the rest of the list stands
                log.warning("Left series %s of guild %s out of a list: %s", row["id"], guild_id, error)
        series.sort(key=slot_order)
        one_offs = sorted(((r["starts"], r["ends"], r["id"], ONE_OFF) for r in running), key=slot_order)
        one_offs += [(r["starts"], r["ends"], r["id"], ONE_OFF) for r in starting]  # all start after those running
        merged = heapq.merge(one_offs, series, key=slot_order)
        return list(itertools.islice(merged, offset, wanted)), total + len(series)

    async def occurrences(
        self, guild_id: int, start: datetime, end: datetime, *, calendar_id: int | None = None
    ) -> list[Occurrence]:
        """The occurrences of `occurrence_slots`, as Occurrence objects."""
        return await self.materialise(
            guild_id, await self.occurrence_slots(guild_id, start, end, calendar_id=calendar_id)
        )

    async def cancelled(
        self, guild_id: int, start: datetime, end: datetime, *, calendar_id: int | None = None
    ) -> list[Occurrence]:
        """The cancelled occurrences of series overlapping [start, end), which `occurrences` leaves out: a
        calendar view shows them struck through."""
        series = await self.series(guild_id, end, calendar_id=calendar_id)
        changes = await self._changes.for_events(guild_id, [e.id for e in series])
        found = []
        for event in series:
            if not any(c.cancelled for c in changes[event.id]):
                continue
            try:
                window = expand(event, changes[event.id], after=start, before=end, include_cancelled=True)
            except Exception as error:  # as in occurrence_slots: one unreadable rule leaves the rest standing
                log.warning("Left series %s of guild %s out of a view: %s", event.id, guild_id, error)
                continue
            found.extend(o for o in window if o.cancelled)
        return found

    async def materialise(self, guild_id: int, wanted: list[Slot]) -> list[Occurrence]:
        """Occurrence objects for slots (a page of a list), in the same order."""
        ids = sorted({event_id for _s, _e, event_id, _k in wanted})
        if not ids:
            return []
        async with self._db.read() as db:
            rows = await db.all(
                # `+guild_id` keeps SQLite's planner off the guild's indexes (a scan of the whole guild, which it
                # prefers without statistics) and on the primary key; it means the same on PostgreSQL.
                f"SELECT * FROM events WHERE +guild_id = ? AND id IN ({','.join('?' * len(ids))})",
                (guild_id, *ids),
            )
        events = {r["id"]: event_from_row(r) for r in rows}
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

    async def all_series(
        self, *, shards: Shards | None = None, unreadable: list[Unreadable] | None = None
    ) -> list[Event]:
        """Every recurring event of every guild (on `shards`): the reminder horizon is extended for each.
        Given `unreadable`, a row that cannot be read (a rule stored before validation refused it) is left
        out and added there, so one guild's bad row stops no other's work; without it, it raises."""
        async with self._db.read() as db:
            rows = await db.all(
                f"SELECT * FROM events WHERE recurrence IS NOT NULL AND {on_shards(shards)} ORDER BY id"
            )
        if unreadable is None:
            return [event_from_row(r) for r in rows]
        found = []
        for row in rows:
            try:
                found.append(event_from_row(row))
            except Exception as error:
                unreadable.append(Unreadable(row["guild_id"], row["id"], error, row["card_message_id"] is not None))
        return found

    async def find(self, guild_id: int, ref: str, now: datetime) -> Event:
        """The event `ref` names: its exact name (any case), else its id ("12", "#12"), else the one
        event whose name contains it. Several matches → InvalidField asking to pick one."""
        text = ref.strip()
        if text.startswith("#") and (event_id := text_id(text)) is not None:
            return await self.get(guild_id, event_id)  # what autocomplete sends: an id, never a name
        async with self._db.read() as db:
            rows = await db.all(
                "SELECT * FROM events WHERE guild_id = ? AND lower(name) = lower(?) LIMIT 2", (guild_id, text)
            )
        if len(rows) == 1:
            return event_from_row(rows[0])
        several = InvalidField("event", f"{text[:60]!r} matches several events; pick one from the list")
        if rows:
            raise several
        if (event_id := text_id(text)) is not None:
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
                    "id": text_id(needle) or -1,
                    "now": epoch(now),
                    "limit": limit,
                },
            )
        return [event_from_row(r) for r in rows]

    # ---- several events in one transaction (the HTTP API's batches: all are written or none)

    async def page(
        self, guild_id: int, *, calendar_id: int | None = None, limit: int | None = 25, offset: int = 0
    ) -> tuple[list[Event], int]:
        """Every event of the guild (one-off and series), by start; and how many there are."""
        scope, params = self._scope(guild_id, calendar_id)
        return await self._page(scope, params, limit, offset)

    async def query(
        self, guild_id: int, query: EventQuery, *, limit: int | None = 25, offset: int = 0
    ) -> tuple[list[Event], int]:
        """The guild's events that `query` matches, in its order (then by start and id); and how many match.
        Every field name in the SQL comes from the query's whitelist (bot/domain/search.py); every value is
        a parameter."""
        query = query.validated()
        params: dict[str, Any] = {"guild_id": guild_id}
        where = ["guild_id = :guild_id"]
        if query.filters:
            where.append(f"({_conditions(query.filters, params)})")
        if query.text:
            params["text"] = query.text
            # replace() finds a substring alike on both backends (LIKE folds case on SQLite, not PostgreSQL).
            found = (
                "replace({c}, :text, '') <> {c}" if query.case_sensitive
                else "replace(lower({c}), lower(:text), '') <> lower({c})"
            )  # fmt: skip
            where.append("(" + " OR ".join(found.format(c=column) for column in SEARCHED) + ")")
        # NULLs first going up and last going down, as MySQL (PERSCOM's database) orders them, on both backends.
        order = [
            f"({s.field} IS NULL), {s.field} DESC" if s.descending else f"({s.field} IS NOT NULL), {s.field}"
            for s in query.sorts
        ]
        async with self._db.read() as db:
            rows = await db.all(
                f"SELECT * FROM events WHERE {' AND '.join(where)} ORDER BY {', '.join([*order, 'starts', 'id'])} "
                "LIMIT :limit OFFSET :offset",
                {**params, "limit": NO_LIMIT if limit is None else limit, "offset": offset},
            )
            total = (await db.one(f"SELECT count(*) FROM events WHERE {' AND '.join(where)}", params))[0]
        return [event_from_row(r) for r in rows], total

    async def create_many(self, events: list[Event]) -> list[Event]:
        """Create `events` in one transaction, each queued for the bot's follow-up (card, reminders) in it
        too, so no crash can leave an event without them. A calendar missing from its guild raises NotFound
        and stores nothing."""
        events = [e.validated() for e in events]
        now = epoch(self._clock())
        async with self._db.write() as db:
            return [await insert_event(db, event, now) for event in events]

    async def update_many(self, events: list[Event]) -> list[Event]:
        """Update `events` (each of its own guild) in one transaction: one missing event or calendar raises
        NotFound and changes nothing. With each write, what must change with it: a series whose timing
        changed keeps every answer and one-occurrence change on its occurrence, and more room (a capacity
        raised or removed) lets the waitlists in, longest-waiting first. Each event is queued for the
        bot's follow-up, with the members promoted (they are told by DM). The card's place is written only
        by set_card: an edit that read the event before its card was posted must not erase it."""
        events = [e.validated() for e in events]
        now = epoch(self._clock())
        async with self._db.write() as db:
            for guild_id in {event.guild_id for event in events}:  # one look per guild, not per event
                ids = [e.id for e in events if e.guild_id == guild_id and e.id is not None]
                await refuse_subscribed(db, guild_id, ids)
            return [await update_event(db, event, now) for event in events]

    async def delete_many(self, guild_id: int, event_ids: list[int]) -> list[Event]:
        """Delete the guild's events `event_ids` in one transaction; one missing id raises NotFound and
        deletes nothing. Each deleted event is queued for the bot with its last state (its card is marked
        cancelled, its reminders cancelled)."""
        now = epoch(self._clock())
        async with self._db.write() as db:
            await refuse_subscribed(db, guild_id, [i for i in event_ids if storable(i)])
            return [await delete_event(db, guild_id, event_id, now) for event_id in event_ids]


# ---- the writes of one event, inside the caller's transaction: every road comes through these (the repository
# above, and a feed's import in bot/storage/subscriptions.py)


async def insert_event(db: Connection, event: Event, now: int) -> Event:
    """Insert the validated `event`, queued for the bot's follow-up (card, reminders) in the same transaction,
    so no crash can leave it without them. A calendar missing from its guild raises NotFound."""
    try:
        row = await db.one(INSERT, event_params(event) | {"created_at": now, "updated_at": now})
    except IntegrityError:  # the (guild, calendar) foreign key
        raise NotFound("calendar", event.calendar_id) from None
    created = event_from_row(row)
    await queue_sync(db, event.guild_id, created.id, None, now)
    return created


_UNCHANGED = ("guild_id", "card_channel_id", "card_message_id")
_UPDATE = (
    f"UPDATE events SET {', '.join(f'{c} = :{c}' for c in (*EVENT_COLUMNS, 'updated_at') if c not in _UNCHANGED)} "
    "WHERE guild_id = :guild_id AND id = :id RETURNING *"
)


async def update_event(db: Connection, event: Event, now: int) -> Event:
    """Update the validated `event` and what changes with it (`_follow`), queued for the bot's follow-up with
    the members promoted. The card's place is written only by set_card: an edit that read the event before
    its card was posted must not erase it."""
    if event.id is None or not storable(event.id):
        raise NotFound("event", event.id)
    await db.serialize("answers", event.id)
    old = await db.one("SELECT * FROM events WHERE guild_id = ? AND id = ?", (event.guild_id, event.id))
    if old is None:
        raise NotFound("event", event.id)
    try:
        row = await db.one(_UPDATE, event_params(event) | {"updated_at": now, "id": event.id})
    except IntegrityError:
        raise NotFound("calendar", event.calendar_id) from None
    updated = event_from_row(row)
    promoted = await _follow(db, event_from_row(old), updated, now)
    await queue_sync(db, event.guild_id, event.id, None, now, promoted)
    return updated


async def delete_event(db: Connection, guild_id: int, event_id: int, now: int) -> Event:
    """Delete the event, queued for the bot with its last state (its card is marked cancelled, its reminders
    cancelled)."""
    if not storable(event_id):
        raise NotFound("event", event_id)
    row = await db.one("DELETE FROM events WHERE guild_id = ? AND id = ? RETURNING *", (guild_id, event_id))
    if row is None:
        raise NotFound("event", event_id)
    deleted = salvaged(row)
    await queue_sync(db, guild_id, event_id, deleted, now)
    return deleted


SUBSCRIBED = "comes from this calendar's subscribed feed: change it at the source, and calbot follows at its next poll"


async def refuse_subscribed(db: Connection, guild_id: int, event_ids: list[int]) -> None:
    """Events imported from a feed are read-only (RSVPs to them are not writes of the event): a change here
    would be undone by the next poll. Raises Conflict naming the first such event."""
    if not event_ids:
        return
    row = await db.one(
        "SELECT e.id, e.name FROM feed_items f JOIN events e ON e.id = f.event_id "
        f"WHERE e.guild_id = ? AND f.event_id IN ({','.join('?' * len(event_ids))}) LIMIT 1",
        (guild_id, *event_ids),
    )
    if row is not None:
        raise Conflict("event", f"{row['name'][:60]!r} {SUBSCRIBED}")


async def _follow(db: Connection, old: Event, new: Event, now: int) -> dict[int, list[int]]:
    """What changes with an event's write, in its transaction: answers and one-occurrence changes follow
    their occurrences when the series' timing changed, and the waitlists move up when there is more room.
    Returns the members promoted, by occurrence key."""
    if timing(old) != timing(new):
        await _rekey(db, old, new)
    more_room = old.capacity is not None and (new.capacity is None or new.capacity > old.capacity)
    if not more_room:
        return {}
    return await promote_waiting(db, new.guild_id, new.id, new.capacity, now)


async def _rekey(db: Connection, old: Event, new: Event) -> None:
    """Move a series' answers and one-occurrence changes to the keys the same occurrences have now (see
    domain remap)."""
    scope = {"g": new.guild_id, "e": new.id}
    rows = await db.all(
        "SELECT occurrence FROM attendees WHERE guild_id = :g AND event_id = :e "
        "UNION SELECT occurrence FROM occurrence_changes WHERE guild_id = :g AND event_id = :e",
        scope,
    )
    mapping = remap(old, new, [r["occurrence"] for r in rows])
    for table in ("attendees", "occurrence_changes"):
        # Through negative keys first, so a key moving onto one that moves away never collides.
        for before, after in mapping.items():
            await db.execute(
                f"UPDATE {table} SET occurrence = ? WHERE guild_id = ? AND event_id = ? AND occurrence = ?",
                (-after, new.guild_id, new.id, before),
            )
        await db.execute(
            f"UPDATE {table} SET occurrence = -occurrence WHERE guild_id = ? AND event_id = ? AND occurrence < 0",
            (new.guild_id, new.id),
        )


async def queue_sync(
    db: Connection,
    guild_id: int,
    event_id: int,
    deleted: Event | None,
    now: int,
    promoted: dict[int, list[int]] | None = None,
) -> None:
    """Queue an event's Discord-side follow-up inside the caller's transaction (`deleted`: its last state,
    for an event deleted; `promoted`: members moved off a waitlist, by occurrence key), and wake the bot
    that serves its guild."""
    snapshot = None
    if deleted is not None:
        snapshot = json.dumps(
            {
                **event_params(deleted),
                "id": deleted.id,
                "created_at": epoch(deleted.created_at),
                "updated_at": epoch(deleted.updated_at),
            }
        )
    await db.execute(
        "INSERT INTO event_sync (guild_id, event_id, deleted, promoted, created_at) VALUES (?, ?, ?, ?, ?)",
        (guild_id, event_id, snapshot, json.dumps({str(k): v for k, v in promoted.items()}) if promoted else None, now),
    )
    await db.notify(SYNC_CHANNEL, str(guild_id))


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
        """Store one occurrence's change, and queue its event's follow-up (card, reminders) with it."""
        change = change.validated()
        async with self._db.write() as db:
            if (
                await db.one("SELECT 1 FROM events WHERE guild_id = ? AND id = ?", (change.guild_id, change.event_id))
                is None
            ):
                raise NotFound("event", change.event_id)
            await refuse_subscribed(db, change.guild_id, [change.event_id])
            await write_change(db, change, epoch(self._clock()))
            await queue_sync(db, change.guild_id, change.event_id, None, epoch(self._clock()))
        return change


async def write_change(db: Connection, change: OccurrenceChange, now: int) -> None:
    """Store one validated occurrence change (its event's follow-up is queued by the caller)."""
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
         epoch(change.starts), epoch(change.ends), change.name, change.description, change.location, now),
    )  # fmt: skip


def _conditions(items: tuple[Condition | Group, ...], params: dict[str, Any]) -> str:
    """SQL for conditions joined as Laravel joins them (AND before OR); values go into `params`."""
    parts: list[str] = []
    for item in items:
        sql = f"({_conditions(item.conditions, params)})" if isinstance(item, Group) else _condition(item, params)
        parts.append(f"{item.join.upper()} {sql}" if parts else sql)
    return " ".join(parts)


def _condition(condition: Condition, params: dict[str, Any]) -> str:
    column, operator = condition.field, condition.operator

    def param(value: Any) -> str:
        name = f"q{len(params)}"
        params[name] = epoch(value) if isinstance(value, datetime) else int(value) if isinstance(value, bool) else value
        return f":{name}"

    if condition.value is None:
        return f"{column} IS {'NOT ' if operator == '!=' else ''}NULL"
    if operator in ("in", "not in"):
        listed = ", ".join(param(value) for value in condition.value)
        return f"{column} {operator.upper()} ({listed})"
    if operator in ("like", "not like"):
        # Case folded on both backends, as PERSCOM's MySQL compares; backslash escapes % and _.
        like = f"lower({column}) LIKE lower({param(condition.value)}) ESCAPE '\\'"
        return f"NOT ({like})" if operator == "not like" else like
    return f"{column} {'<>' if operator == '!=' else operator} {param(condition.value)}"
