"""Recurring events in the slash commands: reading the repeat options, picking an occurrence, and
editing one occurrence or this-and-following. The rules themselves are in bot/domain/recurrence.py."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import discord
from discord import app_commands

from bot.domain.errors import InvalidField, NotFound
from bot.domain.models import Event, OccurrenceChange
from bot.domain.occurrences import Occurrence, expand, next_occurrence
from bot.domain.recurrence import Recurrence, from_options, next_occurrences, split
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
# What may differ for a single occurrence (RFC 5545 RECURRENCE-ID overrides).
PER_OCCURRENCE = ("name", "starts", "ends", "description", "location")
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


def anchored(event: Event) -> Event:
    """A series starts on its first real occurrence: "every 2nd Tuesday" typed on a 1st Tuesday begins a
    week later (dateutil does not count a start that does not fit the rule)."""
    if event.recurrence is None:
        return event
    first = next_occurrences(event.recurrence, event.starts, ZoneInfo(event.timezone), now=event.starts, n=1)
    if not first:
        raise InvalidField("repeat", "this rule has no occurrence from the start on")
    shift = first[0] - event.starts
    if not shift:
        return event
    return dataclasses.replace(event, starts=first[0], ends=event.ends and event.ends + shift)


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


def one_occurrence_change(event: Event, occurrence: Occurrence, changes: dict[str, object]) -> OccurrenceChange:
    """An edit of one occurrence, as its RECURRENCE-ID override: on top of what it already differs in (the
    occurrence carries its earlier edits), and keeping it cancelled if it was."""
    other = sorted(set(changes) - set(PER_OCCURRENCE))
    if other:
        raise InvalidField(
            "scope", f"only name, start, end, description and location can differ for one occurrence, not {other[0]}"
        )
    starts = changes.get("starts", occurrence.starts)
    if "starts" in changes and "ends" not in changes and occurrence.ends is not None:
        changes["ends"] = starts + (occurrence.ends - occurrence.starts)
    ends = changes.get("ends", occurrence.ends)
    length = (event.ends - event.starts) if event.ends else None
    return OccurrenceChange(
        guild_id=event.guild_id,
        event_id=event.id,
        occurrence=occurrence.original,
        cancelled=occurrence.cancelled,
        starts=starts if starts != occurrence.original else None,
        ends=ends if ends != (starts + length if length else None) else None,
        name=_differs(changes.get("name", occurrence.name), event.name),
        description=_differs(changes.get("description", occurrence.description), event.description),
        location=_differs(changes.get("location", occurrence.location), event.location),
    )


def _differs(value, series_value):
    """An override keeps only what differs from the series (None: as the series says)."""
    return None if value == series_value else value


def split_series(event: Event, occurrence: Occurrence) -> tuple[Event, Event]:
    """For "this and following": the series up to just before `occurrence`, and a new series from it."""
    zone = ZoneInfo(event.timezone)
    head_rule, tail_rule = split(event.recurrence, event.starts, zone, occurrence.original)
    length = event.ends - event.starts if event.ends else None
    head = dataclasses.replace(event, recurrence=head_rule)
    tail = dataclasses.replace(
        event,
        id=None,
        recurrence=tail_rule,
        starts=occurrence.original,
        ends=occurrence.original + length if length else None,
        card_channel_id=None,
        card_message_id=None,
        created_at=None,
        updated_at=None,
    )
    return head, tail
