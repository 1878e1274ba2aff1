"""Calendars, events and guild settings, with the validation rules that guard them.

Field names follow PERSCOM's event resource (seed 000); `color` and `image` are DisCal's (seed 004).
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Self

from .colors import Color
from .errors import InvalidField
from .notifications import parse_channels, parse_intervals
from .recurrence import LONGEST_SERIES, LONGEST_SERIES_YEARS, Recurrence, first_occurrence
from .timeparse import DATE_ORDERS, in_range, local_midnight, parse_clock_time, wall_to_utc
from .timezones import resolve_zone

NAME_MAX = 100  # a calendar's name; also Discord's limit for an autocomplete choice
CALENDAR_DESCRIPTION_MAX = 1000
# An event's text, as PERSCOM bounds it (its EventRequest): clients written for it send that much. Cards,
# choices and messages shorten what Discord cannot show, visibly (bot/exts/messages.py); the API and the feeds
# keep it whole. Slash command options stay within what a Discord option holds (bot/exts/events.py).
EVENT_NAME_MAX = 255
DESCRIPTION_MAX = 65535
CONTENT_MAX = 65535
LOCATION_MAX = 65535
EVENT_URL_MAX = 65535
URL_MAX = 2048  # an image's address, which Discord fetches
# A web address: http(s), a host, no spaces anywhere (the scheme in any case, as URLs allow).
WEB_ADDRESS = re.compile(r"[Hh][Tt][Tt][Pp][Ss]?://[^\s/?#]+\S*")
LONGEST_EVENT = timedelta(days=366)  # from start to end, all-day events too (366 local days)
LONGEST_REGISTRATION = timedelta(days=366)  # how long before the start registration may close
MAX_CAPACITY = 100_000


@dataclass(frozen=True, slots=True)
class GuildSettings:
    guild_id: int
    timezone: str = "UTC"
    manager_role_id: int | None = None
    organiser_role_id: int | None = None  # the guild's own id: @everyone organises (bot/domain/permissions.py)
    default_channel_id: int | None = None
    default_reminders: tuple[str, ...] = ("pt15m",)
    default_channels: tuple[str, ...] = ("discord_public",)
    date_order: str = "DMY"  # how numeric dates such as 03/04 are read
    all_day_time: str = "09:00"  # local time the reminders of all-day events are counted from

    def validated(self) -> Self:
        texts = {
            "timezone": self.timezone,
            "date_order": self.date_order,
            "all_day_time": self.all_day_time,
            "reminders": self.default_reminders,
            "channels": self.default_channels,
        }
        for name, value in texts.items():
            _refuse_controls_in(value, name)
        order = self.date_order.strip().upper()
        if order not in DATE_ORDERS:
            raise InvalidField("date_order", f"{self.date_order!r} is not one of {', '.join(DATE_ORDERS)}")
        return dataclasses.replace(
            self,
            timezone=str(resolve_zone(self.timezone)),
            default_reminders=parse_intervals(self.default_reminders),
            default_channels=parse_channels(self.default_channels),
            date_order=order,
            all_day_time=f"{parse_clock_time(self.all_day_time, 'all_day_time'):%H:%M}",
        )


@dataclass(frozen=True, slots=True)
class UserSettings:
    """A member's own settings, the same in every guild."""

    user_id: int
    timezone: str

    def validated(self) -> Self:
        _refuse_controls_in(self.timezone, "timezone")
        return dataclasses.replace(self, timezone=str(resolve_zone(self.timezone)))


@dataclass(frozen=True, slots=True)
class Calendar:
    guild_id: int
    name: str
    description: str = ""
    color: Color = Color.NONE
    channel_id: int | None = None
    ping_role_id: int | None = None  # mentioned by the calendar's public reminders
    discord_events: bool = False  # its events are mirrored into Discord's Events tab (bot/exts/native.py)
    id: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def validated(self) -> Self:
        return dataclasses.replace(
            self,
            name=_name(self.name, "name"),
            description=_text(self.description, "description", CALENDAR_DESCRIPTION_MAX),
        )


@dataclass(frozen=True, slots=True)
class Event:
    guild_id: int
    calendar_id: int
    name: str
    starts: datetime
    timezone: str = "UTC"
    ends: datetime | None = None
    # The wall time (naive, in `timezone`) the start was typed as, where `starts` shows another: 02:30 typed for a
    # spring-forward night starts at 03:30 that day, but a series repeats at 02:30 (RFC 5545 §3.3.5). None: the
    # start's own wall time. Kept only while it still names `starts` (`validated`).
    anchor: datetime | None = None
    description: str = ""
    content: str = ""
    location: str = ""
    url: str | None = None
    author_id: int | None = None
    all_day: bool = False
    repeats: bool = False  # PERSCOM's flag; kept equal to `recurrence is not None`
    recurrence: Recurrence | None = None
    registration_enabled: bool = True
    registration_deadline: datetime | None = None
    notifications_enabled: bool = True
    notifications_interval: tuple[str, ...] = field(default=("pt15m",))
    notifications_channels: tuple[str, ...] = field(default=("discord_public",))
    color: Color = Color.NONE
    image: str | None = None
    capacity: int | None = None  # beyond it, "going" means waitlisted
    card_channel_id: int | None = None
    card_message_id: int | None = None
    id: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def validated(self) -> Self:
        """The event with its text trimmed and every rule checked; raises InvalidField naming the field."""
        _instants(self, ("starts", "ends", "registration_deadline"))
        _refuse_controls_in(self.timezone, "timezone")
        zone = str(resolve_zone(self.timezone))
        starts, ends = self.starts.astimezone(UTC), self.ends and self.ends.astimezone(UTC)
        if self.all_day:
            starts, ends = all_day_bounds(starts, ends, zone)
        if ends is not None and ends <= starts:
            raise InvalidField("ends", "must be after the start")
        _refuse_too_long(starts, ends, zone if self.all_day else None)
        recurrence = self.recurrence and self.recurrence.validated()
        if recurrence is not None and recurrence.until is not None and recurrence.until < starts:
            raise InvalidField("until", "must not be before the first occurrence")
        if recurrence is not None and recurrence.until is not None and recurrence.until - starts > LONGEST_SERIES:
            raise InvalidField("until", f"must be at most {LONGEST_SERIES_YEARS} years after the start")
        if self.capacity is not None and not 1 <= self.capacity <= MAX_CAPACITY:
            raise InvalidField("capacity", f"must be from 1 to {MAX_CAPACITY} (leave it empty for no limit)")
        if self.all_day:  # a series of days repeats their midnight, also from a day that starts later (a gap)
            anchor = _anchor(datetime.combine(starts.astimezone(resolve_zone(zone)).date(), time(0)), starts, zone)
        else:
            anchor = _anchor(self.anchor, starts, zone)
        if recurrence is not None:
            starts, ends, anchor = _on_rule(recurrence, starts, ends, zone, anchor, self.all_day)
        deadline = self.registration_deadline and self.registration_deadline.astimezone(UTC)
        if deadline is not None and deadline > (ends or starts):
            raise InvalidField("registration_deadline", "must not be after the event ends")
        if deadline is not None and starts - deadline > LONGEST_REGISTRATION:
            days = LONGEST_REGISTRATION.days
            raise InvalidField("registration_deadline", f"must be at most {days} days before the start")
        return dataclasses.replace(
            self,
            name=_name(self.name, "name", EVENT_NAME_MAX),
            description=_text(self.description, "description", DESCRIPTION_MAX),
            content=_text(self.content, "content", CONTENT_MAX),
            location=_line(self.location, "location", LOCATION_MAX),
            url=_url(self.url, "url", EVENT_URL_MAX),
            image=_url(self.image, "image"),
            timezone=zone,
            starts=starts,
            ends=ends,
            anchor=anchor,
            registration_deadline=deadline,
            notifications_interval=parse_intervals(
                _refuse_controls_in(self.notifications_interval, "notifications_interval"), "notifications_interval"
            ),
            notifications_channels=parse_channels(
                _refuse_controls_in(self.notifications_channels, "notifications_channels"), "notifications_channels"
            ),
            recurrence=recurrence,
            repeats=recurrence is not None,
        )

    @property
    def effective_end(self) -> datetime:
        return self.ends or self.starts

    def ends_if_starting(self, starts: datetime) -> datetime | None:
        """Its end, were it to start at `starts` (an occurrence, a moved start): `shifted_end`."""
        return shifted_end(self.starts, self.ends, starts, self.timezone, self.all_day)


def _anchor(typed: datetime | None, starts: datetime, zone: str) -> datetime | None:
    """The wall time typed for `starts`, kept where it names `starts` but is not its own wall time (a time in a
    spring-forward gap): a stale one (the start or the zone changed since) or one the instant shows is None."""
    if typed is None:
        return None
    typed = typed.replace(tzinfo=None, fold=0)
    zone_info = resolve_zone(zone)
    if wall_to_utc(typed, zone_info) != starts or typed == starts.astimezone(zone_info).replace(tzinfo=None):
        return None
    return typed


def _on_rule(
    rule: Recurrence, starts: datetime, ends: datetime | None, zone: str, anchor: datetime | None, all_day: bool
) -> tuple[datetime, datetime | None, datetime | None]:
    """A series starts on its rule's first occurrence: "every 2nd Tuesday" typed on a 1st Tuesday begins a
    week later, and the end moves with it (an all-day one by whole local days). RFC 5545 leaves a DTSTART
    outside its RRULE undefined (calendar apps disagree on whether it is an occurrence), so no road can store
    one. Also gives the first occurrence's anchor (the wall time the rule gave it, where its instant shows
    another)."""
    first, wall = first_occurrence(rule, starts, resolve_zone(zone), anchor)  # refuses a rule that never happens
    ends = shifted_end(starts, ends, first, zone, all_day)
    return first, ends, _anchor(wall, first, zone)


def shifted_end(
    starts: datetime, ends: datetime | None, new_start: datetime, zone_name: str, all_day: bool
) -> datetime | None:
    """The end `ends` of what starts at `starts`, moved to start at `new_start`: its exact length later, or for
    an all-day event as many whole local days later (a day across a daylight saving change is 23 or 25 hours
    long). Every road that moves a start, and every occurrence of a series, ends this way."""
    if ends is None:
        return None
    if not all_day:
        return new_start + (ends - starts)
    zone = resolve_zone(zone_name)
    days = ends.astimezone(zone).date() - starts.astimezone(zone).date()
    return local_midnight(new_start.astimezone(zone).date() + days, zone)


def _instants(model: object, names: Iterable[str]) -> None:
    for name in names:
        value = getattr(model, name)
        if value is not None and value.tzinfo is None:
            raise InvalidField(name, "must carry a time zone")
        if value is not None:
            in_range(value, name)


def _refuse_too_long(starts: datetime, ends: datetime | None, all_day_zone: str | None = None) -> None:
    """An event lasts at most LONGEST_EVENT (an all-day one, as many local days): an end centuries away
    is a typo, and every read of its occurrences would have to reach back that far."""
    if ends is None:
        return
    if all_day_zone is not None:
        zone = resolve_zone(all_day_zone)
        days = (ends.astimezone(zone).date() - starts.astimezone(zone).date()).days
        if days > LONGEST_EVENT.days:
            raise InvalidField("ends", f"an all-day event lasts at most {LONGEST_EVENT.days} days")
    elif ends - starts > LONGEST_EVENT:
        raise InvalidField("ends", f"must be at most {LONGEST_EVENT.days} days after the start")


def all_day_bounds(starts: datetime, ends: datetime | None, zone_name: str) -> tuple[datetime, datetime]:
    """An all-day event covers whole local days: from midnight of its first day to the midnight that
    ends its last day (exclusive, as RFC 5545's DTEND of a date).

    Instants inside a day are snapped outwards to that day's midnights, so applying this twice changes
    nothing; no `ends` means one day.
    """
    zone = resolve_zone(zone_name)
    first = starts.astimezone(zone).date()
    if ends is None:
        after_last = first + timedelta(days=1)
    else:
        local_end = ends.astimezone(zone)
        # Compare with the day's first instant, not 00:00: where a DST change skips midnight
        # (Africa/Cairo, America/Santiago...) the day starts at 01:00.
        starts_day = ends == local_midnight(local_end.date(), zone)
        after_last = local_end.date() + timedelta(days=0 if starts_day else 1)
        if after_last <= first:
            raise InvalidField("ends", "must be after the start day")
    return local_midnight(first, zone), local_midnight(after_last, zone)


# Control characters (Unicode Cc: C0, DEL, C1) have no place in text people read, and PostgreSQL refuses NUL in
# text; a lone surrogate (from JSON's "\ud800") is no character at all and cannot be encoded. Tab and line
# breaks are text in the multi-line fields; in one-line fields (names, location) they become spaces.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_CONTROL_BUT_BREAKS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# Characters that show nothing on their own: spaces, format characters (zero-width space and joiners, BOM,
# word joiner, bidi marks), combining marks, and the letters and symbols used as invisible names.
_UNSEEN_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Mn", "Mc", "Me"})
_UNSEEN = frozenset("\u115f\u1160\u3164\uffa0\u2800")  # Hangul fillers, blank Braille pattern


def _refuse_controls(value: str, field_name: str, pattern: re.Pattern[str] = _CONTROL) -> str:
    found = pattern.search(value)
    if found:
        char = found.group()
        kind = "an unpaired surrogate" if 0xD800 <= ord(char) <= 0xDFFF else "a control character"
        raise InvalidField(field_name, f"contains {kind} (U+{ord(char):04X})")
    return value


def _refuse_controls_in(value: object, field_name: str) -> object:
    """The string `value` (or each string in it) without control characters; anything else as it is."""
    for item in [value] if isinstance(value, str) else value if isinstance(value, list | tuple) else []:
        if isinstance(item, str):
            _refuse_controls(item, field_name)
    return value


def _visible(char: str) -> bool:
    return char not in _UNSEEN and unicodedata.category(char) not in _UNSEEN_CATEGORIES


def _within(value: str | None, field_name: str, limit: int) -> str:
    """The text as sent, within `limit` characters: the limit counts what was sent, before any cleaning, as
    the OpenAPI document's maxLength and a slash option's max_length count it."""
    if len(value or "") > limit:
        raise InvalidField(field_name, f"is {len(value)} characters long; the limit is {limit}")
    return value or ""


def _line(value: str | None, field_name: str, limit: int) -> str:
    """One line of text: tabs and line breaks become spaces, runs of spaces one."""
    _refuse_controls(_within(value, field_name, limit), field_name, _CONTROL_BUT_BREAKS)
    return " ".join((value or "").split())


def _name(value: str, field_name: str, limit: int = NAME_MAX) -> str:
    cleaned = _line(value, field_name, limit)
    if not cleaned:
        raise InvalidField(field_name, "must not be empty")
    if not any(_visible(char) for char in cleaned):
        raise InvalidField(field_name, "must contain a visible character")
    return cleaned


def _text(value: str | None, field_name: str, limit: int) -> str:
    """Text of several lines: trimmed; tabs and line breaks kept."""
    return _refuse_controls(_within(value, field_name, limit).strip(), field_name, _CONTROL_BUT_BREAKS)


def _url(value: str | None, field_name: str, limit: int = URL_MAX) -> str | None:
    """A web address, trimmed (empty: none); the OpenAPI document states WEB_ADDRESS as its pattern."""
    text = _refuse_controls(_within(value, field_name, limit), field_name).strip()
    if not text:
        return None
    if not WEB_ADDRESS.fullmatch(text):
        raise InvalidField(field_name, f"{text[:60]!r} is not a web address (it must start with https://)")
    return text


@dataclass(frozen=True, slots=True)
class OccurrenceChange:
    """One occurrence of a series moved, edited or cancelled (RFC 5545's RECURRENCE-ID and EXDATE).
    `occurrence` is the start the series gave it: its key, also for RSVPs."""

    guild_id: int
    event_id: int
    occurrence: datetime
    cancelled: bool = False
    starts: datetime | None = None
    ends: datetime | None = None
    name: str | None = None
    description: str | None = None
    location: str | None = None

    def validated(self) -> Self:
        _instants(self, ("occurrence", "starts", "ends"))
        starts = self.starts or self.occurrence
        if self.ends and self.ends <= starts:
            raise InvalidField("ends", "must be after the start")
        _refuse_too_long(starts, self.ends)
        return dataclasses.replace(
            self,
            name=None if self.name is None else _name(self.name, "name", EVENT_NAME_MAX),
            description=None if self.description is None else _text(self.description, "description", DESCRIPTION_MAX),
            location=None if self.location is None else _line(self.location, "location", LOCATION_MAX),
        )


def card_link(event: Event) -> str | None:
    """The link to an event's card in Discord, once it has one."""
    if event.card_message_id is None:
        return None
    return f"https://discord.com/channels/{event.guild_id}/{event.card_channel_id}/{event.card_message_id}"
