"""iCalendar (RFC 5545) for calendar apps: a calendar's subscription feed, one event's `.ics` file, and
the "Add to Google Calendar" link of a card. Built with the `icalendar` library.

Pure (no discord, no I/O, no clock: `now` is passed in): the cogs (bot/exts/cards.py, events.py) and
the HTTP API (bot/api/ics.py) build their iCalendar and links with these same helpers.

- Each event is one VEVENT with a stable UID (`event-<id>@calbot`), so apps update it in place.
- Timed events: DTSTART/DTEND carry the event's zone as TZID, with a VTIMEZONE for each zone used;
  a series keeps its wall-clock time across daylight saving changes, as calbot itself does.
- All-day events are dates (DTEND the day after the last, as RFC 5545 counts).
- A series has its RRULE; a cancelled occurrence is an EXDATE; a moved or edited occurrence is a
  VEVENT of its own with the same UID and a RECURRENCE-ID naming the start the series gave it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import icalendar

from bot.domain.models import Event, OccurrenceChange
from bot.domain.recurrence import Recurrence

PRODID = "-//calbot//calbot calendar feed//EN"
REFRESH = timedelta(hours=1)  # how often apps are asked to poll (they may poll more rarely)
ZONE_YEARS_AHEAD = 10
GOOGLE_TEMPLATE = "https://calendar.google.com/calendar/render"
GOOGLE_URL_MAX = 950  # the link sits in an embed field of at most 1024 characters


def uid(event: Event) -> str:
    return f"event-{event.id}@calbot"


def _local(instant: datetime, event: Event) -> datetime:
    return instant.astimezone(ZoneInfo(event.timezone))


def _day(instant: datetime, event: Event) -> date:
    return _local(instant, event).date()


def _when(instant: datetime, event: Event) -> datetime | date:
    """A DTSTART/DTEND/RECURRENCE-ID/EXDATE value: a date for all-day events, else local time with TZID."""
    return _day(instant, event) if event.all_day else _local(instant, event)


def _rrule(rule: Recurrence, event: Event) -> icalendar.vRecur:
    recur = icalendar.vRecur.from_ical(rule.rrule_text())
    if rule.until is not None and event.all_day:
        # With a DATE DTSTART, UNTIL must be a DATE too (RFC 5545 §3.3.10).
        recur["UNTIL"] = [_day(rule.until, event)]
    return recur


def _vevent(event: Event, *, stamp: datetime) -> icalendar.Event:
    vevent = icalendar.Event()
    vevent.add("uid", uid(event))
    vevent.add("dtstamp", stamp)
    if event.created_at:
        vevent.add("created", event.created_at.astimezone(UTC))
    if event.updated_at:
        vevent.add("last-modified", event.updated_at.astimezone(UTC))
    _fill(vevent, event, event.starts, event.ends, event.name, event.description, event.location)
    if event.url:
        vevent.add("url", event.url)
    if event.recurrence is not None:
        vevent.add("rrule", _rrule(event.recurrence, event))
    return vevent


def _fill(
    vevent: icalendar.Event,
    event: Event,
    starts: datetime,
    ends: datetime | None,
    name: str,
    description: str,
    location: str,
) -> None:
    vevent.add("summary", name)
    vevent.add("dtstart", _when(starts, event))
    if event.all_day:
        last = ends if ends is not None else starts + timedelta(days=1)
        vevent.add("dtend", max(_day(last, event), _day(starts, event) + timedelta(days=1)))
    elif ends is not None:
        vevent.add("dtend", _when(ends, event))
    if description:
        vevent.add("description", description)
    if location:
        vevent.add("location", location)


def _components(event: Event, changes: Iterable[OccurrenceChange], stamp: datetime) -> list[icalendar.Event]:
    """The event's VEVENT, with its cancelled occurrences as EXDATEs, and one VEVENT per changed occurrence."""
    main = _vevent(event, stamp=stamp)
    found = [main]
    if event.recurrence is None:
        return found
    length = (event.ends - event.starts) if event.ends else None
    cancelled = []
    for change in sorted(changes, key=lambda c: c.occurrence):
        if change.cancelled:
            cancelled.append(_when(change.occurrence, event))
            continue
        if change.starts is None and change.ends is None and change.name is None and change.description is None \
                and change.location is None:  # fmt: skip
            continue
        override = icalendar.Event()
        override.add("uid", uid(event))
        override.add("dtstamp", stamp)
        override.add("recurrence-id", _when(change.occurrence, event))
        starts = change.starts or change.occurrence
        ends = change.ends or (starts + length if length else None)
        _fill(
            override,
            event,
            starts,
            ends,
            change.name or event.name,
            event.description if change.description is None else change.description,
            event.location if change.location is None else change.location,
        )
        found.append(override)
    if cancelled:
        main.add("exdate", cancelled)
    return found


def build_calendar(
    name: str,
    events: Iterable[Event],
    changes: Mapping[int, Iterable[OccurrenceChange]],
    *,
    now: datetime,
    description: str = "",
) -> bytes:
    """A VCALENDAR of `events` (with each series' occurrence `changes`, by event id)."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("name", name)
    calendar.add("x-wr-calname", name)
    if description:
        calendar.add("x-wr-caldesc", description)
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", icalendar.vDuration(REFRESH))
    first, last_year = None, now.year
    for event in events:
        # DTSTAMP is when the event last changed (not the time of the request), so an unchanged
        # calendar gives the same bytes and the same ETag (the zone data below changes once a year).
        stamp = (event.updated_at or event.created_at or now).astimezone(UTC)
        for component in _components(event, changes.get(event.id, ()), stamp):
            calendar.add_component(component)
        first = min(first or event.starts.date(), event.starts.date())
        last_year = max(last_year, event.effective_end.year)
    # The zones' rules from a year before the first event to ten years after the last (at most ten years
    # from now: apps know the zones by their IANA names anyway; this is for the few that need the rules).
    last = date(min(last_year, now.year) + ZONE_YEARS_AHEAD, 1, 1)
    first = min((first or now.date()) - timedelta(days=366), last - timedelta(days=366))
    calendar.add_missing_timezones(first_date=max(first, date(1970, 1, 1)), last_date=last)
    return calendar.to_ical()


def event_file(event: Event, changes: Iterable[OccurrenceChange], *, now: datetime) -> bytes:
    """One event as an `.ics` file (what /event export attaches)."""
    return build_calendar(event.name, [event], {event.id: list(changes)}, now=now)


def etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def filename(name: str) -> str:
    """A safe file name for `name`: letters, digits and dashes."""
    slug = "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")
    return ("-".join(filter(None, slug.split("-")))[:60] or "event") + ".ics"


# ---- Google Calendar


def google_calendar_url(event: Event) -> str:
    """A link that opens Google Calendar's "new event" page filled in with the event."""
    if event.all_day:
        first = _day(event.starts, event)
        after = _day(event.ends, event) if event.ends else first + timedelta(days=1)
        dates = f"{first:%Y%m%d}/{max(after, first + timedelta(days=1)):%Y%m%d}"
    else:
        ends = event.ends or event.starts
        dates = f"{event.starts.astimezone(UTC):%Y%m%dT%H%M%SZ}/{ends.astimezone(UTC):%Y%m%dT%H%M%SZ}"
    fields = {"action": "TEMPLATE", "text": event.name, "dates": dates, "ctz": event.timezone}
    if event.recurrence is not None:
        fields["recur"] = "RRULE:" + _rrule(event.recurrence, event).to_ical().decode()
    if event.location:
        fields["location"] = event.location
    details = "\n\n".join(filter(None, [event.description, event.url or ""]))
    for limit in (500, 200, 0):
        if details and limit:
            fields["details"] = details if len(details) <= limit else details[: limit - 1] + "…"
        else:
            fields.pop("details", None)
        url = f"{GOOGLE_TEMPLATE}?{urlencode(fields)}"
        if len(url) <= GOOGLE_URL_MAX:
            return url
    for key, keep in (("location", 100), ("text", 60)):
        if key in fields:
            fields[key] = fields[key][:keep]
        url = f"{GOOGLE_TEMPLATE}?{urlencode(fields)}"
        if len(url) <= GOOGLE_URL_MAX:
            return url
    return url
