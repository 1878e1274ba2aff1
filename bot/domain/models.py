"""Calendars, events and guild settings, with the validation rules that guard them.

Field names follow PERSCOM's event resource (seed 000); `color` and `image` are DisCal's (seed 004).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Self
from urllib.parse import urlsplit

from .colors import Color
from .errors import InvalidField
from .notifications import parse_channels, parse_intervals
from .recurrence import Recurrence, next_occurrences
from .timeparse import DATE_ORDERS, in_range, local_midnight, parse_clock_time
from .timezones import resolve_zone

NAME_MAX = 100  # also Discord's limit for an autocomplete choice
CALENDAR_DESCRIPTION_MAX = 1000
DESCRIPTION_MAX = 4000  # an embed description holds 4096
CONTENT_MAX = 10000
LOCATION_MAX = 1024  # an embed field value
URL_MAX = 2048


@dataclass(frozen=True, slots=True)
class GuildSettings:
    guild_id: int
    timezone: str = "UTC"
    manager_role_id: int | None = None
    default_channel_id: int | None = None
    default_reminders: tuple[str, ...] = ("pt15m",)
    default_channels: tuple[str, ...] = ("discord_public",)
    date_order: str = "DMY"  # how numeric dates such as 03/04 are read
    all_day_time: str = "09:00"  # local time the reminders of all-day events are counted from

    def validated(self) -> Self:
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
        return dataclasses.replace(self, timezone=str(resolve_zone(self.timezone)))


@dataclass(frozen=True, slots=True)
class Calendar:
    guild_id: int
    name: str
    description: str = ""
    color: Color = Color.NONE
    channel_id: int | None = None
    ping_role_id: int | None = None  # mentioned by the calendar's public reminders
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
        for name in ("starts", "ends", "registration_deadline"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise InvalidField(name, "must carry a time zone")
            if value is not None:
                in_range(value, name)
        zone = str(resolve_zone(self.timezone))
        starts, ends = self.starts.astimezone(UTC), self.ends and self.ends.astimezone(UTC)
        if self.all_day:
            starts, ends = all_day_bounds(starts, ends, zone)
        if ends is not None and ends <= starts:
            raise InvalidField("ends", "must be after the start")
        recurrence = self.recurrence and self.recurrence.validated()
        if recurrence is not None and recurrence.until is not None and recurrence.until < starts:
            raise InvalidField("until", "must not be before the first occurrence")
        if self.capacity is not None and self.capacity < 1:
            raise InvalidField("capacity", "must be at least 1 (leave it empty for no limit)")
        if recurrence is not None:
            starts, ends = _on_rule(recurrence, starts, ends, zone)
        deadline = self.registration_deadline and self.registration_deadline.astimezone(UTC)
        if deadline is not None and deadline > (ends or starts):
            raise InvalidField("registration_deadline", "must not be after the event ends")
        return dataclasses.replace(
            self,
            name=_name(self.name, "name"),
            description=_text(self.description, "description", DESCRIPTION_MAX),
            content=_text(self.content, "content", CONTENT_MAX),
            location=_text(self.location, "location", LOCATION_MAX),
            url=_url(self.url, "url"),
            image=_url(self.image, "image"),
            timezone=zone,
            starts=starts,
            ends=ends,
            registration_deadline=deadline,
            notifications_interval=parse_intervals(self.notifications_interval, "notifications_interval"),
            notifications_channels=parse_channels(self.notifications_channels, "notifications_channels"),
            recurrence=recurrence,
            repeats=recurrence is not None,
        )

    @property
    def effective_end(self) -> datetime:
        return self.ends or self.starts


def _on_rule(rule: Recurrence, starts: datetime, ends: datetime | None, zone: str) -> tuple[datetime, datetime | None]:
    """A series starts on its rule's first occurrence: "every 2nd Tuesday" typed on a 1st Tuesday begins a
    week later, and the end moves with it. RFC 5545 leaves a DTSTART outside its RRULE undefined (calendar
    apps disagree on whether it is an occurrence), so no road can store one."""
    first = next_occurrences(rule, starts, resolve_zone(zone), now=starts, n=1)
    if not first:
        raise InvalidField("repeat", "this rule has no occurrence from the start on")
    shift = first[0] - starts
    return first[0], ends and ends + shift


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


def _name(value: str, field_name: str) -> str:
    cleaned = " ".join((value or "").split())
    if not cleaned:
        raise InvalidField(field_name, "must not be empty")
    if len(cleaned) > NAME_MAX:
        raise InvalidField(field_name, f"is {len(cleaned)} characters long; the limit is {NAME_MAX}")
    return cleaned


def _text(value: str | None, field_name: str, limit: int) -> str:
    cleaned = (value or "").strip()
    if len(cleaned) > limit:
        raise InvalidField(field_name, f"is {len(cleaned)} characters long; the limit is {limit}")
    return cleaned


def _url(value: str | None, field_name: str) -> str | None:
    cleaned = (value or "").strip()
    if not cleaned:
        return None
    parts = urlsplit(cleaned)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in cleaned):
        raise InvalidField(field_name, f"{cleaned!r} is not a web address (it must start with https://)")
    if len(cleaned) > URL_MAX:
        raise InvalidField(field_name, f"is longer than {URL_MAX} characters")
    return cleaned


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
        for name in ("occurrence", "starts", "ends"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise InvalidField(name, "must carry a time zone")
        if self.starts and self.ends and self.ends <= self.starts:
            raise InvalidField("ends", "must be after the start")
        return dataclasses.replace(
            self,
            name=None if self.name is None else _name(self.name, "name"),
            description=None if self.description is None else _text(self.description, "description", DESCRIPTION_MAX),
            location=None if self.location is None else _text(self.location, "location", LOCATION_MAX),
        )
