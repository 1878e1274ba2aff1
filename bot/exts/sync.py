"""Every write of an event queues its Discord-side follow-up in the store's event_sync queue; this cog
completes what no slash command completed itself: writes of the HTTP API (maybe in another process), and
at start-up whatever a crash interrupted. Each goes through the same step as a slash command's
(bot/exts/follow_up.py): reminders planned, card posted or updated, waitlisted members told. The cog
drains the queue every few seconds, and at once when the store says another process queued one
(PostgreSQL's LISTEN/NOTIFY; SQLite has no such signal, so there the loop alone does it). A shard
process takes only its own guilds' entries: it is the one that answers those guilds, and the others
leave them for it.

It also keeps series cards current: a series' card is about its next occurrence, so when that one is
over the card moves on to the following one (with fresh buttons and answers).

Both run over the rows of every guild, so neither may stop at one that raises (a rule stored before
validation refused it, an end millennia away): the row is logged, skipped and recorded in the store's
problems (shown to the guild's managers by /notifications), and cleared there once its work succeeds.
An event whose follow-up fails SET_ASIDE_AFTER times in a row is set aside: tried again after a growing
pause (or at once when it is written again), while the queue behind it goes on."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from discord.ext import commands, tasks

from bot.domain.models import Event, OccurrenceChange
from bot.domain.occurrences import Occurrence, expand, next_occurrence
from bot.storage.interface import SYNC_CHANNEL
from bot.storage.problems import FOLLOW_UP, SERIES_CARD, Unreadable, describe

from .cards import update_card
from .notifications import clear_problems, record_problem

if TYPE_CHECKING:
    from bot.app import CalBot

log = logging.getLogger(__name__)

CATCH_UP = timedelta(days=7)
ROLL_AFTER = 1.0  # seconds at least between two passes of the roller that found a card to move on later
ROLL_RETRY = timedelta(minutes=1)  # after a pass of the roller that failed as a whole (the database down)
DRAIN_BATCH = 100  # queue entries taken per pass, besides those of events set aside
SET_ASIDE_AFTER = 5  # failures in a row before an event's entries are set aside
SET_ASIDE_FIRST, SET_ASIDE_LONGEST = timedelta(minutes=1), timedelta(hours=1)  # the pause, doubling
PASS_FAILURES_LOGGED_EVERY = 150  # while a drain pass keeps failing (the queue unreadable): one line in so many


@dataclass(slots=True)
class _Failing:
    """An event whose follow-up failed, as the drain remembers it."""

    attempts: int  # failures in a row
    newest: int  # the newest queue entry it failed with: a newer one (a new write) is tried at once
    retry_at: datetime | None = None  # set aside until then

    def set_aside(self, now: datetime) -> bool:
        return self.retry_at is not None and now < self.retry_at


class EventSync(commands.Cog):
    def __init__(self, bot: CalBot) -> None:
        self.bot = bot
        self.shards = bot.config.discord.shards
        self._draining = asyncio.Lock()  # the loop and a notification never take the same entries twice
        self._more = False  # a notification came while a drain was running or waiting
        self._soon: asyncio.Task | None = None
        self._failing: dict[tuple[int, int], _Failing] = {}  # (guild, event) whose follow-up failed
        self._aside = 0  # queue entries the last pass left set aside: taken on top of DRAIN_BATCH
        self._pass_failures = 0  # drain passes in a row that failed as a whole (the queue could not be read)
        self._stale: set[int] = set()  # series whose card could not be moved on: tried again next pass
        self.drain.change_interval(seconds=bot.config.api.sync_seconds)
        self.drain.start()
        self._roller = asyncio.create_task(self._roll_series_cards(), name="roll-series-cards")
        self._roller.add_done_callback(_log_failure("Series cards stopped moving on"))

    async def cog_load(self) -> None:
        await self.bot.store.subscribe(SYNC_CHANNEL, self._on_notice)

    async def cog_unload(self) -> None:
        self.drain.cancel()
        self._roller.cancel()
        if self._soon is not None:
            self._soon.cancel()

    def _on_notice(self, payload: str) -> None:
        """Another process queued a change of guild `payload`: apply it now rather than at the next loop."""
        try:
            guild_id = int(payload)
        except ValueError:
            log.warning("Ignored a sync notification with a payload that is no guild id: %r", payload)
            return
        if self.shards is not None and not self.shards.owns(guild_id):
            return  # the process running that guild's shard applies it
        self._more = True
        if self._soon is None or self._soon.done():
            self._soon = asyncio.create_task(self._drain_soon(), name="event-sync-notified")
            self._soon.add_done_callback(_log_failure("Could not apply the changes another process queued"))

    async def _drain_soon(self) -> None:
        await self.bot.wait_until_ready()
        while self._more:
            self._more = False
            await self._drain()

    async def _roll_series_cards(self) -> None:
        """Sleep until the first occurrence shown on a series card ends, move that card on, repeat. A change
        to any series (the bot event "series_changed") wakes it early; with no series cards it sleeps until
        one appears. A pass that fails as a whole (the database unavailable) is tried again ROLL_RETRY later,
        from where it was."""
        await self.bot.wait_until_ready()
        since = self.bot.now() - CATCH_UP  # occurrences that ended while calbot was down move their cards on too
        failures = 0
        while not self.bot.is_closed():  # closed, its store is too (discord.py does not unload cogs on close)
            now = self.bot.now()
            try:
                following = await self._roll(since, now)
            except Exception as error:
                if self.bot.is_closed():
                    return
                failures += 1
                if failures == 1:
                    log.exception("Could not move series cards on; trying again every %s", ROLL_RETRY)
                else:
                    log.warning("Still cannot move series cards on (%d tries): %s", failures, describe(error))
                following = now + ROLL_RETRY
            else:
                since, failures = now, 0
            # An occurrence without an end ends as it starts: at that very instant it is still the one shown, and
            # it moves on at the next pass, which must come later, not at once and again (a pass per loop turn).
            delay = None if following is None else max(ROLL_AFTER, (following - self.bot.now()).total_seconds())
            with contextlib.suppress(TimeoutError):
                await self.bot.wait_for("series_changed", timeout=delay)

    async def _roll(self, since: datetime, now: datetime) -> datetime | None:
        """Move on the cards whose occurrence ended since the last pass (`since`); return when the next one
        ends. A series that raises is logged, skipped and recorded (its card is tried again at the next pass);
        the rest go on."""
        store, following = self.bot.store, None
        unreadable: list[Unreadable] = []
        series = await store.events.all_series(shards=self.shards, unreadable=unreadable)
        known = await store.problems.events_with(SERIES_CARD, shards=self.shards)
        for bad in unreadable:
            if bad.has_card:
                await self._roll_failed(bad.guild_id, bad.event_id, bad.error, known)
        by_guild: dict[int, list[Event]] = {}
        for event in series:
            if event.card_message_id is not None:
                by_guild.setdefault(event.guild_id, []).append(event)
        for guild_id, mine in by_guild.items():
            changes = await self._changes(guild_id, mine, known)
            for event in mine:
                if event.id not in changes:
                    continue  # its occurrence changes cannot be read: recorded
                try:
                    shown = await self._roll_one(event, changes[event.id], since, now)
                except Exception as error:
                    self._stale.add(event.id)
                    await self._roll_failed(guild_id, event.id, error, known)
                    continue
                if (guild_id, event.id) in known:
                    await clear_problems(self.bot, guild_id, event.id, SERIES_CARD)
                if shown is not None and (following is None or shown.effective_end < following):
                    following = shown.effective_end
                await asyncio.sleep(0)  # thousands of series: let the rest of the bot in between
        self._stale &= {e.id for mine in by_guild.values() for e in mine}
        return following

    async def _roll_one(
        self, event: Event, changes: list[OccurrenceChange], since: datetime, now: datetime
    ) -> Occurrence | None:
        """Move the series' card on if an occurrence of it ended since the last pass, or moving it on raised at
        an earlier pass; return the occurrence the card shows now. (Discord refusing the edit is no bad row:
        update_card logs it, and the next occurrence's end tries again.)"""
        # Ended: shown at `since` (running or to come), not at `now` (started before it, and over by it). An
        # occurrence without an end is shown at its very start, and over just after.
        ended = any(o.effective_end <= now for o in expand(event, changes, after=since, before=now))
        if ended or event.id in self._stale:
            calendar = await self.bot.store.calendars.get(event.guild_id, event.calendar_id)
            await update_card(self.bot, event, calendar)
            self._stale.discard(event.id)
        return next_occurrence(event, changes, now)

    async def _changes(
        self, guild_id: int, series: list[Event], known: set[tuple[int, int]]
    ) -> dict[int, list[OccurrenceChange]]:
        """The series' occurrence changes, read together; should that fail, read series by series, so a
        change that cannot be read leaves out (and records) only the series it belongs to."""
        try:
            return await self.bot.store.changes.for_events(guild_id, [e.id for e in series])
        except Exception:
            log.warning("Could not read the occurrence changes of guild %s at once; reading them one by one", guild_id)
        found: dict[int, list[OccurrenceChange]] = {}
        for event in series:
            try:
                found |= await self.bot.store.changes.for_events(guild_id, [event.id])
            except Exception as error:
                await self._roll_failed(guild_id, event.id, error, known)
        return found

    async def _roll_failed(self, guild_id: int, event_id: int, error: Exception, known: set[tuple[int, int]]) -> None:
        if (guild_id, event_id) in known:  # its traceback was logged when it first failed
            log.warning(
                "The card of series %s (guild %s) still cannot move on: %s", event_id, guild_id, describe(error)
            )
        else:
            log.error("The card of series %s (guild %s) cannot move on", event_id, guild_id, exc_info=error)
            known.add((guild_id, event_id))
        await record_problem(self.bot, guild_id, event_id, SERIES_CARD, error)

    @tasks.loop(seconds=2)  # replaced by [api] sync_seconds
    async def drain(self) -> None:
        if self.bot.is_closed():  # and so is its store: discord.py does not unload cogs on close
            self.drain.stop()
            return
        try:
            await self._drain()
        except Exception as error:  # an exception would end the loop for good: log it, and go on next pass
            if self.bot.is_closed():
                self.drain.stop()
                return
            self._pass_failures += 1
            if self._pass_failures == 1:
                log.exception("Could not apply the queued changes; trying again at every pass")
            elif self._pass_failures % PASS_FAILURES_LOGGED_EVERY == 0:
                log.error("Still cannot apply the queued changes, %d passes in a row: %s", self._pass_failures,
                          describe(error))  # fmt: skip
        else:
            self._pass_failures = 0

    async def _drain(self) -> None:
        async with self._draining:
            limit = DRAIN_BATCH + self._aside  # entries set aside sit at the head of the queue: look past them
            entries = await self.bot.store.sync.take(limit, shards=self.shards)
            now = self.bot.now()
            waiting: dict[tuple[int, int], list[int]] = {}
            for entry in entries:
                waiting.setdefault((entry.guild_id, entry.event_id), []).append(entry.id)
            aside = 0
            for key, ids in waiting.items():
                failing = self._failing.get(key)
                if failing is not None and failing.set_aside(now) and max(ids) <= failing.newest:
                    aside += len(ids)
                    continue
                try:
                    outcome = await self.bot.follow_up.complete(*key)
                except Exception as error:
                    # One event's trouble (a bad row, a bug, Discord down) must not hold up the others: it is
                    # logged and recorded, and its entries are left for a later pass.
                    if (await self._drain_failed(key, max(ids), error, now)).set_aside(now):
                        aside += len(ids)
                    continue
                self._failing.pop(key, None)
                if outcome.problem is not None:  # its card could not be posted or updated: nobody else is told
                    await record_problem(self.bot, *key, FOLLOW_UP, outcome.problem)
            self._aside = aside
            if len(entries) < limit:  # the whole queue was seen: forget events no longer in it
                self._failing = {k: v for k, v in self._failing.items() if k in waiting}

    async def _drain_failed(self, key: tuple[int, int], newest: int, error: Exception, now: datetime) -> _Failing:
        """Count a failure of the event's follow-up; from the SET_ASIDE_AFTER-th in a row on, set it aside."""
        guild_id, event_id = key
        with contextlib.suppress(Exception):  # all its entries, past the pass's limit too: none of them is new
            newest = max([newest, *(e.id for e in await self.bot.store.sync.for_event(guild_id, event_id))])
        before = self._failing.get(key)
        failing = _Failing(attempts=(before.attempts if before else 0) + 1, newest=newest)
        if failing.attempts >= SET_ASIDE_AFTER:
            doublings = min(failing.attempts - SET_ASIDE_AFTER, 10)
            failing.retry_at = now + min(SET_ASIDE_LONGEST, SET_ASIDE_FIRST * 2**doublings)
        self._failing[key] = failing
        if before is None:
            log.error("Could not apply the change of event %s in guild %s", event_id, guild_id, exc_info=error)
        else:
            log.warning(
                "The change of event %s in guild %s failed again (%d in a row%s): %s", event_id, guild_id,
                failing.attempts, f"; set aside until {failing.retry_at:%H:%M:%S} UTC" if failing.retry_at else "",
                describe(error),
            )  # fmt: skip
        await record_problem(self.bot, guild_id, event_id, FOLLOW_UP, error)
        return failing

    @drain.before_loop
    async def _wait_for_discord(self) -> None:
        await self.bot.wait_until_ready()


def _log_failure(what: str) -> Callable[[asyncio.Task], None]:
    def check(task: asyncio.Task) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("%s", what, exc_info=task.exception())

    return check


async def setup(bot: CalBot) -> None:
    await bot.add_cog(EventSync(bot))
