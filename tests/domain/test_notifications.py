"""Reminder intervals and notification channels, as PERSCOM names them."""

from __future__ import annotations

import pytest

from bot.domain.errors import InvalidField
from bot.domain.notifications import (
    CHANNELS,
    INTERVALS,
    channels_in_words,
    intervals_in_words,
    parse_channels,
    parse_intervals,
    parse_private_channels,
    reminders_in_words,
)


def test_the_vocabularies_are_perscoms() -> None:
    assert INTERVALS == ("pt0m", "pt15m", "pt1h", "p1d", "p1w")
    assert set(CHANNELS) == {"broadcast", "database", "discord_private", "discord_public", "mail", "sms"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("pt15m", ("pt15m",)),
        ("PT15M", ("pt15m",)),
        ("pt15m p1d", ("pt15m", "p1d")),
        ("p1w,pt0m; pt1h", ("pt0m", "pt1h", "p1w")),  # any separator, put in order
        (["P1D", "PT15M", "pt15m"], ("pt15m", "p1d")),  # no repeats
        (("p1w", "p1d", "pt1h", "pt15m", "pt0m"), INTERVALS),
        ("none", ()),
        ("NONE", ()),
        ("", ()),
        ([], ()),
        # any ISO 8601 duration up to four weeks, canonical and in order
        ("PT30M P2D pt2h", ("pt30m", "pt2h", "p2d")),
        ("P1DT12H pt90m", ("pt1h30m", "p1dt12h")),
        ("P4W p28d", ("p4w",)),  # the same length, once
        # everyday durations, as people type them
        ("1h", ("pt1h",)),
        ("15m", ("pt15m",)),
        ("90 minutes", ("pt1h30m",)),
        ("1 day", ("p1d",)),
        ("2h30m", ("pt2h30m",)),
        ("1 hour and 30 minutes", ("pt1h30m",)),
        ("an hour", ("pt1h",)),
        ("1 week", ("p1w",)),
        ("2 days", ("p2d",)),
        ("0m", ("pt0m",)),
        ("at the start", ("pt0m",)),
        ("15 minutes, 1 day", ("pt15m", "p1d")),
        ("15m 1d", ("pt15m", "p1d")),  # spaces between durations separate reminders
        ("1 day pt15m", ("pt15m", "p1d")),  # words and codes mix
        (["90 minutes", "P1D"], ("pt1h30m", "p1d")),  # API lists take everyday durations too
    ],
)
def test_parse_intervals(value: str | list[str], expected: tuple[str, ...]) -> None:
    assert parse_intervals(value) == expected


@pytest.mark.parametrize(
    "value",
    ["p5w", "p29d", "p1m", ["pt15m", "tomorrow"], "none pt15m", "pt", "p1dt", "5 weeks", "1.5 days", "3 fortnights"],
)
def test_unknown_intervals_are_refused_naming_the_field(value: str | list[str]) -> None:
    with pytest.raises(InvalidField) as caught:
        parse_intervals(value, "notifications_interval")
    assert caught.value.field == "notifications_interval"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("public", ("discord_public",)),
        ("private", ("discord_private",)),
        ("both", ("discord_private", "discord_public")),
        ("Both", ("discord_private", "discord_public")),
        ("discord_public", ("discord_public",)),
        ("mail, sms private", ("discord_private", "mail", "sms")),
        (["public", "discord_public"], ("discord_public",)),
        (["broadcast", "database"], ("broadcast", "database")),
        ("", ()),
    ],
)
def test_parse_channels(value: str | list[str], expected: tuple[str, ...]) -> None:
    assert parse_channels(value) == expected


@pytest.mark.parametrize("value", ["pigeon", "public pigeon", ["discord"], "dm"])
def test_unknown_channels_are_refused_naming_the_field(value: str | list[str]) -> None:
    with pytest.raises(InvalidField) as caught:
        parse_channels(value, "notifications_channels")
    assert caught.value.field == "notifications_channels"


@pytest.mark.parametrize("parse", [parse_intervals, parse_channels])
def test_a_huge_list_is_refused_before_any_item_is_read(parse) -> None:
    with pytest.raises(InvalidField, match="give at most 50"):
        parse(["pt15m"] * 100_000, "field")
    assert parse(["pt15m", "pt15m"] if parse is parse_intervals else ["discord_public"] * 50, "field")


@pytest.mark.parametrize(
    ("codes", "words"),
    [
        (("pt0m",), "at the start"),
        (("pt15m",), "15 minutes before"),
        (("pt1h", "p1d"), "1 hour before, 1 day before"),
        (("p1w",), "1 week before"),
        (("p8d",), "8 days before"),
        (("p1dt12h",), "1 day 12 hours before"),
        (("pt2h30m",), "2 hours 30 minutes before"),
        ((), "none"),
    ],
)
def test_intervals_read_in_words(codes: tuple[str, ...], words: str) -> None:
    assert intervals_in_words(codes) == words


def test_channels_and_reminders_read_in_words() -> None:
    assert channels_in_words(("discord_public", "discord_private")) == "in the event's channel, by DM to those going"
    assert channels_in_words(("sms", "broadcast")) == "by SMS, to the server's webhooks"
    assert reminders_in_words(("pt15m",), ("discord_public",)) == "15 minutes before · in the event's channel"
    assert reminders_in_words((), ("discord_public",)) == "none"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("dm", ("discord_private",)),
        ("SMS, email dm", ("discord_private", "mail", "sms")),
        (["text", "private"], ("discord_private", "sms")),
    ],
)
def test_parse_private_channels(value, expected) -> None:
    assert parse_private_channels(value) == expected


@pytest.mark.parametrize(("value", "says"), [("public", "unknown channel 'public'"), (" , ", "at least one")])
def test_parse_private_channels_refuses(value, says) -> None:
    with pytest.raises(InvalidField, match=says):
        parse_private_channels(value)
