"""An event's occurrences in a window, with one-occurrence changes applied."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.domain.models import Event, OccurrenceChange
from bot.domain.occurrences import Occurrence, expand, next_occurrence, occurrence_at, slots
from bot.domain.recurrence import Recurrence
from bot.domain.rsvp import ONE_OFF

MONDAY = datetime(2030, 1, 7, 18, 0, tzinfo=UTC)
WEEK = timedelta(weeks=1)
SERIES = Event(
    guild_id=1, calendar_id=1, id=9, name="Raid", starts=MONDAY, ends=MONDAY + timedelta(hours=2),
    location="Hall", recurrence=Recurrence("WEEKLY"),
)  # fmt: skip
ONCE = Event(guild_id=1, calendar_id=1, id=3, name="Party", starts=MONDAY + timedelta(days=1))


def key(when: datetime) -> int:
    return int(when.timestamp())


def test_a_one_off_event_has_one_occurrence_with_key_0():
    [only] = expand(ONCE, [], after=MONDAY, before=MONDAY + WEEK)
    assert only == Occurrence.of(ONCE) and only.key == ONE_OFF and only.original is None
    assert expand(ONCE, [], after=MONDAY + WEEK, before=MONDAY + 2 * WEEK) == []


def test_changes_override_one_occurrence_and_cancellations_hide_it():
    changes = [
        OccurrenceChange(1, 9, MONDAY + WEEK, cancelled=True),
        OccurrenceChange(1, 9, MONDAY + 2 * WEEK, name="Boss night", location="Cave", description="Bring potions"),
        OccurrenceChange(1, 9, MONDAY + 3 * WEEK, starts=MONDAY + 3 * WEEK + timedelta(hours=3)),
    ]
    found = expand(SERIES, changes, after=MONDAY, before=MONDAY + 4 * WEEK)
    assert [(o.name, o.starts, o.location) for o in found] == [
        ("Raid", MONDAY, "Hall"),
        ("Boss night", MONDAY + 2 * WEEK, "Cave"),
        ("Raid", MONDAY + 3 * WEEK + timedelta(hours=3), "Hall"),
    ]
    assert found[2].ends == MONDAY + 3 * WEEK + timedelta(hours=5)  # a moved occurrence keeps its length
    assert found[2].key == key(MONDAY + 3 * WEEK) and found[2].original == MONDAY + 3 * WEEK
    with_cancelled = expand(SERIES, changes, after=MONDAY, before=MONDAY + 4 * WEEK, include_cancelled=True)
    assert [o.cancelled for o in with_cancelled] == [False, True, False, False]
    assert [(s[0], s[3]) for s in sorted(slots(SERIES, changes, after=MONDAY, before=MONDAY + 4 * WEEK))] == [
        (key(o.starts), o.key) for o in found
    ]


def test_an_occurrence_moved_in_from_far_away_is_found():
    far = MONDAY + 20 * WEEK
    changes = [OccurrenceChange(1, 9, far, starts=MONDAY + timedelta(days=2))]
    found = expand(SERIES, changes, after=MONDAY + timedelta(days=1), before=MONDAY + timedelta(days=3))
    assert [(o.starts, o.key) for o in found] == [(MONDAY + timedelta(days=2), key(far))]
    assert occurrence_at(SERIES, changes, far).starts == MONDAY + timedelta(days=2)
    assert occurrence_at(SERIES, changes, MONDAY + timedelta(hours=1)) is None  # not an occurrence at all


def test_the_next_occurrence_is_the_running_or_coming_one():
    assert next_occurrence(SERIES, [], MONDAY + timedelta(hours=1)).starts == MONDAY  # still running
    assert next_occurrence(SERIES, [], MONDAY + timedelta(hours=3)).starts == MONDAY + WEEK
    # at the very moment one ends (the series is generated from a length earlier, then filtered)
    assert next_occurrence(SERIES, [], MONDAY + timedelta(hours=2)).starts == MONDAY + WEEK
    cancelled = [OccurrenceChange(1, 9, MONDAY + WEEK, cancelled=True)]
    assert next_occurrence(SERIES, cancelled, MONDAY + timedelta(hours=2)).starts == MONDAY + 2 * WEEK
    ended = Event(**{**{f: getattr(SERIES, f) for f in ("guild_id", "calendar_id", "id", "name", "starts", "ends")},
                     "recurrence": Recurrence("WEEKLY", count=2)})  # fmt: skip
    assert next_occurrence(ended, [], MONDAY + 3 * WEEK) is None


def test_the_next_occurrence_is_not_a_moved_first_one_when_a_regular_one_comes_before_it():
    changes = [OccurrenceChange(1, 9, MONDAY, starts=MONDAY + timedelta(days=10))]
    assert next_occurrence(SERIES, changes, MONDAY - timedelta(hours=1)).starts == MONDAY + WEEK


def test_an_override_the_series_no_longer_has_is_ignored():
    not_an_occurrence = MONDAY + timedelta(days=3)  # a Thursday: the weekly Monday series has no such occurrence
    changes = [OccurrenceChange(1, 9, not_an_occurrence, starts=MONDAY + timedelta(days=4), name="Phantom")]
    found = expand(SERIES, changes, after=MONDAY, before=MONDAY + WEEK)
    assert [o.name for o in found] == ["Raid"]


def test_keys_move_to_the_same_place_in_a_moved_series():
    import dataclasses

    from bot.domain.occurrences import remap

    later = dataclasses.replace(SERIES, starts=MONDAY + timedelta(hours=2), ends=MONDAY + timedelta(hours=4))
    keys = [key(MONDAY), key(MONDAY + 2 * WEEK), key(MONDAY + timedelta(hours=1))]  # the last: no occurrence
    assert remap(SERIES, later, keys) == {
        key(MONDAY): key(MONDAY + timedelta(hours=2)),
        key(MONDAY + 2 * WEEK): key(MONDAY + 2 * WEEK + timedelta(hours=2)),
    }
