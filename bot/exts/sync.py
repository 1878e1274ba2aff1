"""Events written outside the bot (the HTTP API, maybe in another process) get what slash-command
events get: their card posted or updated and their reminders scheduled, or cancelled when deleted.
They reach the bot through the store's event_sync queue, which this cog drains every few seconds."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from discord.ext import commands, tasks

from bot.domain.errors import NotFound
from bot.domain.models import Calendar, Event

from .posting import post_card, update_card

if TYPE_CHECKING:
    from bot.app import CalBot

log = logging.getLogger(__name__)


class EventSync(commands.Cog):
    def __init__(self, bot: CalBot) -> None:
        self.bot = bot
        self.drain.change_interval(seconds=bot.config.api.sync_seconds)
        self.drain.start()

    async def cog_unload(self) -> None:
        self.drain.cancel()

    @tasks.loop(seconds=2)  # replaced by [api] sync_seconds
    async def drain(self) -> None:
        entries = await self.bot.store.sync.take()
        for _entry, guild_id, event_id, deleted in entries:
            try:
                if deleted is not None:
                    await self._retire(deleted)
                else:
                    await self._bring_up_to_date(guild_id, event_id)
            except Exception:
                # One event's trouble (a bug, Discord down) must not hold up the others; it is logged.
                log.exception("Could not apply the change of event %s in guild %s", event_id, guild_id)
        await self.bot.store.sync.done([entry for entry, *_ in entries])

    @drain.before_loop
    async def _wait_for_discord(self) -> None:
        await self.bot.wait_until_ready()

    async def _bring_up_to_date(self, guild_id: int, event_id: int) -> None:
        store = self.bot.store
        try:
            event = await store.events.get(guild_id, event_id)
        except NotFound:
            return  # deleted since: its own entry follows
        await self.bot.reminders.schedule(event)
        calendar = await store.calendars.get(guild_id, event.calendar_id)
        if event.card_message_id is not None:
            await update_card(self.bot, event, calendar)
            return
        settings = await self.bot.guild_settings(guild_id)
        channel_id = calendar.channel_id or settings.default_channel_id
        if channel_id is None:
            log.info("Event %s has no channel for its card: its calendar and the guild have none", event.id)
            return
        await post_card(self.bot, event, calendar, channel_id)

    async def _retire(self, event: Event) -> None:
        await self.bot.reminders.cancel(event)
        try:
            calendar = await self.bot.store.calendars.get(event.guild_id, event.calendar_id)
        except NotFound:  # deleted with its calendar: the card keeps the calendar's name it showed
            calendar = Calendar(guild_id=event.guild_id, name="(deleted calendar)", id=event.calendar_id)
        await update_card(self.bot, event, calendar, cancelled=True)


async def setup(bot: CalBot) -> None:
    await bot.add_cog(EventSync(bot))
