"""An event's occurrences in a window: the series' starts with their moves, edits and cancellations
applied. A one-off event has a single occurrence whose key is 0. Pure."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from .models import Event, OccurrenceChange
from .recurrence import occurrences
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

    @property
    def original(self) -> datetime | None:
        return None if self.key == ONE_OFF else datetime.fromtimestamp(self.key, self.starts.tzinfo)

    @property
    def effective_end(self) -> datetime:
        return self.ends or self.starts


def occurrence_key(event: Event, original: datetime) -> int:
    return ONE_OFF if event.recurrence is None else int(original.timestamp())


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
    length = (event.ends - event.starts) if event.ends else None
    changes = list(changes)
    if event.recurrence is None:
        originals = [event.starts]
    else:
        # Occurrences still running at `after` started up to the event's length before it; moved ones
        # are found through their change, wherever the series had put them.
        originals = occurrences(
            event.recurrence, event.starts, ZoneInfo(event.timezone), after=after - (length or timedelta(0)),
            before=before, limit=limit,
        )  # fmt: skip
        originals = sorted({*originals, *(c.occurrence for c in changes if c.starts is not None)})
    by_original = {int(c.occurrence.timestamp()): c for c in changes}
    found = []
    for original in originals:
        key = occurrence_key(event, original)
        change = by_original.get(key) if key != ONE_OFF else None
        if change is None:
            change = OccurrenceChange(guild_id=event.guild_id, event_id=event.id or 0, occurrence=original)
        starts = change.starts or original
        occurrence = Occurrence(
            event=event,
            key=key,
            starts=starts,
            ends=change.ends or (starts + length if length else None),
            name=change.name or event.name,
            description=event.description if change.description is None else change.description,
            location=event.location if change.location is None else change.location,
            cancelled=change.cancelled,
        )
        if occurrence.cancelled and not include_cancelled:
            continue
        if occurrence.starts < before and (occurrence.starts >= after or occurrence.effective_end > after):
            found.append(occurrence)
    found.sort(key=lambda o: (o.starts, o.event.id or 0))
    return found[:limit]


def next_occurrence(event: Event, changes: Iterable[OccurrenceChange], now: datetime) -> Occurrence | None:
    """The occurrence running now or next to start."""
    window = expand(event, changes, after=now, before=now + timedelta(days=366 * 5), limit=1)
    return window[0] if window else None
