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

import calendar as _calendar
import hashlib
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import NamedTuple
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import icalendar

from bot.domain.models import Event, OccurrenceChange
from bot.domain.recurrence import Recurrence, rule_wall

PRODID = "-//calbot//calbot calendar feed//EN"
REFRESH = timedelta(hours=1)  # how often apps are asked to poll (they may poll more rarely)
GOOGLE_TEMPLATE = "https://calendar.google.com/calendar/render"
GOOGLE_URL_MAX = 950  # the link sits in an embed field of at most 1024 characters

# ---- TEXT values (RFC 5545 §3.3.11)

# C0 and C1 controls (but TAB and LF: LF is escaped as `\n`), DEL, and lone surrogates (not UTF-8).
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_LINE_BREAKS = re.compile("\r\n|[\r\u2028\u2029]")


def clean_text(value: str) -> str:
    """`value` with every line break as LF and every other control character dropped."""
    return _CONTROLS.sub("", _LINE_BREAKS.sub("\n", value))


def _text(value: str) -> icalendar.vText:
    """A TEXT value: `vText` escapes backslash, `;`, `,` and newlines as it writes (plain strings given to a
    Calendar are written raw, so a calendar named `A, B; C` would read back as `A`)."""
    return icalendar.vText(clean_text(value))


# ---- Instants


def uid(event: Event) -> str:
    return f"event-{event.id}@calbot"


def _local(instant: datetime, event: Event) -> datetime:
    return instant.astimezone(ZoneInfo(event.timezone))


def _day(instant: datetime, event: Event) -> date:
    return _local(instant, event).date()


def _names(local: datetime) -> bool:
    """Whether the wall time of `local` plus its zone names this instant: not the second instance of a
    repeated hour (which readers take as the first, RFC 5545 §3.3.5) and not a time in a gap."""
    instant = local.astimezone(UTC)
    return all(local.replace(fold=fold).astimezone(UTC) == instant for fold in (0, 1))


def _when(instant: datetime, event: Event) -> datetime | date:
    """A DTSTART/DTEND value: a date for all-day events, else local time with TZID, or UTC where the
    local time cannot name the instant (the second instance of a repeated hour)."""
    if event.all_day:
        return _day(instant, event)
    local = _local(instant, event)
    return local if _names(local) else instant.astimezone(UTC)


def _series_start(event: Event) -> datetime | date:
    """The DTSTART of a series: the wall time its rule repeats (`rule_wall`), with TZID. It names the start but
    where the start is the second instance of a repeated hour (it names the first): the first occurrence is then
    moved (an override). A wall time typed inside a gap is written as typed, which readers move forward by the
    gap on that day only (RFC 5545 §3.3.5), as calbot does."""
    if event.all_day:
        return _day(event.starts, event)
    return _occurrence(event.starts, event)


def _occurrence(occurrence: datetime, event: Event) -> datetime | date:
    """An EXDATE/RECURRENCE-ID value: the wall time the rule generates for the occurrence, with TZID, which
    readers resolve exactly as calbot does (a gap moves it forward, an ambiguous one is the first instance)."""
    if event.all_day:
        return _day(occurrence, event)
    zone = ZoneInfo(event.timezone)
    return rule_wall(occurrence, event.starts, zone, event.anchor).replace(tzinfo=zone)


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
    starts, ends, first = event.starts, event.ends, None
    if event.recurrence is not None and not event.all_day:
        # DTSTART is the wall time the rule repeats; DTEND keeps the series' length from it.
        first = _series_start(event)
        starts = first.astimezone(UTC)
        ends = ends and starts + (event.ends - event.starts)
    _fill(vevent, event, starts, ends, event.name, event.description, event.location, first=first)
    if event.recurrence is not None:
        vevent.add("rrule", _rrule(event.recurrence, event))
    if event.url:
        vevent.add("url", event.url)
    return vevent


def _fill(
    vevent: icalendar.Event,
    event: Event,
    starts: datetime,
    ends: datetime | None,
    name: str,
    description: str,
    location: str,
    *,
    first: datetime | None = None,
) -> None:
    vevent.add("summary", _text(name))
    vevent.add("dtstart", first or _when(starts, event))
    if event.all_day:
        last = ends if ends is not None else starts + timedelta(days=1)
        vevent.add("dtend", max(_day(last, event), _day(starts, event) + timedelta(days=1)))
    elif ends is not None:
        vevent.add("dtend", _when(ends, event))
    if clean_text(description):
        vevent.add("description", _text(description))
    if clean_text(location):
        vevent.add("location", _text(location))


def _components(event: Event, changes: Iterable[OccurrenceChange], stamp: datetime) -> list[icalendar.Event]:
    """The event's VEVENT, with its cancelled occurrences as EXDATEs, and one VEVENT per changed occurrence."""
    main = _vevent(event, stamp=stamp)
    found = [main]
    if event.recurrence is None:
        return found
    length = (event.ends - event.starts) if event.ends else None
    changes = {change.occurrence: change for change in changes}
    if not event.all_day and _series_start(event).astimezone(UTC) != event.starts and event.starts not in changes:
        # The start is the second instance of a repeated hour: DTSTART names the first, so move it back.
        changes[event.starts] = OccurrenceChange(
            guild_id=event.guild_id, event_id=event.id or 0, occurrence=event.starts, starts=event.starts
        )
    cancelled = []
    for occurrence, change in sorted(changes.items()):
        if change.cancelled:
            cancelled.append(_occurrence(occurrence, event))
            continue
        if change.starts is None and change.ends is None and change.name is None and change.description is None \
                and change.location is None:  # fmt: skip
            continue
        override = icalendar.Event()
        override.add("uid", uid(event))
        override.add("dtstamp", stamp)
        override.add("recurrence-id", _occurrence(occurrence, event))
        starts = change.starts or occurrence
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
    if cancelled:  # all dates, or all wall times in the event's zone: one TZID for the line
        main.add("exdate", cancelled)
    return found


# ---- Time zones (VTIMEZONE, RFC 5545 §3.6.5), written from the zone's own transitions

ZONE_RULES_UNTIL = 2100  # transitions are listed up to here; a rule that holds to then is written as an RRULE
_STEP = 86_400  # the zone is sampled daily, then each change is found to the second


class _Transition(NamedTuple):
    at: int  # the instant, UTC epoch seconds
    before: timedelta  # UTC offset before it
    after: timedelta  # UTC offset from it on
    dst: bool  # written as DAYLIGHT: it starts more daylight saving time
    name: str

    @property
    def wall(self) -> datetime:
        """The local time at which it happens, on the clock before it (what DTSTART and RDATE say)."""
        return datetime.fromtimestamp(self.at, UTC).replace(tzinfo=None) + self.before

    @property
    def kind(self) -> tuple:
        return self.before, self.after, self.dst, self.name


def _state(zone: ZoneInfo, at: int) -> tuple[timedelta, timedelta, str]:
    local = datetime.fromtimestamp(at, zone)
    return local.utcoffset(), local.dst(), local.tzname() or ""


@lru_cache(maxsize=512)
def _transitions(name: str, first: int, last: int) -> tuple[tuple[timedelta, timedelta, str], tuple[_Transition, ...]]:
    """The zone's state at `first`, and each change of UTC offset, DST flag or abbreviation up to `last`."""
    zone = ZoneInfo(name)
    initial = state = _state(zone, first)
    found = []
    low = first
    while low < last:
        high = min(low + _STEP, last)
        if _state(zone, high) == state:
            low = high
            continue
        while high - low > 1:  # the first second whose state differs from `state`
            middle = (low + high) // 2
            if _state(zone, middle) == state:
                low = middle
            else:
                high = middle
        after = _state(zone, high)
        # DAYLIGHT when it starts more daylight saving: readers such as dateutil's tzical take TZOFFSETTO
        # minus TZOFFSETFROM of a DAYLIGHT observance as its DST, so the end of a negative "DST" (Europe/
        # Dublin's winter, Africa/Casablanca's Ramadan time) is DAYLIGHT and a change of standard time is not.
        found.append(_Transition(high, state[0], after[0], after[1] > state[1], after[2]))
        state, low = after, high
    return initial, tuple(found)


def _fits(transition: _Transition) -> set[tuple]:
    """The yearly rules (month, weekday, first day of a seven-day window, or -1 for the month's last
    seven days; or month and day) that give this transition's date."""
    wall = transition.wall
    month_days = _calendar.monthrange(wall.year, wall.month)[1]
    rules = {("day", wall.month, wall.day)}
    for start in range(max(1, wall.day - 6), min(wall.day, month_days - 6) + 1):
        rules.add(("week", wall.month, wall.weekday(), start))
    if wall.day > month_days - 7:
        rules.add(("last", wall.month, wall.weekday()))
    return rules


_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def _recur(rule: tuple) -> icalendar.vRecur:
    recur = icalendar.vRecur(freq="YEARLY", bymonth=rule[1])
    if rule[0] == "day":
        recur["BYMONTHDAY"] = rule[2]
    elif rule[0] == "last":
        recur["BYDAY"] = f"-1{_WEEKDAYS[rule[2]]}"
    elif rule[3] in (1, 8, 15, 22):
        recur["BYDAY"] = f"{(rule[3] - 1) // 7 + 1}{_WEEKDAYS[rule[2]]}"
    else:
        recur["BYDAY"] = _WEEKDAYS[rule[2]]
        recur["BYMONTHDAY"] = list(range(rule[3], rule[3] + 7))
    return recur


def _steady(transitions: tuple[_Transition, ...]) -> tuple[int, list[tuple[_Transition, tuple]]]:
    """Where the zone's transitions settle into yearly rules that hold up to ZONE_RULES_UNTIL: the index of
    the first transition they give, and each rule with its first transition. (len, []) when they do not."""
    by_year: dict[int, list[int]] = {}
    for index, transition in enumerate(transitions):
        by_year.setdefault(transition.wall.year, []).append(index)
    last_year = ZONE_RULES_UNTIL - 1
    if last_year not in by_year:
        return len(transitions), []
    pattern = [transitions[i] for i in by_year[last_year]]

    def shape(t: _Transition) -> tuple:
        return t.kind, t.wall.month, t.wall.time()

    rules = [_fits(t) for t in pattern]
    year = last_year
    while year - 1 in by_year:
        earlier = [transitions[i] for i in by_year[year - 1]]
        if [shape(t) for t in earlier] != [shape(t) for t in pattern]:
            break
        narrowed = [fits & _fits(t) for fits, t in zip(rules, earlier, strict=True)]
        if not all(narrowed):
            break
        rules, year = narrowed, year - 1
    if year > last_year - 10:  # too short a run to call a rule: list them all
        return len(transitions), []
    first = by_year[year]
    chosen = [min(fits, key=lambda r: ("last", "week", "day").index(r[0])) for fits in rules]
    return first[0], [(transitions[i], rule) for i, rule in zip(first, chosen, strict=True)]


def vtimezone(name: str, first_year: int) -> icalendar.Timezone:
    """A VTIMEZONE for the IANA zone `name`, right for every instant from `first_year` on: each transition
    of the zone up to ZONE_RULES_UNTIL (as RDATEs), then its yearly rules as RRULEs without end."""
    first = int(datetime(first_year, 1, 1, tzinfo=UTC).timestamp())
    last = int(datetime(ZONE_RULES_UNTIL, 1, 1, tzinfo=UTC).timestamp())
    # From the last transition before `first` (looking two years back), so the first observance has its
    # true TZOFFSETFROM: readers derive the DST amount, and with it the fold, from that difference.
    (offset, dst, abbreviation), transitions = _transitions(name, first - 2 * 366 * 86_400, last)
    earlier = [t for t in transitions if t.at <= first]
    if earlier:
        transitions = transitions[len(earlier) - 1 :]
    settled, rules = _steady(transitions)

    timezone = icalendar.Timezone()
    timezone.add("tzid", name)

    def observance(dst: bool, start: datetime, before: timedelta, after: timedelta, abbreviation: str):
        component = icalendar.TimezoneDaylight() if dst else icalendar.TimezoneStandard()
        component.add("dtstart", start)
        component.add("tzoffsetfrom", before)
        component.add("tzoffsetto", after)
        if abbreviation:
            component.add("tzname", abbreviation)
        return component

    if not earlier:  # the zone kept one offset for two years or more: that offset, from then on
        start = datetime.fromtimestamp(first, UTC).replace(tzinfo=None) + offset
        timezone.add_component(observance(False, start - timedelta(days=1), offset, offset, abbreviation))
    groups: dict[tuple, list[_Transition]] = {}
    for transition in transitions[:settled]:
        groups.setdefault(transition.kind, []).append(transition)
    for (before, after, dst, abbreviation), members in groups.items():
        component = observance(dst, members[0].wall, before, after, abbreviation)
        if len(members) > 1:
            component.add("rdate", [t.wall for t in members[1:]])
        timezone.add_component(component)
    for transition, rule in rules:
        component = observance(transition.dst, transition.wall, transition.before, transition.after, transition.name)
        component.add("rrule", _recur(rule))
        timezone.add_component(component)
    return timezone


def _zones_used(components: Iterable[icalendar.Event]) -> list[str]:
    found: dict[str, None] = {}
    for component in components:
        for value in component.property_items():
            params = getattr(value[1], "params", None)
            if params and "TZID" in params:
                found[str(params["TZID"])] = None
            for item in getattr(value[1], "dts", ()) or ():
                if "TZID" in getattr(item, "params", {}):
                    found[str(item.params["TZID"])] = None
    return list(found)


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
    calendar.add("name", _text(name))
    calendar.add("x-wr-calname", _text(name))
    if clean_text(description):
        calendar.add("x-wr-caldesc", _text(description))
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", icalendar.vDuration(REFRESH))
    components: list[icalendar.Event] = []
    first_year = now.year
    for event in events:
        # DTSTAMP is when the event last changed (not the time of the request), so an unchanged
        # calendar gives the same bytes and the same ETag.
        stamp = (event.updated_at or event.created_at or now).astimezone(UTC)
        event_changes = list(changes.get(event.id, ()))
        components.extend(_components(event, event_changes, stamp))
        for instant in [event.starts, *(c.starts or c.occurrence for c in event_changes)]:
            first_year = min(first_year, instant.astimezone(UTC).year)
    # Each zone named by a TZID, right from a year before the earliest instant to any time after.
    for zone in sorted(_zones_used(components)):
        calendar.add_component(vtimezone(zone, first_year - 1))
    for component in components:
        calendar.add_component(component)
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
