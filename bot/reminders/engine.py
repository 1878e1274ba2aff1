"""The reminder engine: plan an event's reminders into the outbox, and deliver them when they fall due.

The database is the source of truth. Dispatch claims due rows with a lease, asks the sender to deliver
each, and records how it ended: sent, failed (with the reason) or missed; never silently dropped.

Timing: APScheduler runs the dispatch job and the housekeeping job. The engine knows when the next
reminder falls due and arms a timer on the event loop for that moment, which pulls the dispatch job
forward to run at once; so a reminder created in a minute's time is sent in a minute, not at the next
poll. The job's own interval is only a safety net. (The timer uses the loop's clock on purpose: in
tests with a simulated clock, APScheduler's wall-clock triggers would never fire.)

Several processes may share one database (PostgreSQL). A reminder written by another process (the HTTP
API's, say) reaches this one as a notification on the store's "reminders" channel carrying its due time,
which arms the same timer. A process running some of the bot's shards (`shards`) claims only reminders of
its own guilds, whose channels it can reach, plus DMs of any guild; None means every guild.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, time, timedelta
from typing import Any, Protocol, TypeVar
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.domain.broadcast import broadcast_payload
from bot.domain.contacts import MAIL, SMS
from bot.domain.errors import NotFound
from bot.domain.models import Event, GuildSettings
from bot.domain.occurrences import Occurrence, expand
from bot.domain.reminders import (
    CANCELLED,
    FAILED,
    MISSED,
    PRIVATE_CHANNELS,
    SENT,
    START_GRACE,
    Outcome,
    Reminder,
    Slot,
    Verdict,
    judge,
    plan,
    private_slots,
    retry_delay,
)
from bot.domain.rsvp import REMINDED
from bot.domain.shards import Shards
from bot.domain.timeparse import parse_clock_time, wall_to_utc
from bot.locks import KeyedLocks
from bot.metrics import Metrics
from bot.storage import Store
from bot.storage.interface import REMINDERS_CHANNEL
from bot.storage.problems import DELIVERY, REMINDERS, Unreadable, describe
from bot.storage.stream import STREAM_RETENTION

log = logging.getLogger(__name__)

DISPATCH_JOB, HOUSEKEEPING_JOB, HORIZON_JOB = "reminders-dispatch", "reminders-housekeeping", "reminders-horizon"
# Reminders of a series are planned this far ahead (at least the longest interval, four weeks, plus room
# for the hourly job that extends it), so an endless series costs a bounded number of rows.
HORIZON = timedelta(weeks=6)
STOP_GRACE = 3.0  # seconds the engine's work under way (a dispatch pass, housekeeping) may take to finish at shutdown
CANCEL_GRACE = 1.0  # seconds work cut short after STOP_GRACE may take to unwind

T = TypeVar("T")
Reads = dict[tuple[int, int, int], "asyncio.Task[Occurrence]"]  # a dispatch batch's occurrences, by (guild, event, key)


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
    async def deliver(self, reminder: Reminder, occurrence: Occurrence, verdict: Verdict) -> int | None:
        """Deliver one reminder about `occurrence`; return the message id. Raise RetryLater or Undeliverable."""


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
        max_attempts: int = 40,  # with backoff capped at 5 minutes: over 3 hours of Discord trouble
        poll: timedelta = timedelta(seconds=60),
        shards: Shards | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.store = store
        self.shards = shards
        self.metrics = metrics or Metrics()
        self.sender = sender
        self.clock = clock
        self.batch, self.lease, self.max_attempts, self.poll = batch, lease, max_attempts, poll
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._sending = asyncio.Semaphore(concurrency)
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: datetime | None = None
        # Everything the engine itself runs against the store (dispatch passes, housekeeping, the horizon),
        # each as a task of its own, so stop() can wait for it, and cut it short, before the store closes.
        self._work: set[asyncio.Task[Any]] = set()
        self._pass: asyncio.Task[int] | None = None  # the dispatch pass under way
        self._pass_started = self._pass_ended = 0.0  # on the loop's clock, for stuck()
        self._again = False
        self._stopping = False
        self._scheduler_shut = False
        self._planning = KeyedLocks()
        self.up_since: datetime | None = None  # a reminder due before this came due while calbot was down
        # Finished deliveries waiting for the next group commit (see _finish), and the flush writing them.
        self._finished: list[tuple[Outcome, asyncio.Future[bool]]] = []
        self._flush: asyncio.Task[None] | None = None

    # ---- life cycle

    async def start(self) -> None:
        self.up_since = self.clock()
        recovered = await self.store.reminders.recover(self.clock())
        if recovered:
            log.info("Released %d reminder claim(s) left by the previous run", recovered)
        await self.store.subscribe(REMINDERS_CHANNEL, self._on_notice)
        self._scheduler.add_job(
            self.dispatch, "interval", seconds=self.poll.total_seconds(), id=DISPATCH_JOB,
            max_instances=1, coalesce=True, misfire_grace_time=None, next_run_time=datetime.now(UTC),
        )  # fmt: skip
        self._scheduler.add_job(
            self.housekeeping, "interval", seconds=30, id=HOUSEKEEPING_JOB,
            max_instances=1, coalesce=True, misfire_grace_time=None,
        )  # fmt: skip
        self._scheduler.add_job(
            self.extend_horizon, "interval", hours=1, id=HORIZON_JOB,
            max_instances=1, coalesce=True, misfire_grace_time=None, next_run_time=datetime.now(UTC),
        )  # fmt: skip
        self._scheduler.start()

    async def stop(self) -> None:
        """Stop timers and jobs, and return once nothing the engine started uses the store any more: a
        dispatch pass under way finishes its batch (what it leaves claimed is released at the next start,
        and a resend carries the same nonce), housekeeping its query; whatever is still running after
        STOP_GRACE seconds is cancelled, and waited for."""
        self._stopping = True  # from here on nothing starts: no pass, no job, no timer
        if self._timer is not None:
            self._timer.cancel()
            self._timer = self._timer_at = None
        if self._scheduler.running:
            # Paused, not shut down yet: shutting down cancels the jobs under way (the executor cannot wait).
            self._scheduler.pause()
        if self._work:
            _done, late = await asyncio.wait(set(self._work), timeout=STOP_GRACE)
            if late:
                log.warning(
                    "Cancelling %d reminder task(s) still running %.0f s into the shutdown", len(late), STOP_GRACE
                )
                for task in late:
                    task.cancel()
                _done, stuck = await asyncio.wait(late, timeout=CANCEL_GRACE)
                if stuck:
                    log.error("%d reminder task(s) did not stop when cancelled", len(stuck))
        if self._scheduler.running and not self._scheduler_shut:
            # Every job that ran has ended; one the scheduler started a moment ago sees `_stopping` and returns.
            self._scheduler_shut = True
            self._scheduler.shutdown(wait=False)

    def _spawn(self, work: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        """Run `work` as a task of the engine's own, which stop() waits for."""
        task = asyncio.get_running_loop().create_task(work)
        self._work.add(task)
        task.add_done_callback(self._work.discard)
        return task

    @staticmethod
    async def _outcome(task: asyncio.Task[T], cut_short: T) -> T:
        """Await the engine's `task`; `cut_short` is the answer if stop() had to cancel it."""
        try:
            return await task
        except asyncio.CancelledError:
            caller = asyncio.current_task()
            if task.cancelled() and (caller is None or not caller.cancelling()):
                return cut_short  # the task, not its caller, was cancelled: by stop(), after its grace
            raise

    # ---- planning

    async def schedule(self, event: Event) -> None:
        """Bring the event's pending reminders in line with its occurrences, intervals and channels: a
        one-off event's, or a series' up to HORIZON ahead (all-day ones counted from the guild's all-day
        time). The event is read again here, one planning at a time per event, so a caller holding an
        older copy (an edit racing the hourly job) cannot plan from out-of-date times."""
        async with self._planning.hold(event.id):
            try:
                event = await self.store.events.get(event.guild_id, event.id)
            except NotFound:
                await self.store.reminders.cancel_event(event.guild_id, event.id)
                return
            await self._plan(event)

    async def _plan(self, event: Event) -> None:
        now = self.clock()
        zone = ZoneInfo(event.timezone)
        changes = (
            (await self.store.changes.for_events(event.guild_id, [event.id]))[event.id] if event.recurrence else []
        )
        # From a little before now: reminders due a moment ago, not sent yet, are still valid. A one-off
        # event is planned however far ahead it is; a series up to the horizon.
        until = now + HORIZON if event.recurrence is not None else max(now, event.effective_end) + timedelta(seconds=1)
        window = expand(event, changes, after=now - START_GRACE, before=until, limit=10_000)
        counted_from = await self._all_day_time(event) if event.all_day else None
        every = plan(
            occurrences=[(o.key, _counted_from(o, counted_from, zone)) for o in window],
            intervals=event.notifications_interval,
            channels=event.notifications_channels,
            enabled=event.notifications_enabled,
            zone=zone,
            personal=await self._personal_slots(event),
        )
        # A reminder whose time passed before it was planned was never due while it was known (an event
        # created ten minutes before it starts gets no 15-minute reminder): kept if it exists, not added.
        planned = [p for p in every if p.due > now]
        earliest = await self.store.reminders.schedule(event.guild_id, event.id, planned, {p.slot for p in every})
        if earliest is not None:
            self.wake_at(earliest)

    async def _personal_slots(self, event: Event) -> set[Slot]:
        """The private (interval, channel) reminders the preferences of the event's members going or maybe
        ask for: each needs its own planned wake-up, whether or not the event has it."""
        slots: set[Slot] = set()
        for prefs in await self.store.reminder_prefs.attending(event.guild_id, event.id):
            slots |= private_slots(
                event.notifications_interval, event.notifications_channels, event.notifications_enabled, prefs
            )
        return slots

    async def answered(self, event: Event, user_ids: list[int]) -> None:
        """These members' answers to the event changed: those with preferences of their own may need reminders
        planned for them, or no longer."""
        if await self.store.reminder_prefs.of(user_ids):
            await self.schedule(event)

    async def member_changed(self, user_id: int) -> None:
        """A member's preferences changed: re-plan every event they go to, so their reminders already planned
        follow the new preferences (who gets each is decided again when it falls due)."""
        for guild_id, event_id in await self.store.reminder_prefs.events_of(user_id):
            try:
                event = await self.store.events.get(guild_id, event_id)
            except NotFound:
                continue
            await self.schedule(event)

    async def _recipients(self, reminder: Reminder, occurrence: Occurrence) -> list[int]:
        """Who a fan-out reminder goes to: the guild's webhooks for its calendar (broadcast); else the members
        who answered going or maybe whose own preferences (or, without any, the event's) ask for this interval
        by this channel; for mail and sms only those with a confirmed address of that kind."""
        event = occurrence.event
        if reminder.channel == "broadcast":
            hooks = await self.store.webhooks.for_calendar(reminder.guild_id, event.calendar_id)
            return [hook.id for hook in hooks]
        attendees = await self.store.attendees.list(reminder.guild_id, reminder.event_id, reminder.occurrence)
        members = [a.user_id for a in attendees if a.status in REMINDED]
        prefs = await self.store.reminder_prefs.of(members)
        slot = (reminder.interval, reminder.channel)
        settings = (event.notifications_interval, event.notifications_channels, event.notifications_enabled)
        members = [m for m in members if slot in private_slots(*settings, prefs.get(m))]
        if reminder.channel in (MAIL, SMS):
            reachable = await self.store.contacts.confirmed(reminder.channel, members)
            members = [m for m in members if m in reachable]
        return members

    async def _still_planned(self, reminder: Reminder, occurrence: Occurrence) -> bool:
        """Whether planning the event as it is now would give this reminder."""
        event = occurrence.event
        zone = ZoneInfo(event.timezone)
        counted_from = _counted_from(occurrence, await self._all_day_time(event) if event.all_day else None, zone)
        if not event.notifications_enabled or counted_from != reminder.occurrence_start:
            return False
        if reminder.interval in event.notifications_interval and reminder.channel in event.notifications_channels:
            return True
        # A wake-up members' own preferences asked for (its recipients are chosen again from the preferences).
        return reminder.channel in PRIVATE_CHANNELS and (reminder.interval, reminder.channel) in (
            await self._personal_slots(event)
        )

    async def _all_day_time(self, event: Event) -> time:
        settings = await self.store.settings.get(event.guild_id) or GuildSettings(guild_id=event.guild_id)
        return parse_clock_time(settings.all_day_time, "all_day_time")

    async def extend_horizon(self) -> None:
        """Plan the reminders of every series over the horizon from now (the hourly housekeeping job)."""
        if not self._stopping:
            await self._outcome(self._spawn(self._extend_horizon()), None)

    async def _extend_horizon(self) -> None:
        """A series that cannot be read or planned is logged, skipped and recorded in the store's problems
        (for the guild's managers), and cleared there once it plans again; every other series goes on."""
        unreadable: list[Unreadable] = []
        series = await self.store.events.all_series(shards=self.shards, unreadable=unreadable)
        known = await self.store.problems.events_with(REMINDERS, shards=self.shards)
        for bad in unreadable:
            await self._failed(bad.guild_id, bad.event_id, REMINDERS, bad.error, known)
        for event in series:
            if self._stopping:
                return
            try:
                await self.schedule(event)
            except Exception as error:
                await self._failed(event.guild_id, event.id, REMINDERS, error, known)
            else:
                if (event.guild_id, event.id) in known:
                    await self._solved(event.guild_id, event.id, REMINDERS)

    async def _failed(
        self, guild_id: int, event_id: int, what: str, error: Exception, known: set[tuple[int, int]]
    ) -> None:
        """Log work that raised for one event (its traceback once: `known` holds those recorded before) and
        record it; a record that fails is logged only, as the caller goes on with the rest."""
        if (guild_id, event_id) in known:
            log.warning("The %s of event %s (guild %s) failed again: %s", what, event_id, guild_id, describe(error))
        else:
            log.error("The %s of event %s (guild %s) failed", what, event_id, guild_id, exc_info=error)
            known.add((guild_id, event_id))
        try:
            await self.store.problems.record(guild_id, event_id, what, error)
        except Exception:
            log.exception("Could not record that the %s of event %s failed", what, event_id)

    async def _solved(self, guild_id: int, event_id: int, what: str) -> None:
        try:
            await self.store.problems.clear(guild_id, event_id, what)
        except Exception:
            log.exception("Could not clear the %s problem of event %s", what, event_id)

    async def cancel(self, event: Event) -> None:
        await self.store.reminders.cancel_event(event.guild_id, event.id)

    # ---- timing

    def _on_notice(self, payload: str) -> None:
        """Another process wrote reminders; `payload` is the earliest due time, in epoch seconds."""
        if self._stopping:
            return
        try:
            due = datetime.fromtimestamp(float(payload), UTC)
        except (ValueError, OverflowError, OSError):
            log.warning("Ignored a reminders notification with a payload that is no time: %r", payload)
            return
        self.wake_at(due)

    def wake_at(self, due: datetime) -> None:
        """Make sure dispatch runs at `due` (or now, if that has passed)."""
        if self._stopping:
            return
        if self._timer is not None and self._timer_at is not None and self._timer_at <= due:
            return
        if self._timer is not None:
            self._timer.cancel()
        delay = max(0.0, (due - self.clock()).total_seconds())
        self._timer_at = due
        self._timer = asyncio.get_running_loop().call_later(delay, self._pull_forward)

    def _pull_forward(self) -> None:
        self._timer = self._timer_at = None
        if self._stopping:
            return
        if self._dispatching:
            self._again = True  # the running dispatch looks again before it ends
        elif self._scheduler.running:
            self._scheduler.modify_job(DISPATCH_JOB, next_run_time=datetime.now(UTC))

    # ---- dispatch

    async def dispatch(self) -> int:
        """Deliver everything due; return how many reminders were handled. One pass at a time: called
        while one runs, it asks that one to look again, and returns 0."""
        if self._stopping:
            return 0
        if self._dispatching:
            self._again = True
            return 0
        loop = asyncio.get_running_loop()
        self._pass_started = loop.time()
        self._pass = self._spawn(self._dispatch())
        try:
            return await self._outcome(self._pass, 0)
        finally:
            self._pass_ended = loop.time()

    def stuck(self) -> str | None:
        """Why dispatch looks stuck, or None: a pass running past a lease (its claims would be taken over),
        or no pass ended for three poll intervals although the job runs at least once per interval."""
        if self._stopping:
            return "stopping"
        now, limit = asyncio.get_running_loop().time(), self.lease.total_seconds()
        if self._dispatching and now - self._pass_started > limit:
            return f"a dispatch pass has been running for {now - self._pass_started:.0f} s"
        quiet = now - max(self._pass_ended, self._pass_started)
        if not self._dispatching and self._pass_started and quiet > 3 * self.poll.total_seconds():
            return f"no dispatch pass for {quiet:.0f} s"
        return None

    @property
    def _dispatching(self) -> bool:
        """Whether a dispatch pass is under way. (Done, its task may still be referenced a moment.)"""
        return self._pass is not None and not self._pass.done()

    async def _dispatch(self) -> int:
        """One pass: claim and deliver batches until nothing is due, then arm the timer for what is next.
        The pass counts as running to its very end, the next-due query included, so stop() waits for it
        all and a wake-up during that query makes it look again rather than start a second pass."""
        handled = 0
        while not self._stopping:
            self._again = False
            claimed = await self.store.reminders.claim(
                self.clock(), self.worker, self.lease, self.batch, shards=self.shards
            )
            if claimed:
                for reminder in claimed:
                    if reminder.attempts == 1 and not reminder.is_fan_out:  # each falls due once
                        self.metrics.reminders_due.labels(reminder.channel).inc()
                known = await self.store.problems.events_with(DELIVERY, shards=self.shards)
                # One read of each occurrence the batch holds, shared by its deliveries (a burst of one event's
                # DMs or webhook calls would otherwise read the same event once per recipient).
                read: Reads = {}
                await asyncio.gather(*(self._handle(r, known, read) for r in claimed))
                handled += len(claimed)
                continue
            if self._again:
                continue
            # Only what this process may claim: another shard's overdue reminder would wake it again at once.
            following = await self.store.reminders.next_due(shards=self.shards)
            if following is not None:
                self.wake_at(following)  # not once stopping
            if not self._again:
                break
        return handled

    async def housekeeping(self) -> None:
        if not self._stopping:
            await self._outcome(self._spawn(self._housekeeping()), None)

    async def _housekeeping(self) -> None:
        await self.store.stream.prune(self.clock() - STREAM_RETENTION)
        released = await self.store.reminders.release_expired(self.clock())
        if released:
            log.warning("Released %d reminder claim(s) whose lease expired", released)
            self.wake_at(self.clock())

    async def _handle(self, reminder: Reminder, known: set[tuple[int, int]], read: Reads) -> None:
        """Deliver one reminder. One that raises (a bug of ours, its event's row unreadable) must not stop the
        others: it is logged and recorded (a DELIVERY problem of its event, `known`: those recorded before),
        and the claim's lease brings it back; one handled clears its event's problem."""
        try:
            async with self._sending:
                await self._deliver(reminder, read)
        except Exception as error:
            log.warning("Reminder %s (%s) could not be handled", reminder.id, reminder.key)
            await self._failed(reminder.guild_id, reminder.event_id, DELIVERY, error, known)
            return
        if (reminder.guild_id, reminder.event_id) in known:
            known.discard((reminder.guild_id, reminder.event_id))
            await self._solved(reminder.guild_id, reminder.event_id, DELIVERY)

    async def _deliver(self, reminder: Reminder, read: Reads | None = None) -> None:
        reminders, now = self.store.reminders, self.clock()
        verdict = judge(
            due=reminder.scheduled_for, occurrence_start=reminder.occurrence_start, interval=reminder.interval,
            now=now, up_since=self.up_since,
        )  # fmt: skip
        if verdict is Verdict.MISSED:
            why = f"due at {reminder.scheduled_for:%Y-%m-%d %H:%M} UTC; it was no longer useful"
            if await self._finish(reminder.id, MISSED, error=why):
                self.metrics.reminders_missed.labels(reminder.channel).inc()
            return
        try:
            occurrence = await self._occurrence(reminder, {} if read is None else read)
        except NotFound:
            await self._finish(reminder.id, CANCELLED, error="the event was deleted")
            return
        if occurrence.cancelled:
            await self._finish(reminder.id, CANCELLED, error="the occurrence was cancelled")
            return
        if not await self._still_planned(reminder, occurrence):
            # The event changed and its re-planning did not happen (a crash between the two): this row is
            # for a time, interval or channel the event no longer has. Plan what the event says now.
            await self._finish(reminder.id, CANCELLED, error="the event changed since it was planned")
            await self.schedule(occurrence.event)
            return
        if reminder.is_fan_out:
            # A broadcast goes to the guild's webhooks and, in the same transaction, to its notification stream.
            body = broadcast_payload(reminder, occurrence, verdict) if reminder.channel == "broadcast" else None
            targets = await self._recipients(reminder, occurrence)
            await reminders.fan_out(reminder, self.worker, targets, broadcast=body)
            return  # the recipients are rows of their own now, claimed by the next pass of the dispatch loop
        if reminder.channel == "database":  # the notification log is the outbox itself
            if await self._finish(reminder.id, SENT, late=verdict is Verdict.LATE):
                self._sent(reminder)
            return
        try:
            message_id = await self.sender.deliver(reminder, occurrence, verdict)
        except RetryLater as error:
            if reminder.attempts >= self.max_attempts:
                reason = f"gave up after {reminder.attempts} attempts: {error.reason}"
                if await self._finish(reminder.id, FAILED, error=reason):
                    self.metrics.reminders_failed.labels(reminder.channel).inc()
                return
            delay = max(retry_delay(reminder.attempts), timedelta(seconds=error.retry_after or 0))
            await reminders.retry(reminder.id, self.worker, now + delay, error.reason)
            self.wake_at(now + delay)
            return
        except Undeliverable as error:
            if await self._finish(reminder.id, FAILED, error=error.reason):
                self.metrics.reminders_failed.labels(reminder.channel).inc()
            if reminder.channel == "discord_private":
                await self.store.attendees.set_dm_error(
                    reminder.guild_id, reminder.event_id, reminder.occurrence, reminder.target, error.reason
                )
            return
        if await self._finish(reminder.id, SENT, message_id=message_id, late=verdict is Verdict.LATE):
            self._sent(reminder)

    def _occurrence(self, reminder: Reminder, read: Reads) -> asyncio.Task[Occurrence]:
        """The reminder's occurrence, read once per dispatch batch (`read`)."""
        key = (reminder.guild_id, reminder.event_id, reminder.occurrence)
        if key not in read:
            read[key] = self._spawn(self.store.events.occurrence(*key))
        return read[key]

    async def _finish(
        self,
        reminder_id: int,
        state: str,
        *,
        error: str | None = None,
        message_id: int | None = None,
        late: bool = False,
    ) -> bool:
        """Record how a claim ended; True when it took (it was still this worker's). Group commit: the outcomes
        of deliveries that end while one transaction writes are written together by the next, so a burst of
        fast deliveries (webhooks, DMs) costs one commit per flush, not one each. A crash before the write
        leaves the claims to expire and be sent again under the same key (nonce, Message-ID, webhook-id)."""
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._finished.append((Outcome(reminder_id, state, error, message_id, late), done))
        if self._flush is None or self._flush.done():
            self._flush = self._spawn(self._write_finished())
        return await done

    async def _write_finished(self) -> None:
        while self._finished:
            batch, self._finished = self._finished, []
            try:
                took = await self.store.reminders.finish_many(self.worker, [outcome for outcome, _ in batch])
            except asyncio.CancelledError:  # stop() gave up on it: so do those waiting
                for _, done in batch + self._finished:
                    done.cancel()
                raise
            except Exception as error:  # each delivery waiting on it handles it as its own failure
                for _, done in batch:
                    if not done.done():
                        done.set_exception(error)
                continue
            for outcome, done in batch:
                if not done.done():
                    done.set_result(outcome.reminder_id in took)

    def _sent(self, reminder: Reminder) -> None:
        """Counted only when this process's finish took: a claim lost to another process is theirs to count."""
        self.metrics.reminders_sent.labels(reminder.channel).inc()
        lag = (self.clock() - reminder.scheduled_for).total_seconds()
        self.metrics.reminder_lag.labels(reminder.channel).observe(max(0.0, lag))


class ByChannel:
    """The Sender of every channel: hands each reminder to the sender of its channel. A channel with none
    (mail or sms not configured) fails its reminders with a reason the guild's managers can act on."""

    def __init__(self, senders: dict[str, Sender], missing: dict[str, str]) -> None:
        self.senders, self.missing = senders, missing

    async def deliver(self, reminder: Reminder, occurrence: Occurrence, verdict: Verdict) -> int | None:
        sender = self.senders.get(reminder.channel)
        if sender is None:
            raise Undeliverable(self.missing.get(reminder.channel, f"calbot cannot send to {reminder.channel}"))
        return await sender.deliver(reminder, occurrence, verdict)


def _counted_from(occurrence: Occurrence, all_day_time: time | None, zone: ZoneInfo) -> datetime:
    """What an occurrence's reminders count back from: its start, or for an all-day event the guild's
    all-day time on its first day."""
    if all_day_time is None:
        return occurrence.starts
    day = occurrence.starts.astimezone(zone).date()
    return wall_to_utc(datetime.combine(day, all_day_time), zone)
