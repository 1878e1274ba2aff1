"""Calendars that follow an outside ICS feed: the subscription (its address, interval, conditional-GET state,
last result), the lease one process holds while it polls (like the reminder outbox: several processes share
the job on PostgreSQL, and a feed is polled by one of them at a time), and the import of a poll's events in
one transaction, through the events' own writes (bot/storage/events.py), so cards, reminders and answers
follow as they do for every other road."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.errors import NotFound
from bot.domain.feeds import FeedItem, ParsedFeed, summary

from .database import Clock, Connection, Database, IntegrityError, Row, epoch, instant
from .events import delete_event, event_from_row, insert_event, update_event, write_change
from .interface import FEEDS_CHANNEL


@dataclass(frozen=True, slots=True)
class Subscription:
    id: int
    guild_id: int
    calendar_id: int
    url: str
    every: timedelta
    next_poll: datetime
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    failures: int = 0
    last_poll: datetime | None = None
    last_result: str | None = None
    paused_reason: str | None = None
    created_by: int | None = None

    @property
    def paused(self) -> bool:
        return self.paused_reason is not None


def _subscription(row: Row) -> Subscription:
    return Subscription(
        id=row["id"],
        guild_id=row["guild_id"],
        calendar_id=row["calendar_id"],
        url=row["url"],
        every=timedelta(seconds=row["every"]),
        next_poll=instant(row["next_poll"]),
        etag=row["etag"],
        last_modified=row["last_modified"],
        body_hash=row["body_hash"],
        failures=row["failures"],
        last_poll=instant(row["last_poll"]),
        last_result=row["last_result"],
        paused_reason=row["paused_reason"],
        created_by=row["created_by"],
    )


class _LeaseLost(Exception):
    """Another process took the feed over (its lease ran out): what this one would write is dropped."""


@dataclass(frozen=True, slots=True)
class Imported:
    written: int  # events created or changed
    removed: int  # events gone from the feed (deleted: their cards marked cancelled)


class SqlSubscriptions:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def subscribe(
        self, guild_id: int, calendar_id: int, url: str, every: timedelta, *, created_by: int | None
    ) -> Subscription:
        """Make the calendar follow `url` (already checked), polled at once; subscribing again changes the
        address or interval and resumes a paused feed."""
        now = epoch(self._clock())
        async with self._db.write() as db:
            if await db.one("SELECT 1 FROM calendars WHERE guild_id = ? AND id = ?", (guild_id, calendar_id)) is None:
                raise NotFound("calendar", calendar_id)
            try:
                row = await db.one(
                    """
                    INSERT INTO subscriptions (guild_id, calendar_id, url, every, next_poll, created_by, created_at,
                                               updated_at)
                    VALUES (:guild_id, :calendar_id, :url, :every, :now, :created_by, :now, :now)
                    ON CONFLICT (calendar_id) DO UPDATE SET
                        url = excluded.url, every = excluded.every, next_poll = excluded.next_poll,
                        failures = 0, paused_reason = NULL, updated_at = excluded.updated_at,
                        etag = CASE WHEN subscriptions.url = excluded.url THEN subscriptions.etag END,
                        last_modified = CASE WHEN subscriptions.url = excluded.url THEN subscriptions.last_modified END
                    RETURNING *
                    """,
                    {"guild_id": guild_id, "calendar_id": calendar_id, "url": url, "now": now,
                     "every": int(every.total_seconds()), "created_by": created_by},
                )  # fmt: skip
            except IntegrityError:
                raise NotFound("calendar", calendar_id) from None
            await db.notify(FEEDS_CHANNEL, str(guild_id))  # a poller in another process polls it now
        return _subscription(row)

    async def unsubscribe(self, guild_id: int, calendar_id: int) -> Subscription:
        """Stop following the feed. The events it brought stay, as ordinary events of the calendar."""
        async with self._db.write() as db:
            row = await db.one(
                "DELETE FROM subscriptions WHERE guild_id = ? AND calendar_id = ? RETURNING *", (guild_id, calendar_id)
            )
        if row is None:
            raise NotFound("subscription of calendar", calendar_id)
        return _subscription(row)

    async def get(self, guild_id: int, calendar_id: int) -> Subscription | None:
        async with self._db.read() as db:
            row = await db.one(
                "SELECT * FROM subscriptions WHERE guild_id = ? AND calendar_id = ?", (guild_id, calendar_id)
            )
        return row and _subscription(row)

    async def list(self, guild_id: int) -> list[Subscription]:
        async with self._db.read() as db:
            rows = await db.all("SELECT * FROM subscriptions WHERE guild_id = ? ORDER BY id", (guild_id,))
        return [_subscription(r) for r in rows]

    async def claim(self, now: datetime, worker: str, lease: timedelta, limit: int) -> list[Subscription]:
        """Claim up to `limit` feeds due for a poll, for `worker` until `now + lease`: a feed another process
        holds (its lease running) is not polled here. Rows another process is claiming at this moment are
        skipped, not waited for (PostgreSQL)."""
        async with self._db.write() as db:
            rows = await db.all(
                f"""
                UPDATE subscriptions SET claimed_by = :worker, lease_until = :lease_until
                WHERE id IN (
                    SELECT id FROM subscriptions
                    WHERE paused_reason IS NULL AND next_poll <= :now AND (lease_until IS NULL OR lease_until < :now)
                    ORDER BY next_poll LIMIT :limit {self._db.skip_locked}
                )
                RETURNING *
                """,
                {"worker": worker, "lease_until": epoch(now + lease), "now": epoch(now), "limit": limit},
            )
        return sorted((_subscription(r) for r in rows), key=lambda s: (s.next_poll, s.id))

    async def next_due(self) -> datetime | None:
        async with self._db.read() as db:
            row = await db.one("SELECT min(next_poll) FROM subscriptions WHERE paused_reason IS NULL")
        return instant(row[0]) if row and row[0] is not None else None

    async def unchanged(self, subscription: Subscription, worker: str, next_poll: datetime, result: str) -> bool:
        """A poll that found the feed as it was (304, or the same body): no event is written. False when the
        lease was lost (another process polls it now)."""
        async with self._db.write() as db:
            return await _finished(db, subscription, worker, next_poll, result, epoch(self._clock()))

    async def failed(
        self, subscription: Subscription, worker: str, next_poll: datetime, error: str, *, pause_after: int
    ) -> Subscription | None:
        """A poll that failed: counted, and at `pause_after` in a row the feed is paused (managers see it in
        /notifications). Nothing of the calendar changes. Returns the subscription as it is now (None when the
        lease was lost)."""
        async with self._db.write() as db:
            row = await db.one(
                "UPDATE subscriptions SET failures = failures + 1, last_poll = :now, last_result = :error, "
                "next_poll = :next_poll, claimed_by = NULL, lease_until = NULL, updated_at = :now, "
                "paused_reason = CASE WHEN failures + 1 >= :pause_after THEN :error ELSE paused_reason END "
                "WHERE id = :id AND claimed_by = :worker RETURNING *",
                {"now": epoch(self._clock()), "error": error, "next_poll": epoch(next_poll), "id": subscription.id,
                 "worker": worker, "pause_after": pause_after},
            )  # fmt: skip
        return row and _subscription(row)

    async def apply(
        self,
        subscription: Subscription,
        worker: str,
        parsed: ParsedFeed,
        *,
        next_poll: datetime,
        etag: str | None,
        last_modified: str | None,
        body_hash: str,
    ) -> Imported | None:
        """Bring the calendar in line with the feed, in one transaction (all or nothing): each item new or
        changed since the last poll is written through the events' own writes, with its series' occurrence
        changes replaced by the feed's; each item gone from the feed deletes its event (its card is marked
        cancelled and its reminders cancelled), keeping its answers for the item should it come back. Items
        whose digest is unchanged cost no write. None when the
        lease was lost: another process polls the feed now, and nothing was written."""
        now = epoch(self._clock())
        written = removed = 0
        try:
            async with self._db.write() as db:
                held = await db.one(
                    "SELECT 1 FROM subscriptions WHERE id = ? AND claimed_by = ?", (subscription.id, worker)
                )
                if held is None:
                    raise _LeaseLost
                stored = {
                    r["key"]: (r["event_id"], r["digest"])
                    for r in await db.all(
                        "SELECT key, event_id, digest FROM feed_items WHERE subscription_id = ?", (subscription.id,)
                    )
                }
                wanted = {item.key: item for item in parsed.items}
                for key in stored.keys() - wanted.keys():  # each one's feed_items row goes with its event
                    await _keep_answers(db, subscription.id, key, stored[key][0])
                    await delete_event(db, subscription.guild_id, stored[key][0], now)
                    removed += 1
                added = []
                for key, item in wanted.items():
                    if key in stored and stored[key][1] == item.digest:
                        continue
                    event_id = await _write_item(db, subscription, item, stored.get(key, (None, None))[0], now)
                    if key not in stored:
                        added.append((subscription.id, key, event_id, item.digest))
                        await _restore_answers(db, subscription.id, key, event_id)
                    written += 1
                if added:
                    await db.execute_many(
                        "INSERT INTO feed_items (subscription_id, key, event_id, digest) VALUES (?, ?, ?, ?)", added
                    )
                result = summary(parsed, written, removed)
                state = {"etag": etag, "last_modified": last_modified, "body_hash": body_hash}
                if not await _finished(db, subscription, worker, next_poll, result, now, **state):
                    raise _LeaseLost  # rolls the import back
        except _LeaseLost:
            return None
        return Imported(written, removed)

    async def paused(self, guild_id: int) -> list[Subscription]:
        async with self._db.read() as db:
            rows = await db.all(
                "SELECT * FROM subscriptions WHERE guild_id = ? AND paused_reason IS NOT NULL ORDER BY id", (guild_id,)
            )
        return [_subscription(r) for r in rows]


async def _finished(
    db: Connection, subscription: Subscription, worker: str, next_poll: datetime, result: str, now: int, **state
) -> bool:
    """Record a good poll and release the lease; False if `worker` no longer holds it."""
    sets = "".join(f", {name} = :{name}" for name in state)
    changed = await db.execute(
        f"UPDATE subscriptions SET failures = 0, last_poll = :now, last_result = :result, next_poll = :next_poll, "
        f"claimed_by = NULL, lease_until = NULL, updated_at = :now{sets} WHERE id = :id AND claimed_by = :worker",
        {"now": now, "result": result, "next_poll": epoch(next_poll), "id": subscription.id, "worker": worker,
         **state},
    )  # fmt: skip
    return changed == 1


async def _keep_answers(db: Connection, subscription_id: int, key: str, event_id: int) -> None:
    """Set aside the answers to the event of a feed item that is gone: a feed that drops an event for a poll
    (an export window, a calendar briefly unshared) and gives it back gives its members' answers back too."""
    await db.execute(
        "INSERT INTO feed_answers (subscription_id, key, guild_id, occurrence, user_id, status, seq, updated_at) "
        "SELECT ?, ?, guild_id, occurrence, user_id, status, seq, updated_at FROM attendees WHERE event_id = ? "
        "ON CONFLICT (subscription_id, key, occurrence, user_id) DO UPDATE SET status = excluded.status, "
        "seq = excluded.seq, updated_at = excluded.updated_at",
        (subscription_id, key, event_id),
    )


async def _restore_answers(db: Connection, subscription_id: int, key: str, event_id: int) -> None:
    """The answers `_keep_answers` set aside for `key`, on the event the item has become again."""
    await db.execute(
        "INSERT INTO attendees (guild_id, event_id, occurrence, user_id, status, seq, updated_at) "
        "SELECT guild_id, ?, occurrence, user_id, status, seq, updated_at FROM feed_answers "
        "WHERE subscription_id = ? AND key = ?",
        (event_id, subscription_id, key),
    )
    await db.execute("DELETE FROM feed_answers WHERE subscription_id = ? AND key = ?", (subscription_id, key))


async def _write_item(
    db: Connection, subscription: Subscription, item: FeedItem, event_id: int | None, now: int
) -> int:
    """Create or update the item's event, and make its series' occurrence changes the feed's; its id."""
    if event_id is None:
        stored = await insert_event(db, item.event, now)
    else:
        old = event_from_row(await db.one("SELECT * FROM events WHERE id = ?", (event_id,)))
        kept = {"id": event_id, "card_channel_id": old.card_channel_id, "card_message_id": old.card_message_id}
        stored = await update_event(db, dataclasses.replace(item.event, **kept), now)
        await db.execute(
            "UPDATE feed_items SET digest = ? WHERE subscription_id = ? AND key = ?",
            (item.digest, subscription.id, item.key),
        )
        await db.execute(
            "DELETE FROM occurrence_changes WHERE guild_id = ? AND event_id = ?", (subscription.guild_id, event_id)
        )
    for change in item.changes:
        await write_change(db, dataclasses.replace(change, event_id=stored.id), now)
    return stored.id
