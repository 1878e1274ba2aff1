"""Posting and updating event cards. A card that cannot be posted never undoes the event itself.

Every card is rendered here, with its attendees loaded here, so whoever posts or updates one gets the
whole card: details, who is coming, and the RSVP buttons while registration is on."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

import discord

from bot.domain.models import Calendar, Event
from bot.domain.occurrences import Occurrence, next_occurrence

from .cards import event_card
from .rsvp import card_view

if TYPE_CHECKING:
    from bot.app import CalBot

log = logging.getLogger(__name__)


def describe_failure(error: discord.HTTPException) -> str:
    if isinstance(error, discord.Forbidden):
        return "I lack the View Channel, Send Messages or Embed Links permission there"
    if isinstance(error, discord.NotFound):
        return "that channel no longer exists"
    return f"Discord answered {error.status}"


async def shown_occurrence(bot: CalBot, event: Event) -> Occurrence | None:
    """The occurrence a card is about: a one-off event's own; a series' running or next one (None once
    the series is over)."""
    if event.recurrence is None:
        return Occurrence.of(event)
    changes = (await bot.store.changes.for_events(event.guild_id, [event.id]))[event.id]
    return next_occurrence(event, changes, bot.now())


async def render_card(
    bot: CalBot, event: Event, calendar: Calendar, *, cancelled: bool = False
) -> tuple[discord.Embed, discord.ui.View | None]:
    """The card's embed and its buttons (None: no buttons). A cancelled card lists no one; a series that
    is over shows its last rule and takes no more answers."""
    shown = await shown_occurrence(bot, event)
    over = shown is None
    shown = shown or Occurrence.of(event)
    attendees = [] if cancelled else await bot.store.attendees.list(event.guild_id, event.id, shown.key)
    embed = event_card(event, calendar, occurrence=shown, attendees=attendees, cancelled=cancelled)
    return embed, card_view(event, shown.key, cancelled=cancelled or over)


async def post_card(bot: CalBot, event: Event, calendar: Calendar, channel_id: int) -> tuple[Event, str | None]:
    """Post the card to `channel_id` and remember where; return the event and any problem, in words."""
    channel = bot.get_partial_messageable(channel_id, guild_id=event.guild_id)
    embed, view = await render_card(bot, event, calendar)
    try:
        message = await channel.send(embed=embed, view=view, allowed_mentions=discord.AllowedMentions.none())
    except discord.HTTPException as error:
        log.warning("Could not post the card of event %s in channel %s: %s", event.id, channel_id, error)
        return event, f"I could not post its card in <#{channel_id}>: {describe_failure(error)}."
    await bot.store.events.set_card(event.guild_id, event.id, channel_id, message.id)
    return await bot.store.events.get(event.guild_id, event.id), None


async def update_card(bot: CalBot, event: Event, calendar: Calendar, *, cancelled: bool = False) -> str | None:
    """Edit the event's card in place; return a problem in words, if any."""
    if event.card_channel_id is None or event.card_message_id is None:
        return None
    channel = bot.get_partial_messageable(event.card_channel_id, guild_id=event.guild_id)
    embed, view = await render_card(bot, event, calendar, cancelled=cancelled)
    try:
        # view=None takes the buttons off: registration turned off, or the event cancelled.
        await channel.get_partial_message(event.card_message_id).edit(embed=embed, view=view)
    except discord.HTTPException as error:
        log.warning("Could not update the card of event %s: %s", event.id, error)
        return f"I could not update its card in <#{event.card_channel_id}>: {describe_failure(error)}."
    return None


async def cancel_cards(bot: CalBot, events: Iterable[Event], calendar: Calendar) -> None:
    for event in events:
        await update_card(bot, event, calendar, cancelled=True)
