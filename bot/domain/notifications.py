"""Reminder intervals and notification channels, as PERSCOM names them."""

from __future__ import annotations

import re
from collections.abc import Iterable

from .errors import InvalidField
from .reminders import ReminderPrefs, parse_interval

# PERSCOM's codes, from the latest reminder (at the start) to the earliest.
INTERVALS: tuple[str, ...] = ("pt0m", "pt15m", "pt1h", "p1d", "p1w")

CHANNELS: tuple[str, ...] = ("broadcast", "database", "discord_private", "discord_public", "mail", "sms")

# Short names the slash commands offer for the two Discord channels.
CHANNEL_ALIASES: dict[str, tuple[str, ...]] = {
    "public": ("discord_public",),
    "private": ("discord_private",),
    "both": ("discord_public", "discord_private"),
}

# How each channel reads in a reply.
CHANNEL_WORDS: dict[str, str] = {
    "discord_public": "in the event's channel",
    "discord_private": "by DM to those going",
    "database": "kept for the API",
    "broadcast": "to the server's webhooks",
    "mail": "by email",
    "sms": "by SMS",
}

_SEPARATORS = re.compile(r"[\s,;]+")
# One item of a typed list: an everyday duration whose parts are not spaced apart ("90 minutes", "2h30m",
# "1 hour and 30 minutes") or any other word; spaces and commas separate items ("15m 1d" is two reminders).
_PART = r"\d+(?:\.\d+)?\s?[a-z]+"
_ITEM = re.compile(rf"{_PART}(?:(?:\s+and\s+)?{_PART})*|[^\s,;]+")
MAX_ITEMS = 50  # reminder intervals or channels in one list


def _split(text: str | Iterable[str], field: str) -> list[str]:
    items = _SEPARATORS.split(text) if isinstance(text, str) else list(text)
    if len(items) > MAX_ITEMS:  # checked before each item is read: a huge list costs nothing
        raise InvalidField(field, f"lists {len(items)} values; give at most {MAX_ITEMS}")
    return [item.strip().lower() for item in items if item and item.strip()]


def parse_intervals(value: str | Iterable[str], field: str = "reminders") -> tuple[str, ...]:
    """`"pt15m p1d"` or `["PT15M", "P1D"]` → `("pt15m", "p1d")`: canonical codes, shortest first, without
    repeats. Besides PERSCOM's codes, any ISO 8601 duration up to four weeks (PT30M, P2D) is accepted.

    `none` (or an empty value) means no reminders.
    """
    if isinstance(value, str):
        value = re.sub(r"\b(?:an?|one)\s+(?=[a-z])", "1 ", value.lower())
        value = _ITEM.findall(re.sub(r"\b(?:at\s+)?(?:the\s+)?start\b", "0m", value))
    items = _split(value, field)
    if items == ["none"]:
        return ()
    intervals = sorted({parse_interval(item, field) for item in items})
    return tuple(interval.code for interval in intervals)


def parse_channels(value: str | Iterable[str], field: str = "channels") -> tuple[str, ...]:
    """Channel names or the aliases public/private/both → canonical names, in CHANNELS order."""
    chosen: set[str] = set()
    for item in _split(value, field):
        if item in CHANNEL_ALIASES:
            chosen.update(CHANNEL_ALIASES[item])
        elif item in CHANNELS:
            chosen.add(item)
        else:
            options = ", ".join([*CHANNEL_ALIASES, *CHANNELS])
            raise InvalidField(field, f"unknown channel {item!r}; use one of {options}")
    return tuple(c for c in CHANNELS if c in chosen)


# What `/me reminders` accepts for the channels that reach one member.
PRIVATE_ALIASES: dict[str, str] = {
    "dm": "discord_private", "private": "discord_private", "discord_private": "discord_private",
    "mail": "mail", "email": "mail", "sms": "sms", "text": "sms",
}  # fmt: skip


def parse_private_channels(value: str | Iterable[str], field: str = "channels") -> tuple[str, ...]:
    """`"dm mail"` → `("discord_private", "mail")`: the channels that reach one member, in CHANNELS order."""
    chosen = set()
    for item in _split(value, field):
        if item not in PRIVATE_ALIASES:
            raise InvalidField(field, f"unknown channel {item!r}; use dm, mail or sms")
        chosen.add(PRIVATE_ALIASES[item])
    if not chosen:
        raise InvalidField(field, "name at least one of dm, mail or sms")
    return tuple(c for c in CHANNELS if c in chosen)


def intervals_in_words(intervals: Iterable[str]) -> str:
    """`("pt15m", "p1d")` → `15 minutes before, 1 day before`; `none` for none."""
    return ", ".join(parse_interval(code).words for code in intervals) or "none"


def channels_in_words(channels: Iterable[str]) -> str:
    """`("discord_public", "mail")` → `in the event's channel, by email`."""
    return ", ".join(CHANNEL_WORDS[c] for c in channels) or "nowhere"


def reminders_in_words(intervals: Iterable[str], channels: Iterable[str]) -> str:
    """`15 minutes before, 1 day before · in the event's channel`."""
    intervals = tuple(intervals)
    if not intervals:
        return "none"
    return f"{intervals_in_words(intervals)} · {channels_in_words(channels)}"


def prefs_in_words(prefs: ReminderPrefs | None) -> str:
    """A member's own private reminders: `1 day before, 1 hour before · by DM, by email`."""
    if prefs is None:
        return "each event's own"
    if prefs.off:
        return "off: no reminders by DM, mail or SMS"
    when = "each event's intervals" if prefs.intervals is None else intervals_in_words(prefs.intervals)
    where = (
        "each event's private channels"
        if prefs.channels is None
        else ", ".join(
            "by DM" if channel == "discord_private" else CHANNEL_WORDS[channel] for channel in prefs.channels
        )
    )
    return f"{when} · {where}"
