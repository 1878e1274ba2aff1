"""What a change to an event means, whichever road it comes by (slash command, button, PERSCOM or DisCal
route, batch): the end that moves with the start, one occurrence changed, a series split for "this and
following". Pure: the roads call these before anything is stored. (A series is anchored on its rule by
`Event.validated`, so no road can skip it; what must happen in the same transaction as a write, such as
answers following their occurrences, happens in the storage write.)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from .errors import InvalidField
from .models import Event, OccurrenceChange, all_day_bounds, shifted_end
from .occurrences import Occurrence
from .recurrence import rule_wall, split

# What may differ for a single occurrence (RFC 5545 RECURRENCE-ID overrides).
PER_OCCURRENCE = ("name", "starts", "ends", "description", "location")


def timing(event: Event) -> tuple:
    """What places a series' occurrences: when any of it changes, their keys change."""
    return event.starts, event.recurrence, event.timezone, event.all_day


def moved_end(event: Event, starts: datetime, all_day: bool) -> datetime | None:
    """The end of `event` moved to `starts` (`Event.ends_if_starting`). An event switched between timed and
    all-day has no length to keep, and neither has one without an end."""
    if all_day != event.all_day:
        return None
    return event.ends_if_starting(starts)


def with_changes(event: Event, changes: Mapping[str, Any]) -> Event:
    """`event` with `changes`, as every road means them, not validated yet: a moved start (or a switch
    between timed and all-day) moves the end, unless an end is given."""
    changes = dict(changes)
    if "starts" in changes:
        changes.setdefault("anchor", None)  # a new start is read as its own wall time unless typed as another
    all_day = changes.get("all_day", event.all_day)
    if "ends" not in changes and event.ends is not None and ("starts" in changes or all_day != event.all_day):
        changes["ends"] = moved_end(event, changes.get("starts", event.starts), all_day)
    return dataclasses.replace(event, **changes)


def edited(event: Event, changes: Mapping[str, Any]) -> Event:
    """`with_changes`, validated (which also starts a series on its rule)."""
    return with_changes(event, changes).validated()


def moved_to_rule(draft: Event, stored: Event) -> bool:
    """Whether validation moved a series' start to its rule's first occurrence (the reply says so)."""
    if stored.recurrence is None:
        return False
    return dataclasses.replace(draft, recurrence=None).validated().starts != stored.starts


def one_occurrence_change(event: Event, occurrence: Occurrence, changes: Mapping[str, Any]) -> OccurrenceChange:
    """An edit of one occurrence, as its RECURRENCE-ID override: on top of what it already differs in (the
    occurrence carries its earlier edits), and keeping it cancelled if it was. A moved start moves its end."""
    other = sorted(set(changes) - set(PER_OCCURRENCE))
    if other:
        raise InvalidField(
            "scope", f"only name, start, end, description and location can differ for one occurrence, not {other[0]}"
        )
    changes = dict(changes)
    starts = changes.get("starts", occurrence.starts)
    if "starts" in changes and "ends" not in changes:
        changes["ends"] = shifted_end(occurrence.starts, occurrence.ends, starts, event.timezone, event.all_day)
    ends = changes.get("ends", occurrence.ends)
    if event.all_day and ("starts" in changes or "ends" in changes):
        starts, ends = all_day_bounds(starts, ends, event.timezone)  # a day of an all-day series stays whole days
    return OccurrenceChange(
        guild_id=event.guild_id,
        event_id=event.id,
        occurrence=occurrence.original,
        cancelled=occurrence.cancelled,
        starts=starts if starts != occurrence.original else None,
        ends=ends if ends != event.ends_if_starting(starts) else None,
        name=_differs(changes.get("name", occurrence.name), event.name),
        description=_differs(changes.get("description", occurrence.description), event.description),
        location=_differs(changes.get("location", occurrence.location), event.location),
    )


def _differs(value: Any, series_value: Any) -> Any:
    """An override keeps only what differs from the series (None: as the series says)."""
    return None if value == series_value else value


def split_series(event: Event, occurrence: Occurrence) -> tuple[Event, Event]:
    """For "this and following": the series up to just before `occurrence`, and a new series from it (its
    card goes where the series' card is)."""
    zone = ZoneInfo(event.timezone)
    head_rule, tail_rule = split(event.recurrence, event.starts, zone, occurrence.original, event.anchor)
    length = event.ends - event.starts if event.ends else None
    head = dataclasses.replace(event, recurrence=head_rule)
    tail = dataclasses.replace(
        event,
        id=None,
        recurrence=tail_rule,
        starts=occurrence.original,
        anchor=rule_wall(occurrence.original, event.starts, zone, event.anchor),
        ends=occurrence.original + length if length else None,
        card_message_id=None,
        created_at=None,
        updated_at=None,
    )
    return head, tail
