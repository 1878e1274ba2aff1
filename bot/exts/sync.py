"""Every write of an event queues its Discord-side follow-up in the store's event_sync queue; this cog
completes what no slash command completed itself: writes of the HTTP API (maybe in another process), and
at start-up whatever a crash interrupted. Each goes through the same step as a slash command's
(bot/exts/follow_up.py): reminders planned, card posted or updated, waitlisted members told. The cog
drains the queue every few seconds, and at once when the store says another process queued one
(PostgreSQL's LISTEN/NOTIFY; SQLite has no such signal, so there the loop alone does it). A shard
process takes only its own guilds' entries: it is the one that answers those guilds, and the others
leave them for it.

It also keeps series cards current: a series' card is about its next occurrence, so when that one is
over the card moves on to the following one (with fresh buttons and answers)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from discord.ext import commands, tasks

from bot.domain.occurrences import expand, next_occurrence
from bot.storage.interface import SYNC_CHANNEL

from .cards import update_card

if TYPE_CHECKING:
    from bot.app import CalBot

log = logging.getLogger(__name__)

CATCH_UP = timedelta(days=7)


class EventSync(commands.Cog):
    def __init__(self, bot: CalBot) -> None:
        self.bot = bot
        self.shards = bot.config.discord.shards
        self._draining = asyncio.Lock()  # the loop and a notification never take the same entries twice
        self._more = False  # a notification came while a drain was running or waiting
        self._soon: asyncio.Task | None = None
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
        one appears."""
        await self.bot.wait_until_ready()
        since = self.bot.now() - CATCH_UP  # occurrences that ended while calbot was down move their cards on too
        while True:
            now = self.bot.now()
            following = await self._roll(since, now)
            since = now
            delay = None if following is None else max(0.0, (following - self.bot.now()).total_seconds())
            with contextlib.suppress(TimeoutError):
                await self.bot.wait_for("series_changed", timeout=delay)

    async def _roll(self, since: datetime, now: datetime) -> datetime | None:
        """Move on the cards whose occurrence ended in (since, now]; return when the next one ends."""
        store, following = self.bot.store, None
        series = [e for e in await store.events.all_series(shards=self.shards) if e.card_message_id is not None]
        for guild_id in {e.guild_id for e in series}:
            mine = [e for e in series if e.guild_id == guild_id]
            changes = await store.changes.for_events(guild_id, [e.id for e in mine])
            for event in mine:
                if any(
                    since < o.effective_end <= now for o in expand(event, changes[event.id], after=since, before=now)
                ):
                    try:
                        calendar = await store.calendars.get(event.guild_id, event.calendar_id)
                        await update_card(self.bot, event, calendar)
                    except Exception:
                        log.exception("Could not move the card of series %s on", event.id)
                shown = next_occurrence(event, changes[event.id], now)
                if shown is not None and (following is None or shown.effective_end < following):
                    following = shown.effective_end
        return following

    @tasks.loop(seconds=2)  # replaced by [api] sync_seconds
    async def drain(self) -> None:
        await self._drain()

    async def _drain(self) -> None:
        async with self._draining:
            entries = await self.bot.store.sync.take(shards=self.shards)
            for guild_id, event_id in dict.fromkeys((e.guild_id, e.event_id) for e in entries):
                try:
                    await self.bot.follow_up.complete(guild_id, event_id)
                except Exception:
                    # One event's trouble (a bug, Discord down) must not hold up the others; it is logged,
                    # and its entries are left for the next pass.
                    log.exception("Could not apply the change of event %s in guild %s", event_id, guild_id)

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
