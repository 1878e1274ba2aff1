"""calbot's events as Discord's own guild scheduled events (the Events tab), and back. Pure.

Each mirrored event is one scheduled event: a one-off event as itself; a series by Discord's own
`recurrence_rule` when its rule is one Discord can say (`discord_rule`), else occurrence by occurrence within
a look-ahead window. Discord holds at most NATIVE_CAP scheduled events per guild: the nearest are kept
(`nearest`), and what is left out is counted per calendar for /calendar show.

calbot writes a marker into every description it sends (`marker`): after a crash between Discord's answer
and storing the new scheduled event's id, the next pass finds it by listing the guild's scheduled events
(`read_marker`) and takes it over instead of creating a second one.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from dateutil import rrule as _rrule

from .errors import InvalidField
from .models import Event, OccurrenceChange
from .occurrences import Occurrence, expand, next_occurrence, series_starts
from .rsvp import ONE_OFF

NATIVE_CAP = 100  # scheduled events Discord allows a guild
NAME_MAX, DESCRIPTION_MAX, LOCATION_MAX = 100, 1000, 100  # Discord's limits on those fields
DEFAULT_LENGTH = timedelta(hours=1)  # an EXTERNAL scheduled event needs an end: an event without one gets this
WINDOW_DAYS, WINDOW_MAX_DAYS = 7, 60  # look-ahead of series mirrored occurrence by occurrence
STAGE, VOICE, EXTERNAL = 1, 2, 3  # Discord's entity types
SCHEDULED, ACTIVE, COMPLETED, CANCELED = 1, 2, 3, 4  # Discord's statuses
_CHECKED = timedelta(days=366)  # a rule "fits" when Discord's expansion equals ours over this span
_CHECKED_MAX = 400  # ...or over this many occurrences, whichever comes first
_MARKER = re.compile(r"calbot event #(\d+)(?:/(\d+))?")
_CHANNEL = re.compile(r"^\s*<#(\d{15,21})>\s*$")
# Discord's weekdays are 0 = Monday; its DAILY rule takes only these sets of days (or every day).
_DAILY_SETS = ({0, 1, 2, 3, 4}, {1, 2, 3, 4, 5}, {6, 0, 1, 2, 3}, {4, 5}, {5, 6}, {6, 0})
_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_FREQUENCY = {"YEARLY": 0, "MONTHLY": 1, "WEEKLY": 2, "DAILY": 3}


def window_days(value: int) -> int:
    """A look-ahead window in days, validated."""
    if not 1 <= value <= WINDOW_MAX_DAYS:
        raise InvalidField("window", f"must be a whole number of days from 1 to {WINDOW_MAX_DAYS}")
    return value


def marker(event_id: int, key: int) -> str:
    """What calbot writes into a scheduled event's description to know it as its own."""
    return f"calbot event #{event_id}" if key == ONE_OFF else f"calbot event #{event_id}/{key}"


def read_marker(description: str | None) -> tuple[int, int] | None:
    """(event id, occurrence key) of the last marker in `description`, if any."""
    found = _MARKER.findall(description or "")
    if not found:
        return None
    event_id, key = found[-1]
    return int(event_id), int(key or ONE_OFF)


def named_channel(location: str) -> int | None:
    """The channel a location names as a mention (`<#id>`): a voice or stage channel makes a voice event."""
    found = _CHANNEL.match(location or "")
    return int(found.group(1)) if found else None


def _iso(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat()


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True, slots=True)
class Mirror:
    """One scheduled event calbot wants in the tab: a one-off event, a whole series (with a rule) or one
    occurrence."""

    event_id: int
    key: int  # ONE_OFF for a one-off event or a series mirrored by its rule; else the occurrence's key
    calendar_id: int
    starts: datetime
    ends: datetime
    name: str
    description: str
    location: str
    image: str | None = None
    rule: dict[str, Any] | None = None  # Discord's recurrence_rule, less its start

    def payload(self, channel: tuple[int, int] | None, link: str | None, *, marked: bool = True) -> dict[str, Any]:
        """The body for Discord. `channel`: (entity type, id) of the voice or stage channel the event names.
        Not `marked`: a member's own scheduled event (imported), which keeps its description as it is."""
        footer = "\n".join([*([link] if link else []), marker(self.event_id, self.key)]) if marked else ""
        room = DESCRIPTION_MAX - len(footer) - 2
        text = _cut(self.description.strip(), room) if marked else _cut(self.description, DESCRIPTION_MAX)
        body: dict[str, Any] = {
            "name": _cut(self.name, NAME_MAX),
            "description": "\n\n".join(part for part in (text, footer) if part) if marked else text,
            "scheduled_start_time": _iso(self.starts),
            "scheduled_end_time": _iso(self.ends),
            "privacy_level": 2,  # GUILD_ONLY, the only one there is
        }
        if channel is not None:
            body["entity_type"], body["channel_id"] = channel[0], str(channel[1])
            body["entity_metadata"] = None
        else:
            body["entity_type"], body["channel_id"] = EXTERNAL, None
            body["entity_metadata"] = {"location": _cut(self.location or "Discord", LOCATION_MAX)}
        if self.rule is not None:
            body["recurrence_rule"] = {**self.rule, "start": _iso(self.starts)}
        return body


def differs(native: Native, body: dict[str, Any]) -> bool:
    """Whether the scheduled event Discord holds says something else than `body` (calbot's version, which
    wins: an edit made to it in the tab is put back). A series mirrored by its rule: Discord moves its start
    to the next occurrence itself, as calbot does."""
    location = (body.get("entity_metadata") or {}).get("location") or ""
    channel = int(body["channel_id"]) if body.get("channel_id") else None
    ends = _instant(body["scheduled_end_time"])
    return (  # texts compared as Discord may keep them: without surrounding blanks
        native.name.strip() != body["name"].strip()
        or native.description.strip() != body["description"].strip()
        or native.starts != _instant(body["scheduled_start_time"])
        or (native.ends is not None and native.ends != ends)
        or native.entity_type != body["entity_type"]
        or native.location != location
        or native.channel_id != channel
        or native.rule != body.get("recurrence_rule")
    )


def discord_rule(event: Event, changes: Iterable[OccurrenceChange], now: datetime) -> dict[str, Any] | None:
    """Discord's recurrence_rule (less its start) for a series, when Discord can say it; else None.

    Discord's subset: DAILY on every day or one of a few sets of days; WEEKLY on one day, every week or every
    other; MONTHLY on one nth weekday; YEARLY on one date; no end, no count, no exceptions. Discord repeats in
    UTC, so the rule fits only if its expansion in UTC equals the series' own (a series on local time across a
    daylight saving change does not). A series with changed or cancelled occurrences is mirrored occurrence
    by occurrence, since Discord's rule cannot skip or alter one."""
    rule = event.recurrence
    if rule is None or rule.count is not None or rule.until is not None or rule.by_set_position:
        return None
    if any(c.occurrence >= now or (c.starts is not None and c.starts >= now) for c in changes):
        return None
    following = next_occurrence(event, [], now)
    if following is None:
        return None
    start = following.starts.astimezone(UTC)
    days = [d for d in rule.by_day if d in _DAYS]  # plain weekdays; "2TU" and the like are nth weekdays
    nth = [d for d in rule.by_day if d not in _DAYS]
    shape: dict[str, Any] = {"frequency": _FREQUENCY[rule.frequency], "interval": rule.interval}
    weekdays = sorted(_DAYS.index(d) for d in days)
    if rule.frequency == "DAILY" and rule.interval == 1 and not nth and not rule.by_month and not rule.by_month_day:
        if days and set(weekdays) not in _DAILY_SETS:
            return None
        if weekdays:
            shape["by_weekday"] = weekdays
    elif rule.frequency == "WEEKLY" and rule.interval in (1, 2) and not nth and not rule.by_month:
        if rule.by_month_day or len(weekdays) > 1 or (rule.interval == 2 and rule.week_start != "MO"):
            return None
        shape["by_weekday"] = weekdays or [start.weekday()]
    elif rule.frequency == "MONTHLY" and rule.interval == 1 and len(nth) == 1 and not days:
        if rule.by_month or rule.by_month_day:
            return None
        n, day = int(nth[0][:-2]), nth[0][-2:]
        if not 1 <= n <= 5:
            return None
        shape["by_n_weekday"] = [{"n": n, "day": _DAYS.index(day)}]
    elif rule.frequency == "YEARLY" and rule.interval == 1 and not rule.by_day:
        months, month_days = rule.by_month or (start.month,), rule.by_month_day or (start.day,)
        if len(months) != 1 or len(month_days) != 1 or month_days[0] < 1:
            return None
        shape["by_month"], shape["by_month_day"] = list(months), list(month_days)
    else:
        return None
    ours = series_starts(event, after=start, before=start + _CHECKED, limit=_CHECKED_MAX)
    theirs = discord_starts(shape, start, len(ours))
    return shape if ours == theirs else None


def discord_starts(rule: dict[str, Any], start: datetime, limit: int) -> list[datetime]:
    """The first `limit` starts Discord's recurrence_rule gives from `start` (in UTC, as Discord repeats)."""
    options: dict[str, Any] = {"interval": rule["interval"], "dtstart": start, "count": limit}
    if rule.get("by_weekday"):
        options["byweekday"] = rule["by_weekday"]
    if rule.get("by_n_weekday"):
        options["byweekday"] = [_rrule.weekday(e["day"], e["n"]) for e in rule["by_n_weekday"]]
    if rule.get("by_month"):
        options["bymonth"] = rule["by_month"]
    if rule.get("by_month_day"):
        options["bymonthday"] = rule["by_month_day"]
    frequency = (_rrule.YEARLY, _rrule.MONTHLY, _rrule.WEEKLY, _rrule.DAILY)[rule["frequency"]]
    return list(_rrule.rrule(frequency, **options))


def _mirror(occurrence: Occurrence, key: int, rule: dict[str, Any] | None = None) -> Mirror:
    event = occurrence.event
    ends = occurrence.ends if occurrence.ends and occurrence.ends > occurrence.starts else None
    return Mirror(
        event_id=event.id,
        key=key,
        calendar_id=event.calendar_id,
        starts=occurrence.starts,
        ends=ends or occurrence.starts + DEFAULT_LENGTH,
        name=occurrence.name,
        description=occurrence.description,
        location=occurrence.location,
        image=event.image,
        rule=rule,
    )


def mirrors(event: Event, changes: list[OccurrenceChange], now: datetime, window: timedelta) -> list[Mirror]:
    """What of `event` belongs in the tab from `now` on: itself, its series as one rule, or its occurrences
    (not cancelled) that start within `window`. Nothing that has ended."""
    if event.recurrence is None:
        occurrence = Occurrence.of(event)
        mirror = _mirror(occurrence, ONE_OFF)
        return [mirror] if mirror.ends > now else []
    rule = discord_rule(event, changes, now)
    if rule is not None:
        following = next_occurrence(event, changes, now)
        return [_mirror(following, ONE_OFF, rule)] if following is not None else []
    found = expand(event, changes, after=now, before=now + window, limit=NATIVE_CAP)
    return [_mirror(o, o.key) for o in found]


def enters(event: Event, changes: list[OccurrenceChange], now: datetime, window: timedelta) -> datetime | None:
    """When the next occurrence of a series mirrored occurrence by occurrence comes into the window (the
    window rolls on then); None for anything else."""
    if event.recurrence is None or discord_rule(event, changes, now) is not None:
        return None
    edge = now + window
    later = expand(event, changes, after=edge, before=edge + timedelta(days=366 * 5), limit=2)
    # A second after it is at the window's edge: the window is [now, now + window).
    return next((o.starts - window + timedelta(seconds=1) for o in later if o.starts >= edge), None)


def nearest(wanted: list[Mirror], room: int) -> tuple[list[Mirror], dict[int, int]]:
    """The `room` nearest of `wanted`, and how many were left out, per calendar."""
    ordered = sorted(wanted, key=lambda m: (m.starts, m.event_id, m.key))
    left_out: dict[int, int] = {}
    for mirror in ordered[max(room, 0) :]:
        left_out[mirror.calendar_id] = left_out.get(mirror.calendar_id, 0) + 1
    return ordered[: max(room, 0)], left_out


@dataclass(frozen=True, slots=True)
class Native:
    """A guild scheduled event as Discord describes it (the part calbot reads)."""

    id: int
    creator_id: int | None
    name: str
    description: str
    starts: datetime
    ends: datetime | None
    status: int
    location: str
    channel_id: int | None
    entity_type: int = EXTERNAL
    rule: dict[str, Any] | None = None  # Discord's recurrence_rule as calbot wrote it (read back), if any

    @classmethod
    def of(cls, data: dict[str, Any]) -> Native:
        metadata = data.get("entity_metadata") or {}
        return cls(
            id=int(data["id"]),
            creator_id=int(data["creator_id"]) if data.get("creator_id") else None,
            name=data.get("name") or "",
            description=data.get("description") or "",
            starts=_instant(data["scheduled_start_time"]),
            ends=_instant(data["scheduled_end_time"]) if data.get("scheduled_end_time") else None,
            status=int(data.get("status") or SCHEDULED),
            location=metadata.get("location") or "",
            channel_id=int(data["channel_id"]) if data.get("channel_id") else None,
            entity_type=int(data.get("entity_type") or EXTERNAL),
            rule=_rule_read(data.get("recurrence_rule")),
        )

    def fingerprint(self) -> str:
        """What a member may change in the tab, digested: a change since calbot last saw it is theirs."""
        seen = (self.name, self.description, self.starts.isoformat(), self.ends.isoformat() if self.ends else None,
                self.location, self.channel_id, self.status)  # fmt: skip
        return hashlib.sha256(repr(seen).encode()).hexdigest()[:32]

    @property
    def live(self) -> bool:
        """Scheduled or running: it takes a place under the cap."""
        return self.status in (SCHEDULED, ACTIVE)

    def as_changes(self) -> dict[str, Any]:
        """The fields of a calbot event it sets (mirror in)."""
        location = self.location or (f"<#{self.channel_id}>" if self.channel_id else "")
        return {
            "name": self.name,
            "description": self.description,
            "starts": self.starts,
            "ends": self.ends,
            "location": location,
        }


def _rule_read(rule: dict[str, Any] | None) -> dict[str, Any] | None:
    """A recurrence_rule as Discord answers it, in the shape calbot writes (its start as calbot's ISO text)."""
    if not rule:
        return None
    kept = {k: rule.get(k) for k in ("frequency", "interval", "by_weekday", "by_n_weekday", "by_month", "by_month_day")}
    kept = {k: v for k, v in kept.items() if v is not None and v != []}
    if rule.get("start"):
        kept["start"] = _iso(_instant(rule["start"]))
    return kept


def _instant(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
