"""The RSVP rules: answers, capacity, the waitlist and when registration is open. Pure, so tested by tables."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.errors import InvalidField
from bot.domain.models import Event
from bot.domain.rsvp import (
    GOING,
    MAYBE,
    NOT_GOING,
    REMINDED,
    RESPONSES,
    WAITLISTED,
    Attendee,
    Change,
    RegistrationClosed,
    ensure_open,
    grouped,
    parse_response,
    promotions,
    respond,
    waitlist_place,
)

STARTS = datetime(2026, 6, 1, 18, 0, tzinfo=UTC)


def people(*statuses: str) -> list[Attendee]:
    """Users 1, 2, 3... with these statuses, answered in that order."""
    return [Attendee(1, 1, 0, n, status, seq=n) for n, status in enumerate(statuses, 1)]


def test_statuses_are_perscoms_names() -> None:
    assert (GOING, MAYBE, NOT_GOING, WAITLISTED) == ("going", "interested", "not_going", "waitlisted")
    assert RESPONSES == {"going": GOING, "maybe": MAYBE, "not_going": NOT_GOING}
    assert set(REMINDED) == {GOING, MAYBE}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("going", GOING),
        ("Going", GOING),
        (" GOING ", GOING),
        ("maybe", MAYBE),
        ("not_going", NOT_GOING),
        ("not going", NOT_GOING),
        ("Not-Going", NOT_GOING),
    ],
)
def test_parse_response(text: str, expected: str) -> None:
    assert parse_response(text) == expected


@pytest.mark.parametrize("text", ["yes", "", "interested", "waitlisted", "going!", "notgoing"])
def test_parse_response_refuses_anything_else(text: str) -> None:
    with pytest.raises(InvalidField) as caught:
        parse_response(text)
    assert caught.value.field == "status"
    assert "use going, maybe or not_going" in caught.value.reason


@pytest.mark.parametrize(
    ("before", "user", "wanted", "capacity", "changes"),
    [
        # no limit: every answer is taken as it is
        ((), 1, GOING, None, [Change(1, GOING)]),
        ((), 1, MAYBE, None, [Change(1, MAYBE)]),
        ((), 1, NOT_GOING, None, [Change(1, NOT_GOING)]),
        ((GOING,), 1, MAYBE, None, [Change(1, MAYBE)]),
        ((GOING,), 1, GOING, None, []),  # the same answer twice changes nothing
        ((MAYBE,), 1, MAYBE, None, []),
        # a full event waitlists whoever wants to go; maybe and not going take no place
        ((GOING,), 2, GOING, 1, [Change(2, WAITLISTED)]),
        ((GOING, GOING), 3, GOING, 2, [Change(3, WAITLISTED)]),
        ((GOING,), 2, MAYBE, 1, [Change(2, MAYBE)]),
        ((MAYBE, MAYBE), 3, GOING, 1, [Change(3, GOING)]),
        ((GOING, WAITLISTED), 3, GOING, 1, [Change(3, WAITLISTED)]),
        # answering going again keeps one's place, going or waiting
        ((GOING, WAITLISTED), 2, GOING, 1, []),
        ((GOING, WAITLISTED, WAITLISTED), 2, GOING, 1, []),
        # a going member who leaves frees a place for the longest-waiting
        ((GOING, WAITLISTED, WAITLISTED), 1, NOT_GOING, 1, [Change(1, NOT_GOING), Change(2, GOING)]),
        ((GOING, WAITLISTED, WAITLISTED), 1, MAYBE, 1, [Change(1, MAYBE), Change(2, GOING)]),
        ((GOING, GOING, WAITLISTED), 2, NOT_GOING, 2, [Change(2, NOT_GOING), Change(3, GOING)]),
        # a waiting member who leaves frees nothing
        ((GOING, WAITLISTED, WAITLISTED), 2, NOT_GOING, 1, [Change(2, NOT_GOING)]),
        # going again after leaving is a new answer: to the back of the queue
        ((GOING, WAITLISTED, NOT_GOING), 3, GOING, 1, [Change(3, WAITLISTED)]),
        # over capacity (it was lowered): those going stay, newcomers wait
        ((GOING, GOING, GOING), 1, GOING, 1, []),
        ((GOING, GOING), 3, GOING, 1, [Change(3, WAITLISTED)]),
        ((GOING, GOING, WAITLISTED), 1, NOT_GOING, 1, [Change(1, NOT_GOING)]),
    ],
)
def test_respond(before: tuple[str, ...], user: int, wanted: str, capacity: int | None, changes: list[Change]) -> None:
    assert respond(people(*before), user, wanted, capacity) == changes


def test_promotions_follow_the_order_of_answers_not_the_order_of_the_list() -> None:
    waiting = [Attendee(1, 1, 0, 7, WAITLISTED, seq=9), Attendee(1, 1, 0, 8, WAITLISTED, seq=3)]
    assert promotions(waiting, 1) == [Change(8, GOING)]


def test_an_unchanged_answer_keeps_its_place_when_places_free_up() -> None:
    # The capacity was raised without rebalancing: user 3 waited longer than user 4 and gets the place,
    # although user 3 is the one who just answered "going" again.
    attendees = [*people(GOING, NOT_GOING, WAITLISTED), Attendee(1, 1, 0, 4, WAITLISTED, seq=4)]
    assert respond(attendees, 3, GOING, 2) == [Change(3, GOING)]
    assert respond(attendees, 4, GOING, 2) == [Change(3, GOING)]


@pytest.mark.parametrize(
    ("before", "capacity", "changes"),
    [
        ((GOING, WAITLISTED, WAITLISTED), 1, []),
        ((GOING, WAITLISTED, WAITLISTED), 2, [Change(2, GOING)]),
        ((GOING, WAITLISTED, WAITLISTED), 5, [Change(2, GOING), Change(3, GOING)]),
        ((GOING, WAITLISTED, MAYBE, WAITLISTED), None, [Change(2, GOING), Change(4, GOING)]),
        ((GOING, GOING, WAITLISTED), 1, []),  # lowering never demotes
        ((), 3, []),
    ],
)
def test_promotions(before: tuple[str, ...], capacity: int | None, changes: list[Change]) -> None:
    assert promotions(people(*before), capacity) == changes


def test_grouped_and_waitlist_place() -> None:
    attendees = [
        Attendee(1, 1, 0, 10, WAITLISTED, seq=5),
        Attendee(1, 1, 0, 11, GOING, seq=1),
        Attendee(1, 1, 0, 12, WAITLISTED, seq=2),
        Attendee(1, 1, 0, 13, MAYBE, seq=3),
    ]
    groups = grouped(attendees)
    assert [a.user_id for a in groups[WAITLISTED]] == [12, 10]
    assert [a.user_id for a in groups[GOING]] == [11]
    assert [a.user_id for a in groups[MAYBE]] == [13]
    assert groups[NOT_GOING] == []
    assert [waitlist_place(attendees, u) for u in (12, 10, 11, 99)] == [1, 2, None, None]


def event(**changes) -> Event:
    return Event(guild_id=1, calendar_id=1, name="Raid", starts=STARTS, **changes)


@pytest.mark.parametrize(
    ("changes", "now", "closed_at"),
    [
        ({"registration_enabled": False}, STARTS - timedelta(days=1), None),
        (
            {"registration_deadline": STARTS - timedelta(hours=2)},
            STARTS - timedelta(hours=2),
            STARTS - timedelta(hours=2),
        ),
        (
            {"registration_deadline": STARTS - timedelta(hours=2)},
            STARTS - timedelta(hours=1),
            STARTS - timedelta(hours=2),
        ),
        ({}, STARTS, STARTS),  # no end, no deadline: it closes when the event starts
        ({"ends": STARTS + timedelta(hours=2)}, STARTS + timedelta(hours=2), STARTS + timedelta(hours=2)),
    ],
)
def test_ensure_open_refuses_with_when_it_closed(changes: dict, now: datetime, closed_at: datetime | None) -> None:
    with pytest.raises(RegistrationClosed) as caught:
        ensure_open(event(**changes), now)
    assert caught.value.closed_at == closed_at


@pytest.mark.parametrize(
    ("changes", "now"),
    [
        ({}, STARTS - timedelta(seconds=1)),
        ({"registration_deadline": STARTS - timedelta(hours=2)}, STARTS - timedelta(hours=2, seconds=1)),
        ({"ends": STARTS + timedelta(hours=2)}, STARTS + timedelta(hours=1)),  # still on: members may join
    ],
)
def test_ensure_open_lets_answers_in(changes: dict, now: datetime) -> None:
    ensure_open(event(**changes), now)


def test_a_series_deadline_closes_each_occurrence_as_long_before_its_start():
    from datetime import UTC, datetime, timedelta

    from bot.domain.models import Event
    from bot.domain.recurrence import Recurrence
    from bot.domain.rsvp import RegistrationClosed, ensure_open

    start = datetime(2030, 1, 7, 18, tzinfo=UTC)
    series = Event(guild_id=1, calendar_id=1, name="Raid", starts=start, recurrence=Recurrence("WEEKLY"),
                   registration_deadline=start - timedelta(hours=1))  # fmt: skip
    second = start + timedelta(weeks=1)
    ensure_open(series, second - timedelta(hours=2), starts=second, ends=second)  # a week after the first deadline
    with pytest.raises(RegistrationClosed) as closed:
        ensure_open(series, second - timedelta(minutes=30), starts=second, ends=second)
    assert closed.value.closed_at == second - timedelta(hours=1)
