"""An outside iCalendar feed (Google, Outlook, Apple, Nextcloud...) read into calbot events: the mirror of
bot/domain/ical.py, which writes calbot's own feeds. Pure: the poller (bot/reminders/feeds.py) fetches the
body and the store (bot/storage/subscriptions.py) writes what this returns, through the events' one road.

- Each VEVENT becomes one event, keyed by its UID. Its RRULE becomes the event's rule (calbot's engine
  expands it, so lists and reminders agree with every other event); EXDATEs and RECURRENCE-ID overrides
  become one-occurrence changes (cancellations and moves or edits); an RDATE, and a DTSTART the rule does
  not give (RFC 5545 counts it as the first occurrence), become one-off events keyed by UID and date.
- TZIDs resolve to IANA zones: an IANA name, a Windows name (Outlook) through icalendar's CLDR table, a
  VTIMEZONE whose TZID icalendar recognises; floating times are in X-WR-TIMEZONE, else the guild's zone.
- All-day events (DATE values) stay all-day. `STATUS:CANCELLED` leaves the event (or occurrence) out.
- A VEVENT calbot cannot hold (a rule part it does not support, an event longer than a year) is skipped
  and named in the poll's result; a body that is not iCalendar raises InvalidFeed and changes nothing.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import warnings
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any
from urllib.parse import urlsplit

import icalendar
from icalendar.timezone.tzid import tzids_from_tzinfo
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from .durations import parse_duration
from .errors import DomainError, InvalidField
from .ical import clean_text
from .models import DESCRIPTION_MAX, EVENT_NAME_MAX, EVENT_URL_MAX, LOCATION_MAX, WEB_ADDRESS, Event, OccurrenceChange
from .occurrences import is_original
from .recurrence import parse_rrule
from .timeparse import local_midnight, wall_to_utc
from .timezones import resolve_zone

UNTITLED = "(untitled)"
SKIPPED_SHOWN = 5  # skipped VEVENTs named in a poll's result


class InvalidFeed(DomainError):
    """The body is not an iCalendar feed calbot can read; nothing of it is imported."""


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One calbot event a feed gives: `key` is its UID (with the date, for an extra date); `changes` are its
    series' one-occurrence changes (event_id 0 until stored); `digest` changes whenever what it says does."""

    key: str
    event: Event
    changes: tuple[OccurrenceChange, ...] = ()
    digest: str = ""


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    items: tuple[FeedItem, ...]
    skipped: tuple[str, ...]  # "UID: why", for each VEVENT left out
    refresh: timedelta | None  # REFRESH-INTERVAL or X-PUBLISHED-TTL, the feed's own polling advice


@dataclass(frozen=True, slots=True)
class Defaults:
    """What an imported event takes from its guild: the zone of floating times, and its reminders."""

    guild_id: int
    calendar_id: int
    timezone: str = "UTC"
    reminders: tuple[str, ...] = ("pt15m",)
    channels: tuple[str, ...] = ("discord_public",)


def parse_feed(body: bytes, defaults: Defaults, *, max_events: int) -> ParsedFeed:
    """The events `body` (an iCalendar feed) gives. Raises InvalidFeed for a body that is not one, or that
    holds more than `max_events` VEVENTs."""
    try:
        with warnings.catch_warnings():  # icalendar warns of each TZID it guesses; the result says what was read
            warnings.simplefilter("ignore")
            calendar = icalendar.Calendar.from_ical(body)
    except Exception as error:  # icalendar raises ValueError, KeyError, IndexError... on broken input
        raise InvalidFeed(f"the feed is not valid iCalendar ({type(error).__name__})") from None
    if getattr(calendar, "name", None) != "VCALENDAR":
        raise InvalidFeed("the feed is not an iCalendar VCALENDAR")
    vevents = calendar.walk("VEVENT")
    if len(vevents) > max_events:
        raise InvalidFeed(f"the feed holds {len(vevents)} events; calbot imports at most {max_events}")
    zone = _calendar_zone(calendar, defaults.timezone)
    defaults = dataclasses.replace(defaults, timezone=zone)
    masters: dict[str, icalendar.Event] = {}
    overrides: dict[str, list[icalendar.Event]] = {}
    skipped: list[str] = []
    for vevent in vevents:
        uid = str(vevent.get("UID", "")).strip() or _stand_in_uid(vevent)
        if "RECURRENCE-ID" in vevent:
            overrides.setdefault(uid, []).append(vevent)
        elif uid not in masters or _sequence(vevent) >= _sequence(masters[uid]):
            masters[uid] = vevent
    items: list[FeedItem] = []
    for uid in dict.fromkeys([*masters, *overrides]):
        try:
            if uid in masters:
                items.extend(_items(uid, masters[uid], overrides.get(uid, []), defaults))
            else:  # only changed occurrences were published (a shared invitation): each is an event of its own
                for vevent in overrides[uid]:
                    items.extend(_items(_override_key(uid, vevent), vevent, [], defaults))
        except (InvalidField, ValueError, TypeError, KeyError, AttributeError) as error:
            reason = f"no {error.args[0]}" if isinstance(error, KeyError) else getattr(error, "reason", None)
            skipped.append(f"{uid[:60]}: {reason or type(error).__name__}")
    return ParsedFeed(tuple(_digested(i) for i in items), tuple(skipped), _refresh(calendar))


def _stand_in_uid(vevent: icalendar.Event) -> str:
    """A key for a VEVENT without the UID RFC 5545 requires: its start and summary, so it stays the same event
    from poll to poll while those stay the same."""
    start = vevent["DTSTART"].to_ical().decode() if "DTSTART" in vevent else ""
    return "no-uid-" + hashlib.sha256(f"{start}\x1f{vevent.get('SUMMARY', '')}".encode()).hexdigest()[:16]


def _sequence(vevent: icalendar.Event) -> int:
    try:
        return int(vevent.get("SEQUENCE", 0))
    except (TypeError, ValueError):
        return 0


def _override_key(uid: str, vevent: icalendar.Event) -> str:
    return f"{uid}\x1f{vevent['RECURRENCE-ID'].to_ical().decode()}"


def _refresh(calendar: icalendar.Calendar) -> timedelta | None:
    for name in ("REFRESH-INTERVAL", "X-PUBLISHED-TTL"):
        if name in calendar:
            try:
                value = icalendar.vDuration.from_ical(str(calendar[name].to_ical().decode()))
            except (ValueError, AttributeError):
                continue
            if isinstance(value, timedelta) and value > timedelta(0):
                return value
    return None


# ---- time zones


def zone_name(tzid: str | None, value: datetime | date | None = None) -> str | None:
    """The IANA zone a TZID (or the tzinfo icalendar read for it) names: an IANA name, a Windows name through
    the CLDR table icalendar ships, or a VTIMEZONE icalendar recognises. None when none fits."""
    candidates = []
    if tzid:
        tzid = tzid.strip()
        candidates += [tzid, WINDOWS_TO_OLSON.get(tzid), tzid.rpartition("/mozilla.org/")[2]]
        if tzid.count("/") > 1:  # "/citadel.org/20190914_1/Europe/Berlin"
            candidates.append("/".join(tzid.strip("/").split("/")[-2:]))
    info = getattr(value, "tzinfo", None)
    if info is not None:
        candidates += [getattr(info, "key", None), *tzids_from_tzinfo(info)]
    for name in filter(None, candidates):
        name = WINDOWS_TO_OLSON.get(name, name)
        try:
            zone = resolve_zone(name)
        except InvalidField:
            continue
        # A VTIMEZONE may define its TZID otherwise than the IANA zone of that name does, and the zones icalendar
        # calls equivalent agree only on some dates: the IANA zone must keep the VTIMEZONE's offsets all year.
        if isinstance(value, datetime) and info is not None and not _agrees(value, zone):
            continue
        return str(zone)
    if isinstance(value, datetime) and info is not None:
        return _zone_like(info, value.year)
    return None


@functools.lru_cache(maxsize=256)
def _zone_like(info: tzinfo, year: int) -> str | None:
    """An IANA zone that keeps the offsets of a VTIMEZONE nobody named (a TZID of its author's own) all year."""
    sample = datetime(year, 1, 15, 12, tzinfo=info)
    names = sorted(n for n in zoneinfo.available_timezones() if "/" in n)
    return next((name for name in names if _agrees(sample, zoneinfo.ZoneInfo(name))), None)


def _agrees(value: datetime, zone: tzinfo) -> bool:
    seasons = [value.replace(tzinfo=None) + timedelta(days=days) for days in range(0, 366, 61)]
    return all(
        wall.replace(tzinfo=zone).utcoffset() == wall.replace(tzinfo=value.tzinfo).utcoffset() for wall in seasons
    )


def _calendar_zone(calendar: icalendar.Calendar, fallback: str) -> str:
    name = calendar.get("X-WR-TIMEZONE")
    return (name and zone_name(str(name))) or fallback


def _when(prop: Any, zone: str) -> tuple[datetime, str, bool, datetime | None]:
    """(instant, zone, all day, wall time) of a DTSTART-like property."""
    value = prop.dt
    if isinstance(value, tuple):  # an RDATE PERIOD: its start
        value = value[0]
    tzid = prop.params.get("TZID") if hasattr(prop, "params") else None
    if not isinstance(value, datetime):
        return local_midnight(value, resolve_zone(zone)), zone, True, None
    if value.tzinfo is None:  # floating, or a TZID icalendar could not read
        zone = zone_name(tzid) or zone
        return wall_to_utc(value, resolve_zone(zone)), zone, False, value
    instant = value.astimezone(UTC)
    if value.utcoffset() == timedelta(0) and not tzid:
        return instant, zone, False, None  # UTC ("Z"): shown in the calendar's zone
    named = zone_name(tzid, value)
    if named is None:  # an unknown VTIMEZONE: the instant is right; a series repeats in UTC
        return instant, "UTC", False, None
    wall = value.replace(tzinfo=None)
    return wall_to_utc(wall, resolve_zone(named)), named, False, wall


def _instant(value: datetime | date, zone: str, tzid: str | None = None, *, day: bool = False) -> datetime:
    """The instant a DATE or DATE-TIME value names. `day`: it names an occurrence of an all-day event, which is
    its date (Outlook writes an all-day RECURRENCE-ID as midnight in its own zone)."""
    if isinstance(value, tuple):
        value = value[0]
    if day and isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, datetime):
        return local_midnight(value, resolve_zone(zone))
    if value.tzinfo is None:
        return wall_to_utc(value, resolve_zone(zone_name(tzid) or zone))
    return value.astimezone(UTC)


def _end(vevent: icalendar.Event, starts: datetime, zone: str, all_day: bool) -> datetime | None:
    if "DTEND" in vevent:
        ends = _instant(vevent["DTEND"].dt, zone, vevent["DTEND"].params.get("TZID"))
    elif "DURATION" in vevent and isinstance(vevent["DURATION"].dt, timedelta):
        duration = vevent["DURATION"].dt
        if all_day:
            local = starts.astimezone(resolve_zone(zone)).date()
            ends = local_midnight(local + timedelta(days=duration.days), resolve_zone(zone))
        else:
            ends = starts + duration
    else:
        return None
    return ends if ends > starts else None


def _dates(vevent: icalendar.Event, name: str, event: Event) -> dict[datetime, datetime | None]:
    """The EXDATE or RDATE instants of a VEVENT, each with its end (an RDATE PERIOD's) or None."""
    found: dict[datetime, datetime | None] = {}
    values = vevent.get(name)
    for value in values if isinstance(values, list) else [values] if values is not None else []:
        tzid = value.params.get("TZID") if hasattr(value, "params") else None
        for item in getattr(value, "dts", []):
            tzid = tzid or item.params.get("TZID")
            when = _instant(item.dt, event.timezone, tzid, day=event.all_day)
            end = item.dt[1] if isinstance(item.dt, tuple) else None
            if isinstance(end, timedelta):
                end = when + end
            elif end is not None:
                end = _instant(end, event.timezone, tzid)
            found[when] = end if end is not None and end > when else None
    return found


# ---- events


def _text(vevent: icalendar.Event, name: str, limit: int) -> str:
    return clean_text(str(vevent.get(name, "")))[:limit]


def _base(vevent: icalendar.Event, defaults: Defaults) -> Event:
    """The VEVENT as a calbot event, without its rule: not validated yet."""
    starts, zone, all_day, wall = _when(vevent["DTSTART"], defaults.timezone)
    ends = _end(vevent, starts, zone, all_day)
    url = _text(vevent, "URL", EVENT_URL_MAX).strip()
    name = " ".join(_text(vevent, "SUMMARY", EVENT_NAME_MAX * 2).split())[:EVENT_NAME_MAX]
    return Event(
        guild_id=defaults.guild_id,
        calendar_id=defaults.calendar_id,
        name=name or UNTITLED,
        starts=starts,
        ends=ends,
        timezone=zone,
        anchor=wall,
        all_day=all_day,
        description=_text(vevent, "DESCRIPTION", DESCRIPTION_MAX),
        location=_text(vevent, "LOCATION", LOCATION_MAX),
        url=url if WEB_ADDRESS.fullmatch(url) else None,
        notifications_interval=defaults.reminders,
        notifications_channels=defaults.channels,
    )


def _cancelled(vevent: icalendar.Event) -> bool:
    return str(vevent.get("STATUS", "")).strip().upper() == "CANCELLED"


def _rule_text(vevent: icalendar.Event, event: Event) -> str | None:
    """The VEVENT's RRULE as calbot's text, its UNTIL made an instant (a date: the end of that day; a floating
    time: in the event's zone)."""
    rules = vevent.get("RRULE")
    if rules is None:
        return None
    rule = rules[0] if isinstance(rules, list) else rules
    if not rule:  # an empty RRULE line: no rule
        return None
    parts = {}
    for key, values in rule.items():
        if key == "UNTIL":
            until = values[0]
            zone = resolve_zone(event.timezone)
            if not isinstance(until, datetime):
                instant = local_midnight(until + timedelta(days=1), zone) - timedelta(seconds=1)
            elif until.tzinfo is None:
                instant = wall_to_utc(until, zone)
            else:
                instant = until.astimezone(UTC)
            parts[key] = f"{instant:%Y%m%dT%H%M%SZ}"
        else:
            parts[key] = ",".join(str(v) for v in values)
    return ";".join(f"{k}={v}" for k, v in parts.items())


def _items(key: str, vevent: icalendar.Event, overrides: list[icalendar.Event], defaults: Defaults) -> list[FeedItem]:
    """The events one UID gives: the VEVENT (a series or a one-off), and one-offs for its extra dates."""
    if _cancelled(vevent):
        return []
    draft = _base(vevent, defaults)
    first = draft.validated()
    rule_text = _rule_text(vevent, draft)
    event = first if rule_text is None else dataclasses.replace(draft, recurrence=parse_rrule(rule_text)).validated()

    def in_series(when: datetime) -> bool:
        return when == event.starts if event.recurrence is None else is_original(event, when)

    length = event.ends - event.starts if event.ends else None
    excluded = _dates(vevent, "EXDATE", event)
    extras = {when: end for when, end in _dates(vevent, "RDATE", event).items() if not in_series(when)}
    if event.starts != first.starts:  # DTSTART off the rule: RFC 5545 counts it as the first occurrence still
        extras = {first.starts: first.ends, **extras}
    changes: dict[datetime, OccurrenceChange] = {
        when: OccurrenceChange(event.guild_id, 0, when, cancelled=True) for when in excluded if in_series(when)
    }
    moved: dict[datetime, icalendar.Event] = {}
    for override in overrides:
        recurrence_id = override["RECURRENCE-ID"]
        original = _instant(recurrence_id.dt, event.timezone, recurrence_id.params.get("TZID"), day=event.all_day)
        if original in excluded:
            continue
        if event.recurrence is not None and in_series(original):
            changes[original] = _change(event, original, override, length, defaults)
        else:
            moved[original] = override
    items = []
    if event.recurrence is not None:
        items.append(FeedItem(key, event, tuple(c for _, c in sorted(changes.items()))))
    elif event.starts not in excluded:  # a one-off, maybe republished changed (some servers do)
        extras = {event.starts: event.ends, **extras}
    for when, end in extras.items():
        extra_key = key if event.recurrence is None and when == event.starts else f"{key}\x1f{int(when.timestamp())}"
        if when in excluded or (when in moved and _cancelled(moved[when])):
            continue
        if when in moved:
            one_off = _base(moved[when], defaults)
        elif event.recurrence is None and when == event.starts:
            items.append(FeedItem(extra_key, first))  # validated already
            continue
        else:
            one_off = dataclasses.replace(
                draft, starts=when, ends=end or event.ends_if_starting(when), anchor=None, recurrence=None
            )
        items.append(FeedItem(extra_key, one_off.validated()))
    return items


def _change(
    event: Event, original: datetime, override: icalendar.Event, length: timedelta | None, defaults: Defaults
) -> OccurrenceChange:
    """A RECURRENCE-ID override as a one-occurrence change: only what differs from the series."""
    if _cancelled(override):
        return OccurrenceChange(event.guild_id, 0, original, cancelled=True)
    changed = _base(override, dataclasses.replace(defaults, timezone=event.timezone))
    starts = changed.starts
    ends = changed.ends
    if event.all_day and changed.all_day and ends is None:
        ends = event.ends_if_starting(starts)
    return OccurrenceChange(
        guild_id=event.guild_id,
        event_id=0,
        occurrence=original,
        starts=None if starts == original else starts,
        ends=None if ends == (starts + length if length else None) else ends,
        name=None if changed.name == event.name else changed.name,
        description=None if changed.description == event.description else changed.description,
        location=None if changed.location == event.location else changed.location,
    ).validated()


def _digested(item: FeedItem) -> FeedItem:
    fields = [repr(dataclasses.replace(item.event, id=None)), *(repr(c) for c in item.changes)]
    return dataclasses.replace(item, digest=hashlib.sha256("\n".join(fields).encode()).hexdigest()[:32])


def summary(parsed: ParsedFeed, written: int, removed: int) -> str:
    """A poll's result in words, for /calendar show."""
    read = len(parsed.items)
    text = f"{read} event{'' if read == 1 else 's'} read, {written} written, {removed} removed"
    if parsed.skipped:
        shown = "; ".join(parsed.skipped[:SKIPPED_SHOWN])
        more = f" and {len(parsed.skipped) - SKIPPED_SHOWN} more" if len(parsed.skipped) > SKIPPED_SHOWN else ""
        text += f"; {len(parsed.skipped)} skipped ({shown}{more})"
    return text


# ---- when to poll

MIN_EVERY = timedelta(minutes=5)
DEFAULT_EVERY = timedelta(minutes=15)
MAX_EVERY = timedelta(days=1)
LONGEST_BACKOFF = timedelta(hours=6)
JITTER = 0.1  # a poll comes up to this share of its interval late, so feeds polled together drift apart


def poll_interval(every: timedelta, refresh: timedelta | None) -> timedelta:
    """How long until the next poll after a good one: as asked, or the feed's own REFRESH-INTERVAL /
    X-PUBLISHED-TTL when that is longer (at most a day)."""
    return min(max(every, refresh or timedelta(0)), MAX_EVERY)


def next_poll(now: datetime, interval: timedelta, failures: int, jitter: float) -> datetime:
    """When to poll next: after `interval`, doubled for each failure in a row (at most LONGEST_BACKOFF, or the
    interval if longer), plus `jitter` (0 to 1) of JITTER of it."""
    wait = interval * (2 ** min(failures, 16)) if failures else interval
    wait = min(wait, max(interval, LONGEST_BACKOFF))
    return now + wait + wait * (JITTER * jitter)


def poll_every(text: str | None, field: str = "every") -> timedelta:
    """How often a feed is polled, as typed ("15m", "1h", "PT30M"): from MIN_EVERY to MAX_EVERY."""
    if not text or not text.strip():
        return DEFAULT_EVERY
    return within_poll_bounds(parse_duration(text, field), field)


def within_poll_bounds(every: timedelta, field: str = "every") -> timedelta:
    if not MIN_EVERY <= every <= MAX_EVERY:
        raise InvalidField(field, "must be from 5 minutes to 1 day (e.g. 15m, 1h)")
    return every


def shown_url(url: str) -> str:
    """A feed's address as calbot shows it: its scheme and host only (a Google "secret address" is a password)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}/…"


def feed_url(text: str, field: str = "url") -> str:
    """A feed's address as fetched: https:// or http:// (webcal:// and webcals:// are https://), a host,
    no user info, at most 2048 characters."""
    url = text.strip()
    if len(url) > 2048:
        raise InvalidField(field, f"is {len(url)} characters long; the limit is 2048")
    lowered = url.lower()
    for scheme in ("webcals://", "webcal://"):
        if lowered.startswith(scheme):
            url = "https://" + url[len(scheme) :]
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:  # "http://[::1/": a bracket never closed
        raise InvalidField(field, "is not a web address") from None
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise InvalidField(field, "must be an https:// or webcal:// address of an ICS feed")
    if parts.username or parts.password:
        raise InvalidField(field, "must not carry a user name or password")
    try:
        parts.port  # noqa: B018 - reading it checks it
    except ValueError:
        raise InvalidField(field, "has a port that is not a number from 1 to 65535") from None
    if any(c.isspace() or ord(c) < 32 for c in url):
        raise InvalidField(field, "must not contain spaces or control characters")
    return url
