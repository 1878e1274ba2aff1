"""The reminder outbox: planned rows, claimed with a lease, finished once (see bot/reminders/engine.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.domain.reminders import FAN_OUT_CHANNELS, Outcome, PlannedReminder, Reminder

from . import stream
from .database import (
    Clock,
    Database,
    Row,
    epoch,
    instant,
    on_shards,
)
from .interface import REMINDERS_CHANNEL

if TYPE_CHECKING:
    from bot.domain.shards import Shards


def _claimable(shards: Shards | None) -> str:
    """An SQL condition: a pending reminder a process on `shards` can send: a channel post of one of its
    guilds, or a DM, mail, sms or webhook of any guild (none of them needs the guild's gateway connection)."""
    return f"state = 'pending' AND (channel IN ({_ANY_PROCESS}) OR {on_shards(shards)})"


_ANY_PROCESS = ", ".join(f"'{channel}'" for channel in FAN_OUT_CHANNELS)


def _reminder(row: Row) -> Reminder:
    return Reminder(
        id=row["id"],
        guild_id=row["guild_id"],
        event_id=row["event_id"],
        occurrence_start=instant(row["occurrence_start"]),
        interval=row["interval"],
        channel=row["channel"],
        target=row["target"],
        occurrence=row["occurrence"],
        scheduled_for=instant(row["scheduled_for"]),
        due=instant(row["due"]),
        state=row["state"],
        attempts=row["attempts"],
        late=bool(row["late"]),
        last_error=row["last_error"],
        message_id=row["message_id"],
        updated_at=instant(row["updated_at"]),
    )


# What a fan-out's log line calls its rows.
_RECIPIENTS = {"discord_private": "DM(s)", "mail": "mail(s)", "sms": "SMS", "broadcast": "webhook call(s)"}


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
        still valid but not planned again, such as one due a moment ago and not yet sent. Members' DM rows
        (a fan-out waiting on a retry) go by the same key. Sent, failed and missed ones are history and
        stay. Returns the earliest due time now pending for the event."""
        now = epoch(self._clock())
        keys = {(epoch(start), interval, channel) for start, interval, channel in (keep or set())}
        keys |= {(epoch(p.occurrence_start), p.interval, p.channel) for p in planned}
        async with self._db.write() as db:
            pending = await db.all(
                # Members' own DM rows too (a fan-out waiting on a retry): a moved or changed event cancels them.
                "SELECT id, occurrence_start, interval, channel FROM reminders "
                "WHERE guild_id = ? AND event_id = ? AND state = 'pending'",
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
                    -- moved (still pending), re-keyed (a one-off turned into a series, or back: same start,
                    -- another occurrence key), or cancelled once and planned again: sent ones stay history
                    WHERE (reminders.state = 'pending' AND (reminders.scheduled_for != excluded.scheduled_for
                                                            OR reminders.occurrence != excluded.occurrence))
                       OR reminders.state = 'cancelled'
                    """,
                    (
                        guild_id,
                        event_id,
                        p.occurrence,
                        epoch(p.occurrence_start),
                        p.interval,
                        p.channel,
                        epoch(p.due),
                        epoch(p.due),
                        now,
                        now,
                    ),
                )
            row = await db.one(
                "SELECT min(due) FROM reminders WHERE guild_id = ? AND event_id = ? AND state = 'pending'",
                (guild_id, event_id),
            )
            if planned:
                await db.notify(REMINDERS_CHANNEL, str(min(epoch(p.due) for p in planned)))
        return instant(row[0])

    async def cancel_event(self, guild_id: int, event_id: int) -> int:
        async with self._db.write() as db:
            return await db.execute(
                "UPDATE reminders SET state = 'cancelled', updated_at = ? "
                "WHERE guild_id = ? AND event_id = ? AND state = 'pending'",
                (epoch(self._clock()), guild_id, event_id),
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
                {"worker": worker, "lease_until": epoch(now + lease), "now": epoch(now), "limit": limit},
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
                {"now": epoch(now)},
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
        return bool(await self.finish_many(worker, [Outcome(reminder_id, state, error, message_id, late)]))

    async def finish_many(self, worker: str, outcomes: list[Outcome]) -> set[int]:
        """Record how these claims of `worker` ended, in one transaction (one commit for a whole burst of
        deliveries, not one each); returns the ids whose claim was still the worker's, which took."""
        now = epoch(self._clock())
        took = set()
        async with self._db.write() as db:
            for o in outcomes:
                changed = await db.execute(
                    """
                    UPDATE reminders SET state = ?, last_error = ?, message_id = ?, late = ?, lease_until = NULL,
                                         updated_at = ?
                    WHERE id = ? AND state = 'claimed' AND claimed_by = ?
                    """,
                    (o.state, o.error, o.message_id, int(o.late), now, o.reminder_id, worker),
                )
                if changed == 1:
                    took.add(o.reminder_id)
        return took

    async def retry(self, reminder_id: int, worker: str, due: datetime, error: str) -> bool:
        async with self._db.write() as db:
            changed = await db.execute(
                """
                UPDATE reminders SET state = 'pending', due = ?, last_error = ?, claimed_by = NULL,
                                     lease_until = NULL, updated_at = ?
                WHERE id = ? AND state = 'claimed' AND claimed_by = ?
                """,
                (epoch(due), error, epoch(self._clock()), reminder_id, worker),
            )
        return changed == 1

    async def fan_out(
        self, parent: Reminder, worker: str, targets: list[int], *, broadcast: dict[str, Any] | None = None
    ) -> int:
        """Turn a due fan-out reminder (a DM, mail, sms or broadcast one) into one pending row per target (a
        member, or a webhook), in one transaction with marking it done, so a crash cannot lose or double the
        recipients; a broadcast's `broadcast` body joins the guild's notification stream in it too. Returns
        how many rows were added."""
        now = epoch(self._clock())
        async with self._db.write() as db:
            if broadcast is not None:
                await stream.append(db, parent.guild_id, parent.key, broadcast, now)
            # One executemany, not a statement per recipient: each statement is a round trip while the
            # transaction is open, so a fan-out to 5,000 members held it for 5,000 of them.
            delivery = (parent.event_id, epoch(parent.occurrence_start), parent.interval, parent.channel)
            counted = (
                "SELECT count(*) FROM reminders WHERE event_id = ? AND occurrence_start = ? AND interval = ? "
                "AND channel = ? AND target != 0"
            )
            before = (await db.one(counted, delivery))[0]
            await db.execute_many(
                """
                INSERT INTO reminders (guild_id, event_id, occurrence, occurrence_start, interval, channel, target,
                                       scheduled_for, due, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (event_id, occurrence_start, interval, channel, target) DO NOTHING
                """,
                [(parent.guild_id, parent.event_id, parent.occurrence, epoch(parent.occurrence_start), parent.interval,
                  parent.channel, target, epoch(parent.scheduled_for), epoch(parent.due), now, now)
                 for target in targets],
            )  # fmt: skip
            added = (await db.one(counted, delivery))[0] - before
            await db.execute(
                "UPDATE reminders SET state = 'sent', last_error = ?, lease_until = NULL, updated_at = ? "
                "WHERE id = ? AND state = 'claimed' AND claimed_by = ?",
                (f"sent as {len(targets)} {_RECIPIENTS[parent.channel]}", now, parent.id, worker),
            )
            if added:
                await db.notify(REMINDERS_CHANNEL, str(epoch(parent.due)))
        return added

    async def next_due(self, *, shards: Shards | None = None) -> datetime | None:
        """When the next reminder `claim` would return with these `shards` falls due."""
        async with self._db.read() as db:
            row = await db.one(f"SELECT min(due) FROM reminders WHERE {_claimable(shards)}")
        return instant(row[0])

    async def backlog(self, now: datetime) -> tuple[int, datetime | None]:
        """Reminders due by `now` and not finished (pending, or claimed and under way), and the earliest time
        one of them was due: what the metrics call the backlog and its oldest age. Every process's, every shard's."""
        async with self._db.read() as db:
            row = await db.one(
                "SELECT count(*), min(scheduled_for) FROM reminders "
                "WHERE (state = 'pending' AND due <= :now) OR state = 'claimed'",
                {"now": epoch(now)},
            )
        return row[0], instant(row[1])

    async def recent(self, guild_id: int, limit: int = 25) -> list[Reminder]:
        """The guild's latest finished reminders, newest first."""
        async with self._db.read() as db:
            rows = await db.all(
                "SELECT * FROM reminders WHERE guild_id = ? AND state IN ('sent', 'failed', 'missed') "
                "ORDER BY updated_at DESC, id DESC LIMIT ?",
                (guild_id, limit),
            )
        return [_reminder(r) for r in rows]

    async def log(
        self, guild_id: int, *, states: tuple[str, ...], channel: str | None = None, limit: int, offset: int = 0
    ) -> tuple[list[Reminder], int]:
        """A page of the guild's reminders in these `states` (and `channel`), newest first, and how many there are."""
        marks = ", ".join("?" * len(states))
        where = f"guild_id = ? AND state IN ({marks})" + (" AND channel = ?" if channel else "")
        values = (guild_id, *states, *((channel,) if channel else ()))
        async with self._db.read() as db:
            total = (await db.one(f"SELECT count(*) FROM reminders WHERE {where}", values))[0]
            rows = await db.all(
                f"SELECT * FROM reminders WHERE {where} ORDER BY updated_at DESC, id DESC LIMIT ? OFFSET ?",
                (*values, limit, offset),
            )
        return [_reminder(r) for r in rows], total

    async def for_event(self, guild_id: int, event_id: int) -> list[Reminder]:
        async with self._db.read() as db:
            rows = await db.all(
                "SELECT * FROM reminders WHERE guild_id = ? AND event_id = ? ORDER BY due, id", (guild_id, event_id)
            )
        return [_reminder(r) for r in rows]
