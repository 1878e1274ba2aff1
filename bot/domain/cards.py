"""Where an event's card goes: one rule, read by the bot that posts the card and by the API that says
when there is nowhere to post it. Pure."""

from __future__ import annotations

from .models import Calendar, Event, GuildSettings

NO_CARD_CHANNEL = (
    "its card cannot be posted: neither its calendar nor the server has a channel for cards "
    "(set one with /calendar edit channel: or /settings channel:)"
)


def card_channel(event: Event, calendar: Calendar, settings: GuildSettings) -> int | None:
    """The channel for the event's card: where it already is (a command names the channel it ran in), else
    its calendar's channel, else the server's default channel; None when there is none."""
    return event.card_channel_id or calendar.channel_id or settings.default_channel_id
