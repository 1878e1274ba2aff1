"""Embeds: the event card posted to a calendar's channel, and the lists."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from zoneinfo import ZoneInfo

import discord

from bot.domain.colors import Color
from bot.domain.models import Calendar, Event, GuildSettings
from bot.domain.occurrences import Occurrence
from bot.domain.recurrence import describe
from bot.domain.reminders import DELIVERED_CHANNELS
from bot.domain.rsvp import GOING, MAYBE, NOT_GOING, WAITLISTED, Attendee, grouped

from .common import event_when, timestamp
from .feeds import google_calendar_url

CANCELLED_COLOUR = 0x808080
# Discord's embed limits.
EMBED_TOTAL = 6000
FIELD_VALUE = 1024
DESCRIPTION = 4096
# Names shown per status before "and N more": fewer when the rest of the card is long.
CARD_NAMES = (20, 10, 5, 0)
LIST_NAMES = (100, 50, 25, 10, 0)
DMS_CLOSED = "⚠️ DMs closed"


def rule_in_words(event: Event) -> str:
    """ "every 2nd Tuesday of the month at 19:00 (Europe/Berlin)"."""
    zone = ZoneInfo(event.timezone)
    return describe(event.recurrence, event.starts, zone, event.timezone, all_day=event.all_day)


def fresh_copy(embed: discord.Embed) -> discord.Embed:
    """A copy whose fields can be added to: discord.py's Embed.copy() shares the fields list, so fields
    added to a copy would pile up on the original (and on every later try to make a card fit)."""
    return discord.Embed.from_dict(copy.deepcopy(embed.to_dict()))


def event_colour(event: Event, calendar: Calendar) -> int:
    return (event.color if event.color is not Color.NONE else calendar.color).value


def event_card(
    event: Event,
    calendar: Calendar,
    *,
    occurrence: Occurrence | None = None,
    attendees: Sequence[Attendee] = (),
    cancelled: bool = False,
) -> discord.Embed:
    """The card: what, when (for a series: the occurrence it is about), where, and who is coming (no one
    is listed on a cancelled card)."""
    embed = _card(event, calendar, occurrence or Occurrence.of(event), cancelled=cancelled)
    if cancelled:
        return embed
    linked = fresh_copy(embed)
    link = f"[Add to Google Calendar]({google_calendar_url(event)}) · `/event export` for other apps"
    linked.add_field(name="Add to your calendar", value=link, inline=False)
    card = _with_attendees(linked, event, attendees)
    # A card already near Discord's limit (long description and location, many names) drops the link.
    return card if len(card) <= EMBED_TOTAL else _with_attendees(embed, event, attendees)


def _card(event: Event, calendar: Calendar, shown: Occurrence, *, cancelled: bool = False) -> discord.Embed:
    embed = discord.Embed(
        title=("Cancelled: " if cancelled else "") + shown.name,
        url=event.url,
        description=("**This event was cancelled.**\n" if cancelled else "") + shown.description or None,
        colour=CANCELLED_COLOUR if cancelled else event_colour(event, calendar),
    )
    embed.add_field(name="Next" if event.recurrence else "Starts", value=event_when(shown), inline=False)
    if shown.ends is not None and not event.all_day:
        embed.add_field(name="Ends", value=f"{timestamp(shown.ends)} ({timestamp(shown.ends, 'R')})", inline=False)
    if event.recurrence is not None:
        embed.add_field(name="Repeats", value=rule_in_words(event), inline=False)
    if shown.location:
        embed.add_field(name="Location", value=shown.location, inline=False)
    embed.add_field(name="Calendar", value=calendar.name)
    if event.registration_enabled and event.registration_deadline is not None:
        embed.add_field(name="Registration closes", value=timestamp(event.registration_deadline))
    if event.image and not cancelled:
        embed.set_image(url=event.image)
    embed.set_footer(text=f"Event #{event.id} · {event.timezone}")
    return embed


def _with_attendees(embed: discord.Embed, event: Event, attendees: Sequence[Attendee]) -> discord.Embed:
    """Who is going, maybe, and waiting, with as many names as the embed has room for. An event without
    registration and without answers has no list at all."""
    if not (event.registration_enabled or attendees):
        return embed
    groups = grouped(list(attendees))
    for shown in CARD_NAMES:
        card = fresh_copy(embed)
        going = groups[GOING]
        card.add_field(
            name=f"Going ({going_count(event, going)})", value=names(going, shown) or "No one yet", inline=False
        )
        if groups[MAYBE]:
            card.add_field(name=f"Maybe ({len(groups[MAYBE])})", value=names(groups[MAYBE], shown), inline=False)
        if groups[WAITLISTED]:
            waiting = groups[WAITLISTED]
            card.add_field(name=f"Waitlist ({len(waiting)})", value=names(waiting, shown), inline=False)
        if len(card) <= EMBED_TOTAL and all(len(f.value) <= FIELD_VALUE for f in card.fields):
            return card
    return card  # unreachable in practice: with no names the fields are a few dozen characters


def going_count(event: Event, going: Sequence[Attendee]) -> str:
    """`3/10` with a capacity, else `3`."""
    return f"{len(going)}/{event.capacity}" if event.capacity is not None else str(len(going))


def who(attendee: Attendee) -> str:
    """A member as a mention (embeds never ping), flagged when a reminder DM could not reach them."""
    return f"<@{attendee.user_id}>" + (f" ({DMS_CLOSED})" if attendee.dm_error else "")


def names(people: Sequence[Attendee], shown: int, *, separator: str = ", ", numbered: bool = False) -> str:
    """The first `shown` people, then "and N more"; "" for no one."""
    if not people:
        return ""
    if shown == 0:
        return f"{len(people)} member{'s' if len(people) != 1 else ''}"
    parts = [f"{n}. {who(a)}" if numbered else who(a) for n, a in enumerate(people[:shown], 1)]
    if len(people) > shown:
        parts.append(f"and {len(people) - shown} more")
    return separator.join(parts)


def attendees_embed(event: Event, calendar: Calendar, attendees: Sequence[Attendee]) -> discord.Embed:
    """/event attendees: every status with its members, the waitlist numbered in its order of service."""
    embed = discord.Embed(title=f"Attendees: {event.name}", colour=event_colour(event, calendar))
    if not event.registration_enabled:
        header = "Registration is off."
    elif event.registration_deadline is not None:
        deadline = event.registration_deadline
        header = f"Registration deadline: {timestamp(deadline)} ({timestamp(deadline, 'R')})"
    else:
        header = None
    groups = grouped(list(attendees))
    sections = (
        (f"Going ({going_count(event, groups[GOING])})", groups[GOING], False),
        (f"Maybe ({len(groups[MAYBE])})", groups[MAYBE], False),
        (f"Waitlisted ({len(groups[WAITLISTED])})", groups[WAITLISTED], True),
        (f"Not going ({len(groups[NOT_GOING])})", groups[NOT_GOING], False),
    )
    for shown in LIST_NAMES:
        lines = [header] if header else []
        for title, people, numbered in sections:
            lines.append(f"**{title}**")
            lines.append(names(people, shown, separator="\n", numbered=numbered) or "No one")
        text = "\n".join(lines)
        if len(text) <= DESCRIPTION:
            break
    embed.description = text
    footer = f"Event #{event.id}"
    if any(a.dm_error for a in attendees):
        footer += f" · {DMS_CLOSED}: reminders by DM cannot reach that member"
    embed.set_footer(text=footer)
    return embed


def event_details(
    event: Event, calendar: Calendar, attendees: Sequence[Attendee] = (), *, upcoming: Sequence[Occurrence] = ()
) -> discord.Embed:
    """The card plus what only people looking closely need: a series' next occurrences, reminders,
    registration, author."""
    embed = _card(event, calendar, upcoming[0] if upcoming else Occurrence.of(event))
    if len(upcoming) > 1:
        later = "\n".join(f"{event_when(o, short=True)}" + ("" if o.name == event.name else f" · {o.name}")
                          for o in upcoming[1:])  # fmt: skip
        embed.add_field(name="Then", value=later[:FIELD_VALUE], inline=False)
    if event.notifications_enabled and event.notifications_interval:
        reminders = " ".join(event.notifications_interval)
        channels = ", ".join(
            c if c in DELIVERED_CHANNELS else f"{c} (not delivered yet)" for c in event.notifications_channels
        )
        embed.add_field(name="Reminders", value=f"{reminders} via {channels or 'none'}", inline=False)
    else:
        embed.add_field(name="Reminders", value="off", inline=False)
    embed.add_field(name="Registration", value="open" if event.registration_enabled else "off")
    if event.author_id:
        embed.add_field(name="Created by", value=f"<@{event.author_id}>")
    return _with_attendees(embed, event, attendees)


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
