"""An event's occurrences in a window: the series' starts with their moves, edits and cancellations
applied. A one-off event has a single occurrence whose key is 0. Pure."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from .models import Event, OccurrenceChange
from .recurrence import next_occurrences, occurrences
from .rsvp import ONE_OFF


@dataclass(frozen=True, slots=True)
class Occurrence:
    event: Event
    key: int  # 0 for a one-off event; else the start the series gave it, in epoch seconds
    starts: datetime
    ends: datetime | None
    name: str
    description: str
    location: str
    cancelled: bool = False

    @classmethod
    def of(cls, event: Event) -> Occurrence:
        """A one-off event's single occurrence."""
        return cls(event, ONE_OFF, event.starts, event.ends, event.name, event.description, event.location)

    @property
    def original(self) -> datetime | None:
        return None if self.key == ONE_OFF else datetime.fromtimestamp(self.key, self.starts.tzinfo)

    @property
    def effective_end(self) -> datetime:
        return self.ends or self.starts


_INSTANT = timedelta(seconds=1)
_DAY_CHANGE = timedelta(hours=2)  # the most a local day can be longer than another (24 ± DST's change)


def series_starts(event: Event, *, after: datetime, before: datetime, limit: int = 1000) -> list[datetime]:
    """The starts a series' rule gives in [after, before) (UTC), before any change: its originals."""
    zone = ZoneInfo(event.timezone)
    return occurrences(event.recurrence, event.starts, zone, after=after, before=before, limit=limit, wall=event.anchor)


def is_original(event: Event, instant: datetime) -> bool:
    """Whether the series' rule gives an occurrence starting at `instant`."""
    return bool(series_starts(event, after=instant, before=instant + _INSTANT, limit=1))


def occurrence_key(event: Event, original: datetime) -> int:
    return ONE_OFF if event.recurrence is None else int(original.timestamp())


# (start, end or None, event id, key), in epoch seconds: cheap to sort and count for long lists.
Slot = tuple[int, int | None, int, int]


def _window(
    event: Event, changes: Iterable[OccurrenceChange], after: datetime, before: datetime, limit: int
) -> tuple[list[tuple[datetime, OccurrenceChange | None]], datetime | None]:
    """The originals whose occurrence may overlap [after, before), each with its change; and, when the rule
    was cut off at `limit`, its last original (nothing later than it is known to be complete)."""
    length = (event.ends - event.starts) if event.ends else timedelta(0)
    if event.all_day:
        length += _DAY_CHANGE  # a later day may be longer than the first
    changes = list(changes)
    if event.recurrence is None:
        return [(event.starts, None)], None
    # Occurrences still running at `after` started up to the event's length before it; moved ones are
    # found through their change, wherever the series had put them.
    originals = series_starts(event, after=after - length, before=before, limit=limit)
    by_original = {c.occurrence: c for c in changes}
    moved = {
        c.occurrence
        for c in changes
        if c.starts is not None  # an override the rule no longer has (its start or rule changed since) is dropped
        and is_original(event, c.occurrence)
    }
    cutoff = originals[-1] if len(originals) >= limit else None
    originals = sorted({*originals, *moved})
    return [(original, by_original.get(original)) for original in originals], cutoff


def expand(
    event: Event,
    changes: Iterable[OccurrenceChange],
    *,
    after: datetime,
    before: datetime,
    include_cancelled: bool = False,
    limit: int = 1000,
) -> list[Occurrence]:
    """Occurrences overlapping [after, before), by start."""
    fetch = limit
    while True:
        # The series is generated from `after` less the event's length: occurrences that ended by `after`,
        # or cancelled ones, are dropped below, so fetch more until `limit` are left or the window is done.
        window, cutoff = _window(event, changes, after, before, fetch)
        found = []
        for original, change in window:
            occurrence = _build(event, original, change)
            if occurrence.cancelled and not include_cancelled:
                continue
            if occurrence.starts < before and (occurrence.starts >= after or occurrence.effective_end > after):
                found.append(occurrence)
        if cutoff is None:
            break
        # The rule stopped at `cutoff`: an occurrence moved to after it may have regular ones before it.
        found = [o for o in found if o.starts <= cutoff]
        if len(found) >= limit:
            break
        fetch *= 4
    found.sort(key=lambda o: (o.starts, o.event.id or 0))
    return found[:limit]


def slots(event: Event, changes: Iterable[OccurrenceChange], *, after: datetime, before: datetime) -> list[Slot]:
    """What `expand` finds, as Slot tuples, without cancelled ones; unordered. A list of a year of a thousand
    weekly series is 52,000 of these: an occurrence the series did not change costs integers, not datetimes."""
    low, high = after.timestamp(), before.timestamp()
    # A timed event's occurrences all last as long as it does; an all-day one's days differ across a change.
    length = None if event.all_day or event.ends is None else int((event.ends - event.starts).total_seconds())
    found = []
    for original, change in _window(event, changes, after, before, limit=100_000)[0]:
        if change is None and (length is not None or event.ends is None):
            start_ts = int(original.timestamp())
            end_ts = None if length is None else start_ts + length
            key = start_ts if event.recurrence is not None else ONE_OFF
        elif change is not None and change.cancelled:
            continue
        else:
            starts = change.starts if change and change.starts else original
            ends = change.ends if change and change.ends else event.ends_if_starting(starts)
            start_ts = int(starts.timestamp())
            end_ts = int(ends.timestamp()) if ends else None
            key = occurrence_key(event, original)
        if start_ts < high and (start_ts >= low or (end_ts or start_ts) > low):
            found.append((start_ts, end_ts, event.id, key))
    return found


def occurrence_at(event: Event, changes: Iterable[OccurrenceChange], original: datetime) -> Occurrence | None:
    """The occurrence the series gave `original` (moved, edited or cancelled as its change says), or None
    if the series has no occurrence there."""
    if event.recurrence is None:
        return Occurrence.of(event) if original == event.starts else None
    if not is_original(event, original):
        return None
    change = next((c for c in changes if c.occurrence == original), None)
    return _build(event, original, change)


def _build(event: Event, original: datetime, change: OccurrenceChange | None) -> Occurrence:
    if event.recurrence is None or change is None:
        change = OccurrenceChange(guild_id=event.guild_id, event_id=event.id or 0, occurrence=original)
    starts = change.starts or original
    return Occurrence(
        event=event,
        key=occurrence_key(event, original),
        starts=starts,
        ends=change.ends or event.ends_if_starting(starts),
        name=change.name or event.name,
        description=event.description if change.description is None else change.description,
        location=event.location if change.location is None else change.location,
        cancelled=change.cancelled,
    )


def next_occurrence(event: Event, changes: Iterable[OccurrenceChange], now: datetime) -> Occurrence | None:
    """The occurrence running now or next to start."""
    window = expand(event, changes, after=now, before=now + timedelta(days=366 * 5), limit=1)
    return window[0] if window else None


def remap(old: Event, new: Event, keys: Iterable[int]) -> dict[int, int]:
    """When a series' timing changes (start, rule, zone), the key each of `keys` (occurrences of `old`)
    has in `new`: the occurrence at the same place in the series. Keys `new` has no place for are left out."""
    if old.recurrence is None or new.recurrence is None:
        return {}
    mapping = {}
    for key in keys:
        original = datetime.fromtimestamp(key, old.starts.tzinfo)
        if not is_original(old, original):
            continue  # not an occurrence of the old series
        place = len(series_starts(old, after=old.starts, before=original, limit=100_000))
        same = next_occurrences(
            new.recurrence, new.starts, ZoneInfo(new.timezone), now=new.starts, n=place + 1, wall=new.anchor
        )
        if len(same) == place + 1 and int(same[place].timestamp()) != key:
            mapping[key] = int(same[place].timestamp())
    return mapping
