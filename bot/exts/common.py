"""Glue shared by the cogs: the manager check, transformers with autocomplete, time input and display."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import discord
from discord import app_commands

from bot.domain.colors import Color
from bot.domain.errors import InvalidField
from bot.domain.models import Calendar, Event, GuildSettings
from bot.domain.notifications import parse_channels
from bot.domain.occurrences import Occurrence
from bot.domain.permissions import Actor, NotAllowed, Standing, standing
from bot.domain.timeparse import Reading, read_when
from bot.domain.timezones import zone_choices, zone_with_note

from .messages import CONTENT, shorten

if TYPE_CHECKING:
    from bot.app import CalBot

AUTOCOMPLETE_LIMIT = 25  # Discord shows at most 25 choices
CHOICE_NAME_MAX = 100  # characters in an autocomplete choice's label
# Lengths Discord enforces on free-text options before calbot sees them.
TimeText = app_commands.Range[str, 1, 100]
UrlText = app_commands.Range[str, 1, 2048]
ShortText = app_commands.Range[str, 1, 200]
COLOR_CHOICES = [app_commands.Choice(name=c.label, value=c.name) for c in Color]
# What the `channels` option suggests; any list of channel names or aliases is accepted (parse_channels).
REMINDER_CHANNEL_SUGGESTIONS = {
    "public": "public: in the calendar's channel",
    "private": "private: by DM to attendees",
    "both": "both: the channel and DMs",
    "both mail": "the channel, DMs and mail to attendees",
    "public mail sms": "the channel, mail and text messages to attendees",
    "public broadcast": "the channel and the server's webhooks",
    "both mail sms broadcast": "everywhere",
}


class ChannelsOption(app_commands.Transformer):
    """Reminder channels: `public`, `private`, `both`, or names such as `private mail sms broadcast`."""

    async def transform(self, interaction: discord.Interaction, value: str) -> tuple[str, ...]:
        return parse_channels(value)

    async def autocomplete(self, interaction: discord.Interaction, value: str) -> list[app_commands.Choice[str]]:
        needle = value.casefold().strip()
        return [
            app_commands.Choice(name=label, value=code)
            for code, label in REMINDER_CHANNEL_SUGGESTIONS.items()
            if needle in code or needle in label
        ][:AUTOCOMPLETE_LIMIT]


# What a command's permission check needs; /help lists a member only the commands they may use.
NEEDS_ORGANISER, NEEDS_MANAGER, NEEDS_MANAGE_SERVER = "organiser", "manager", "manage server"


class NotManager(app_commands.CheckFailure):
    """The member may read the calendar but not change it."""

    def __init__(self, manager_role_id: int | None) -> None:
        super().__init__("manager permission required")
        self.manager_role_id = manager_role_id


class Refused(app_commands.CheckFailure):
    """A permission rule of the domain refused the command before it ran (checks must raise CheckFailure)."""

    def __init__(self, refusal: NotAllowed) -> None:
        super().__init__(str(refusal))
        self.refusal = refusal


def calbot(interaction: discord.Interaction) -> CalBot:
    return interaction.client  # type: ignore[return-value]


async def settings_for(interaction: discord.Interaction) -> GuildSettings:
    return await calbot(interaction).guild_settings(interaction.guild_id)


async def actor_of(interaction: discord.Interaction) -> Actor:
    """The member as the permission rules see them (bot/domain/permissions.py holds the rules)."""
    settings = await settings_for(interaction)
    role_ids = [r.id for r in getattr(interaction.user, "roles", ())]
    who = standing(manages_server=interaction.permissions.manage_guild, role_ids=role_ids, settings=settings)
    return Actor(who, interaction.user.id, settings)


async def standing_of(interaction: discord.Interaction) -> Standing:
    return (await actor_of(interaction)).standing


def manager_only(*, role_may: bool = True):
    """Writes need Manage Server or (when `role_may`) the guild's manager role; reads are open to everyone."""

    async def predicate(interaction: discord.Interaction) -> bool:
        if interaction.guild is None:
            raise app_commands.NoPrivateMessage()
        if interaction.permissions.manage_guild:
            return True
        if not role_may:
            raise NotManager(None)
        if await standing_of(interaction) is Standing.MANAGER:
            return True
        raise NotManager((await settings_for(interaction)).manager_role_id)

    predicate.needs = NEEDS_MANAGER if role_may else NEEDS_MANAGE_SERVER  # what /help reads
    return app_commands.check(predicate)


def organiser_only():
    """Event writes: managers and organisers; which events an organiser may change is checked with the event
    (`may_change_event`)."""

    async def predicate(interaction: discord.Interaction) -> bool:
        if interaction.guild is None:
            raise app_commands.NoPrivateMessage()
        try:
            (await actor_of(interaction)).check_create()
        except NotAllowed as refusal:
            raise Refused(refusal) from refusal
        return True

    predicate.needs = NEEDS_ORGANISER
    return app_commands.check(predicate)


async def may_change_event(interaction: discord.Interaction, event: Event) -> None:
    """Managers change any event; organisers only those they created."""
    (await actor_of(interaction)).check_change(event)


def public_reminder_channel(calendar: Calendar, settings: GuildSettings, event: Event) -> int | None:
    """Where an event's public reminders go: its calendar's channel, else the server's default, else its card's."""
    return calendar.channel_id or settings.default_channel_id or event.card_channel_id


def ensure_postable(
    interaction: discord.Interaction, channel: discord.abc.GuildChannel, field: str = "channel"
) -> None:
    """calbot posts only where the member could post themselves, so the manager role cannot reach further."""
    allowed = channel.permissions_for(interaction.user)
    if not (allowed.view_channel and allowed.send_messages):
        raise InvalidField(
            field, f"you cannot post in {channel.mention} yourself, so calbot will not post there for you"
        )


async def respond(interaction: discord.Interaction, content: str | None = None, **kwargs) -> None:
    """Reply privately, whether or not the interaction was deferred. A reply too long for Discord is
    shortened (messages.py) rather than refused, so the member always hears back."""
    if content is not None and len(content) > CONTENT:
        content = shorten(content, CONTENT)
    if interaction.response.is_done():
        await interaction.followup.send(content, ephemeral=True, **kwargs)
    else:
        await interaction.response.send_message(content, ephemeral=True, **kwargs)


async def think(interaction: discord.Interaction) -> None:
    """Acknowledge now: what follows calls Discord, and an interaction must be answered within 3 s."""
    await interaction.response.defer(ephemeral=True, thinking=True)


# ---- reading times


async def read_time(
    interaction: discord.Interaction, text: str, field: str, *, require_time: bool = True, zone: str | None = None
) -> datetime:
    """Parse what the member typed: in their own zone (/me timezone) if they set one, else in `zone` (an
    existing event's), else the guild's; numeric dates in the guild's date order. A date alone (all-day
    events, `until`, a day to list) names that date where the event is, not in the member's own zone."""
    return (await read_typed(interaction, text, field, require_time=require_time, zone=zone)).instant


async def read_typed(
    interaction: discord.Interaction, text: str, field: str, *, require_time: bool = True, zone: str | None = None
) -> Reading:
    """`read_time` with how it was read, the wall time typed included: an event's start keeps it
    (`Event.anchor`)."""
    settings = await settings_for(interaction)
    zone = zone or settings.timezone
    reading = read_when(
        text,
        now=calbot(interaction).now(),
        zone=ZoneInfo(await reading_zone(interaction, zone) if require_time else zone),
        field=field,
        require_time=require_time,
        date_order=settings.date_order,
    )
    note_reading(interaction, *reading.notes)
    return reading


READ_NOTES = "calbot_read_notes"  # interaction.extras key: how the command's typed input was read


def note_reading(interaction: discord.Interaction, *notes: str) -> None:
    """Remember how something typed was read (`EST read as America/New_York`), for the reply to echo."""
    kept = interaction.extras.setdefault(READ_NOTES, [])
    kept.extend(note for note in notes if note not in kept)


def reading_notes(interaction: discord.Interaction) -> str | None:
    """One line echoing how typed zones and dates were read, or None when nothing was open to doubt."""
    notes = interaction.extras.get(READ_NOTES)
    return f"Read: {'; '.join(notes)}." if notes else None


async def reading_zone(interaction: discord.Interaction, otherwise: str) -> str:
    """The zone a member's typed times are read in: their own, if they set one."""
    own = await calbot(interaction).store.users.get(interaction.user.id)
    return own.timezone if own else otherwise


def wall_time(instant: datetime, zone: str) -> str:
    """`2026-12-24 18:00 Europe/Berlin`: how a reply echoes the instant it understood."""
    return f"{instant.astimezone(ZoneInfo(zone)):%Y-%m-%d %H:%M} {zone}"


# ---- showing times: Discord timestamps render in each viewer's own time zone


def timestamp(instant: datetime, style: str = "F") -> str:
    return f"<t:{int(instant.timestamp())}:{style}>"


def event_when(when: Event | Occurrence, *, short: bool = False) -> str:
    """When an event (or one occurrence of a series) happens. All-day events are dates in the event's
    zone, shown as text, since a Discord timestamp would show a viewer west of that zone the day before."""
    event = when.event if isinstance(when, Occurrence) else when
    if event.all_day:
        zone = ZoneInfo(event.timezone)
        first = when.starts.astimezone(zone).date()
        last = (when.effective_end.astimezone(zone) - timedelta(seconds=1)).date()
        text = f"{first:%a %d %b %Y}" if last == first else f"{first:%a %d %b} to {last:%a %d %b %Y}"
        return f"{text} (all day)"
    if short:
        return f"{timestamp(when.starts, 'f')} ({timestamp(when.starts, 'R')})"
    return f"{timestamp(when.starts)} ({timestamp(when.starts, 'R')})"


def choice_label(event: Event) -> str:
    """An autocomplete label: plain text (timestamps do not render there), in the event's zone."""
    local = event.starts.astimezone(ZoneInfo(event.timezone))
    when = f"{local:%a %d %b %Y}" if event.all_day else f"{local:%a %d %b %Y %H:%M}"
    suffix = f" · {when} · #{event.id}"
    return event.name[: CHOICE_NAME_MAX - len(suffix)] + suffix


# ---- transformers: options that resolve to domain objects, with autocomplete


class CalendarOption(app_commands.Transformer):
    async def transform(self, interaction: discord.Interaction, value: str) -> Calendar:
        return await calbot(interaction).store.calendars.find(interaction.guild_id, value)

    async def autocomplete(self, interaction: discord.Interaction, value: str) -> list[app_commands.Choice[str]]:
        calendars = await calbot(interaction).store.calendars.list(interaction.guild_id)
        needle = value.casefold().strip()
        return [app_commands.Choice(name=c.name, value=c.name) for c in calendars if needle in c.name.casefold()][
            :AUTOCOMPLETE_LIMIT
        ]


class EventOption(app_commands.Transformer):
    async def transform(self, interaction: discord.Interaction, value: str) -> Event:
        return await calbot(interaction).store.events.find(interaction.guild_id, value, calbot(interaction).now())

    async def autocomplete(self, interaction: discord.Interaction, value: str) -> list[app_commands.Choice[str]]:
        bot = calbot(interaction)
        events = await bot.store.events.search(interaction.guild_id, value, bot.now(), limit=AUTOCOMPLETE_LIMIT)
        return [app_commands.Choice(name=choice_label(e), value=f"#{e.id}") for e in events]


class ZoneOption(app_commands.Transformer):
    async def transform(self, interaction: discord.Interaction, value: str) -> str:
        zone, note = zone_with_note(value)
        if note:
            note_reading(interaction, note)
        return str(zone)

    async def autocomplete(self, interaction: discord.Interaction, value: str) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=label, value=zone) for label, zone in zone_choices(value, AUTOCOMPLETE_LIMIT)]
