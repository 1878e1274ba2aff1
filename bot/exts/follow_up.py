"""The one Discord-side step after a write to an event, whichever road wrote it: plan its reminders,
post or update its card (or mark it cancelled), DM the members the write moved off a waitlist, ask for a
pass of the Events tab mirror (bot/exts/native.py) when the guild mirrors, and tell the series-card roller.

Every write of an event queues an entry in the store's event_sync queue in its own transaction (see
bot/storage/sync.py). A slash command completes its own event's entries at once, so it can reply with
where the card went; the EventSync cog (sync.py) completes everything else, API writes included, and at
start-up whatever a crash interrupted. Both come here, one event at a time, so an entry is completed
once even when the command and the drain reach it together; a command whose entries the drain took
first (its own write's notification woke the drain) is answered with what the drain did.
"""

from __future__ import annotations

import collections
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.domain.cards import NO_CARD_CHANNEL, card_channel
from bot.domain.errors import NotFound
from bot.domain.models import Calendar, Event
from bot.locks import KeyedLocks
from bot.storage.problems import FOLLOW_UP, REMINDERS

from .cards import post_card, update_card
from .notifications import clear_problems
from .rsvp import notify_promoted

if TYPE_CHECKING:
    from bot.app import CalBot

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Outcome:
    """What completing an event's follow-up did, for a reply."""

    event: Event | None = None  # as it is now (its card's place included); its last state if deleted
    problem: str | None = None  # why its card could not be posted or updated, in words
    promoted: list[int] = field(default_factory=list)  # members moved off a waitlist and told by DM


REMEMBERED = 256  # outcomes kept for the commands whose entries the drain completed first


class FollowUp:
    def __init__(self, bot: CalBot) -> None:
        self.bot = bot
        self._locks = KeyedLocks()
        self._done: collections.OrderedDict[int, Outcome] = collections.OrderedDict()

    async def complete(self, guild_id: int, event_id: int, *, calendar: Calendar | None = None) -> Outcome:
        """Do what the event's waiting entries ask, then remove them. `calendar`: the event's, when the
        caller holds it (a calendar deleted with its events is gone from the store)."""
        async with self._locks.hold(event_id):
            entries = await self.bot.store.sync.for_event(guild_id, event_id)
            if not entries:  # done meanwhile, by the drain (say what it did) or another command
                return self._done.pop(event_id, None) or Outcome()
            deleted = next((e.deleted for e in reversed(entries) if e.deleted is not None), None)
            promoted: dict[int, list[int]] = {}
            for entry in entries:
                for key, users in entry.promoted.items():
                    promoted.setdefault(key, []).extend(u for u in users if u not in promoted.get(key, []))
            if deleted is not None:
                outcome = await self._retire(deleted, calendar)
            else:
                outcome = await self._bring_up_to_date(guild_id, event_id, calendar, promoted)
            # Before the entries go, so a crash here leaves them to ask again: the Events tab follows the write.
            if await self.bot.store.native.mark(guild_id, only_known=True):
                self.bot.dispatch("native_marked", guild_id)
            await self.bot.store.sync.done([e.id for e in entries])
            if outcome.problem is None:  # reminders planned, card up to date: what failed before works now
                await clear_problems(self.bot, guild_id, event_id, FOLLOW_UP, REMINDERS)
            self._done[event_id] = outcome
            self._done.move_to_end(event_id)
            while len(self._done) > REMEMBERED:
                self._done.popitem(last=False)
        if outcome.event is not None and outcome.event.recurrence is not None:
            self.bot.dispatch("series_changed")  # after the card: the card is what moves on
        return outcome

    async def _bring_up_to_date(
        self, guild_id: int, event_id: int, calendar: Calendar | None, promoted: dict[int, list[int]]
    ) -> Outcome:
        store = self.bot.store
        try:
            event = await store.events.get(guild_id, event_id)
        except NotFound:
            return Outcome()  # deleted since: the entry of its deletion retires it
        await self.bot.reminders.schedule(event)
        calendar = calendar or await store.calendars.get(guild_id, event.calendar_id)
        outcome = Outcome(event)
        for key, users in promoted.items():
            await notify_promoted(self.bot, event, key, users)  # before the card, which flags closed DMs
            outcome.promoted += users
        if event.card_message_id is not None:
            outcome.problem = await update_card(self.bot, event, calendar)
            return outcome
        channel_id = card_channel(event, calendar, await self.bot.guild_settings(guild_id))
        if channel_id is None:  # an API write to a calendar without a channel: managers see it in /notifications
            log.info("Event %s has no channel for its card: its calendar and the guild have none", event.id)
            outcome.problem = f"{NO_CARD_CHANNEL[0].upper()}{NO_CARD_CHANNEL[1:]}."
            return outcome
        outcome.event, outcome.problem = await post_card(self.bot, event, calendar, channel_id)
        return outcome

    async def _retire(self, event: Event, calendar: Calendar | None) -> Outcome:
        await self.bot.reminders.cancel(event)
        if calendar is None:
            try:
                calendar = await self.bot.store.calendars.get(event.guild_id, event.calendar_id)
            except NotFound:  # deleted with its calendar: the card keeps the calendar's name it showed
                calendar = Calendar(guild_id=event.guild_id, name="(deleted calendar)", id=event.calendar_id)
        return Outcome(event, await update_card(self.bot, event, calendar, cancelled=True))
