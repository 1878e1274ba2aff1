"""Recurring events in the slash commands: reading the repeat options and picking an occurrence. The
rules themselves are in bot/domain/recurrence.py, and what an edit of one occurrence or of this and the
following ones means in bot/domain/edits.py."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import discord
from discord import app_commands

from bot.domain.errors import InvalidField, NotFound
from bot.domain.models import Event
from bot.domain.occurrences import Occurrence, expand, next_occurrence
from bot.domain.recurrence import Recurrence, from_options
from bot.domain.timeparse import local_midnight

from .common import AUTOCOMPLETE_LIMIT, CHOICE_NAME_MAX, calbot, read_time

if TYPE_CHECKING:
    from bot.app import CalBot

REPEAT_CHOICES = [
    app_commands.Choice(name=label, value=value)
    for label, value in (("daily", "daily"), ("weekly", "weekly"), ("monthly", "monthly"), ("yearly", "yearly"))
]
SCOPES = ("this", "following", "all")
SCOPE_CHOICES = [
    app_commands.Choice(name="this occurrence only", value="this"),
    app_commands.Choice(name="this and the following occurrences", value="following"),
    app_commands.Choice(name="the whole series", value="all"),
]
SERIES_OPTIONS = dict(
    repeat="Repeat daily, weekly, monthly or yearly, or an RFC 5545 RRULE such as FREQ=WEEKLY;BYDAY=TU,TH",
    every="Repeat every N days / weeks / months / years (default 1)",
    count="How many times in all",
    until="The last day it may happen on",
    on="Which days: tue,thu · 2tu (2nd Tuesday) · -1fr (last Friday) · 1,15 (days of the month)",
    timezone="The event's own time zone (default: the server's); a series keeps its local time in it",
)


async def read_rule(
    interaction: discord.Interaction,
    repeat: str | None,
    *,
    every: int | None,
    count: int | None,
    until: str | None,
    on: str | None,
    zone: str,
) -> Recurrence | None:
    """The rule the options describe, or None without `repeat` (the others then make no sense)."""
    if repeat is None:
        if any(v is not None for v in (every, count, until, on)):
            raise InvalidField("repeat", "every, count, until and on go with repeat")
        return None
    last = None
    if until is not None:
        # "until 2026-06-30" includes that whole day, in the event's zone
        day = (await read_time(interaction, until, "until", require_time=False, zone=zone)).astimezone(ZoneInfo(zone))
        last = local_midnight(day.date() + timedelta(days=1), ZoneInfo(zone)) - timedelta(seconds=1)
    return from_options(repeat, every=every, count=count, until=last, on=on)


async def occurrence_of(bot: CalBot, event: Event, key_text: str | None) -> Occurrence:
    """The occurrence a member picked (its key from autocomplete), or the next one."""
    if event.recurrence is None:
        raise InvalidField("occurrence", "this event does not repeat")
    if key_text is None:
        changes = (await bot.store.changes.for_events(event.guild_id, [event.id]))[event.id]
        found = next_occurrence(event, changes, bot.now())
        if found is None:
            raise InvalidField("occurrence", "this series has no occurrence left")
        return found
    key = key_text.strip()
    if not (key.isascii() and key.isdigit()):
        raise InvalidField("occurrence", f"{key[:40]!r} is not an occurrence; pick one from the list")
    try:
        return await bot.store.events.occurrence(event.guild_id, event.id, int(key))
    except (NotFound, OverflowError, ValueError):
        raise InvalidField("occurrence", "that is not an occurrence of this event; pick one from the list") from None


async def occurrence_choices(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    """The picked event's next occurrences (value: the occurrence key)."""
    bot = calbot(interaction)
    ref = getattr(interaction.namespace, "event", None)
    if not ref:
        return []
    try:
        event = await bot.store.events.find(interaction.guild_id, str(ref), bot.now())
    except (NotFound, InvalidField):
        return []
    if event.recurrence is None:
        return []
    changes = (await bot.store.changes.for_events(event.guild_id, [event.id]))[event.id]
    now = bot.now()
    upcoming = expand(event, changes, after=now, before=now + timedelta(days=366 * 2), include_cancelled=True,
                      limit=AUTOCOMPLETE_LIMIT * 4)  # fmt: skip
    zone = ZoneInfo(event.timezone)
    choices = []
    for o in upcoming:
        label = f"{o.starts.astimezone(zone):%a %d %b %Y %H:%M}" + (" (cancelled)" if o.cancelled else "")
        if o.name != event.name:
            label += f" · {o.name}"
        if current.strip().casefold() in label.casefold():
            choices.append(app_commands.Choice(name=label[:CHOICE_NAME_MAX], value=str(o.key)))
    return choices[:AUTOCOMPLETE_LIMIT]
