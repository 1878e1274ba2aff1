"""Exact durations people type, and ISO 8601 ones."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain.durations import parse_duration
from bot.domain.errors import InvalidField


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2h", timedelta(hours=2)),
        ("1h30m", timedelta(minutes=90)),
        ("1h 30m", timedelta(minutes=90)),
        ("90 minutes", timedelta(minutes=90)),
        ("90 MIN", timedelta(minutes=90)),
        ("  45 mins ", timedelta(minutes=45)),
        ("1.5h", timedelta(minutes=90)),
        ("0.5 hours", timedelta(minutes=30)),
        ("an hour", timedelta(hours=1)),
        ("a day", timedelta(days=1)),
        ("one week", timedelta(weeks=1)),
        ("1 hour and 30 minutes", timedelta(minutes=90)),
        ("2 days, 3 hours", timedelta(days=2, hours=3)),
        ("1w2d", timedelta(days=9)),
        ("30s", timedelta(seconds=30)),
        ("PT2H", timedelta(hours=2)),
        ("pt2h", timedelta(hours=2)),
        ("PT1H30M", timedelta(minutes=90)),
        ("PT90S", timedelta(seconds=90)),
        ("P1D", timedelta(days=1)),
        ("P1DT12H", timedelta(days=1, hours=12)),
        ("P1W", timedelta(weeks=1)),
        ("PT15M", timedelta(minutes=15)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "0m",
        "0 hours",
        "PT0S",
        "P0D",
        "abc",
        "p",
        "pt",
        "P",
        "PT",
        "P1DT",  # a T with nothing after it
        "P1M",  # ISO months are not exact durations (and not minutes)
        "P1Y",
        "90",  # no unit
        "1h 30",
        "-1h",
        "2 fortnights",
        "h",
        "1.5.5h",
        "99999999999 days",  # past what a timedelta holds
        "9" * 400 + "h",  # a float that overflows to infinity
        "P99999999999999W",
    ],
)
def test_what_is_not_a_positive_duration_is_refused_naming_the_field(text: str) -> None:
    with pytest.raises(InvalidField) as caught:
        parse_duration(text, field="length")
    assert caught.value.field == "length"


def test_zero_is_refused_as_too_short() -> None:
    with pytest.raises(InvalidField, match="longer than zero"):
        parse_duration("0m")


def test_an_unknown_unit_is_named() -> None:
    with pytest.raises(InvalidField, match="fortnights"):
        parse_duration("2 fortnights")
