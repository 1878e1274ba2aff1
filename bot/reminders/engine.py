"""The reminder engine: plan an event's reminders into the outbox, and deliver them when they fall due.

The database is the source of truth. Dispatch claims due rows with a lease, asks the sender to deliver
each, and records how it ended: sent, failed (with the reason) or missed; never silently dropped.

Timing: APScheduler runs the dispatch job and the housekeeping job. The engine knows when the next
reminder falls due and arms a timer on the event loop for that moment, which pulls the dispatch job
forward to run at once; so a reminder created in a minute's time is sent in a minute, not at the next
poll. The job's own interval is only a safety net. (The timer uses the loop's clock on purpose: in
tests with a simulated clock, APScheduler's wall-clock triggers would never fire.)
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.domain.errors import NotFound
from bot.domain.models import Event
from bot.domain.reminders import (
    CANCELLED,
    FAILED,
    MISSED,
    SENT,
    Reminder,
    Verdict,
    judge,
    plan,
    retry_delay,
)
from bot.domain.rsvp import ONE_OFF, REMINDED
from bot.storage import Store

log = logging.getLogger(__name__)

DISPATCH_JOB, HOUSEKEEPING_JOB = "reminders-dispatch", "reminders-housekeeping"


class DeliveryError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RetryLater(DeliveryError):
    """A passing failure (rate limit, Discord 5xx, timeout): try again, after `retry_after` if given."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class Undeliverable(DeliveryError):
    """A failure that retrying cannot fix (DMs closed, missing access, unknown channel)."""


class Sender(Protocol):
    async def deliver(self, reminder: Reminder, event: Event, verdict: Verdict) -> int | None:
        """Deliver one reminder; return the message id. Raise RetryLater or Undeliverable."""


class ReminderEngine:
    def __init__(
        self,
        store: Store,
        sender: Sender,
        *,
        clock: Callable[[], datetime],
        batch: int = 200,
        concurrency: int = 50,
        lease: timedelta = timedelta(minutes=2),
        max_attempts: int = 8,
        poll: timedelta = timedelta(seconds=60),
    ) -> None:
        self.store = store
        self.sender = sender
        self.clock = clock
        self.batch, self.lease, self.max_attempts, self.poll = batch, lease, max_attempts, poll
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._sending = asyncio.Semaphore(concurrency)
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: datetime | None = None
        self._running = False
        self._again = False

    # ---- life cycle

    async def start(self) -> None:
        recovered = await self.store.reminders.recover(self.clock())
        if recovered:
            log.info("Released %d reminder claim(s) left by the previous run", recovered)
        self._scheduler.add_job(
            self.dispatch, "interval", seconds=self.poll.total_seconds(), id=DISPATCH_JOB,
            max_instances=1, coalesce=True, misfire_grace_time=None, next_run_time=datetime.now(UTC),
        )  # fmt: skip
        self._scheduler.add_job(
            self.housekeeping, "interval", seconds=30, id=HOUSEKEEPING_JOB,
            max_instances=1, coalesce=True, misfire_grace_time=None,
        )  # fmt: skip
        self._scheduler.start()

    async def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    # ---- planning

    async def schedule(self, event: Event) -> None:
        """Bring the event's pending reminders in line with its time, intervals and channels."""
        planned = plan(
            occurrence_starts=[event.starts],
            intervals=event.notifications_interval,
            channels=event.notifications_channels,
            enabled=event.notifications_enabled,
            zone=ZoneInfo(event.timezone),
            now=self.clock(),
        )
        earliest = await self.store.reminders.schedule(event.guild_id, event.id, planned)
        if earliest is not None:
            self.wake_at(earliest)

    async def cancel(self, event: Event) -> None:
        await self.store.reminders.cancel_event(event.guild_id, event.id)

    # ---- timing

    def wake_at(self, due: datetime) -> None:
        """Make sure dispatch runs at `due` (or now, if that has passed)."""
        if self._timer is not None and self._timer_at is not None and self._timer_at <= due:
            return
        if self._timer is not None:
            self._timer.cancel()
        delay = max(0.0, (due - self.clock()).total_seconds())
        self._timer_at = due
        self._timer = asyncio.get_running_loop().call_later(delay, self._pull_forward)

    def _pull_forward(self) -> None:
        self._timer = self._timer_at = None
        if self._running:
            self._again = True  # the running dispatch looks again before it ends
        elif self._scheduler.running:
            self._scheduler.modify_job(DISPATCH_JOB, next_run_time=datetime.now(UTC))

    # ---- dispatch

    async def dispatch(self) -> int:
        """Deliver everything due; return how many reminders were handled."""
        if self._running:
            self._again = True
            return 0
        self._running, handled = True, 0
        try:
            while True:
                self._again = False
                claimed = await self.store.reminders.claim(self.clock(), self.worker, self.lease, self.batch)
                if claimed:
                    await asyncio.gather(*(self._handle(r) for r in claimed))
                    handled += len(claimed)
                    continue
                if not self._again:
                    break
        finally:
            self._running = False
        following = await self.store.reminders.next_due()
        if following is not None:
            self.wake_at(following)
        return handled

    async def housekeeping(self) -> None:
        released = await self.store.reminders.release_expired(self.clock())
        if released:
            log.warning("Released %d reminder claim(s) whose lease expired", released)
            self.wake_at(self.clock())

    async def _handle(self, reminder: Reminder) -> None:
        try:
            async with self._sending:
                await self._deliver(reminder)
        except Exception:
            # A bug of ours must not stop the other reminders; the claim's lease brings this one back.
            log.exception("Reminder %s (%s) could not be handled", reminder.id, reminder.key)

    async def _deliver(self, reminder: Reminder) -> None:
        reminders, now = self.store.reminders, self.clock()
        verdict = judge(
            due=reminder.scheduled_for, occurrence_start=reminder.occurrence_start, interval=reminder.interval, now=now
        )
        if verdict is Verdict.MISSED:
            when = reminder.scheduled_for.strftime("%Y-%m-%d %H:%M UTC")
            await reminders.finish(reminder.id, self.worker, MISSED, error=f"due at {when}; it was no longer useful")
            return
        try:
            event = await self.store.events.get(reminder.guild_id, reminder.event_id)
        except NotFound:
            await reminders.finish(reminder.id, self.worker, CANCELLED, error="the event was deleted")
            return
        if reminder.is_fan_out:
            attendees = await self.store.attendees.list(reminder.guild_id, reminder.event_id, ONE_OFF)
            await reminders.fan_out(reminder, self.worker, [a.user_id for a in attendees if a.status in REMINDED])
            return  # the DMs are rows of their own now, claimed by the next pass of the dispatch loop
        if reminder.channel == "database":  # the notification log is the outbox itself
            await reminders.finish(reminder.id, self.worker, SENT, late=verdict is Verdict.LATE)
            return
        try:
            message_id = await self.sender.deliver(reminder, event, verdict)
        except RetryLater as error:
            if reminder.attempts >= self.max_attempts:
                reason = f"gave up after {reminder.attempts} attempts: {error.reason}"
                await reminders.finish(reminder.id, self.worker, FAILED, error=reason)
                return
            delay = max(retry_delay(reminder.attempts), timedelta(seconds=error.retry_after or 0))
            await reminders.retry(reminder.id, self.worker, now + delay, error.reason)
            self.wake_at(now + delay)
            return
        except Undeliverable as error:
            await reminders.finish(reminder.id, self.worker, FAILED, error=error.reason)
            if reminder.channel == "discord_private":
                await self.store.attendees.set_dm_error(
                    reminder.guild_id, reminder.event_id, ONE_OFF, reminder.target, error.reason
                )
            return
        await reminders.finish(reminder.id, self.worker, SENT, message_id=message_id, late=verdict is Verdict.LATE)
