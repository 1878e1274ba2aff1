"""Embeds: the event card posted to a calendar's channel, and the lists."""

from __future__ import annotations

import discord

from bot.domain.colors import Color
from bot.domain.models import Calendar, Event, GuildSettings

from .common import event_when, timestamp

CANCELLED_COLOUR = 0x808080


def event_colour(event: Event, calendar: Calendar) -> int:
    return (event.color if event.color is not Color.NONE else calendar.color).value


def event_card(event: Event, calendar: Calendar, *, cancelled: bool = False) -> discord.Embed:
    embed = discord.Embed(
        title=("Cancelled: " if cancelled else "") + event.name,
        url=event.url,
        description=("**This event was cancelled.**\n" if cancelled else "") + event.description or None,
        colour=CANCELLED_COLOUR if cancelled else event_colour(event, calendar),
    )
    embed.add_field(name="Starts", value=event_when(event), inline=False)
    if event.ends is not None and not event.all_day:
        embed.add_field(name="Ends", value=f"{timestamp(event.ends)} ({timestamp(event.ends, 'R')})", inline=False)
    if event.location:
        embed.add_field(name="Location", value=event.location, inline=False)
    embed.add_field(name="Calendar", value=calendar.name)
    if event.registration_enabled and event.registration_deadline is not None:
        embed.add_field(name="Registration closes", value=timestamp(event.registration_deadline))
    if event.image and not cancelled:
        embed.set_image(url=event.image)
    embed.set_footer(text=f"Event #{event.id} · {event.timezone}")
    return embed


def event_details(event: Event, calendar: Calendar) -> discord.Embed:
    """The card plus what only people looking closely need: reminders, registration, author."""
    embed = event_card(event, calendar)
    if event.notifications_enabled and event.notifications_interval:
        reminders = " ".join(event.notifications_interval)
        channels = ", ".join(event.notifications_channels) or "none"
        embed.add_field(name="Reminders", value=f"{reminders} via {channels}", inline=False)
    else:
        embed.add_field(name="Reminders", value="off", inline=False)
    embed.add_field(name="Registration", value="open" if event.registration_enabled else "off")
    if event.author_id:
        embed.add_field(name="Created by", value=f"<@{event.author_id}>")
    return embed


def settings_embed(settings: GuildSettings) -> discord.Embed:
    embed = discord.Embed(title="Calendar settings")
    embed.add_field(name="Time zone", value=settings.timezone)
    embed.add_field(
        name="Manager role",
        value=f"<@&{settings.manager_role_id}>" if settings.manager_role_id else "none (Manage Server only)",
    )
    embed.add_field(
        name="Default channel",
        value=f"<#{settings.default_channel_id}>" if settings.default_channel_id else "none (where the command runs)",
    )
    embed.add_field(name="Default reminders", value=" ".join(settings.default_reminders) or "none", inline=False)
    embed.add_field(name="Default reminder channels", value=", ".join(settings.default_channels) or "none")
    embed.add_field(name="Date order", value=settings.date_order)
    embed.add_field(name="All-day reminders from", value=settings.all_day_time)
    return embed
