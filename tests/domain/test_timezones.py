"""IANA time zones: resolution and autocomplete search."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from bot.domain.errors import InvalidField
from bot.domain.timezones import resolve_zone, search_zones


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Europe/Berlin", "Europe/Berlin"),
        ("europe/berlin", "Europe/Berlin"),
        ("EUROPE/BERLIN", "Europe/Berlin"),
        ("  Europe/Berlin ", "Europe/Berlin"),
        ("america/new york", "America/New_York"),
        ("America/New_York", "America/New_York"),
        ("america/argentina/buenos_aires", "America/Argentina/Buenos_Aires"),
        ("utc", "UTC"),
        ("UTC", "UTC"),
        ("etc/gmt+5", "Etc/GMT+5"),
    ],
)
def test_resolve_zone_ignores_case_and_spaces(name: str, expected: str) -> None:
    assert str(resolve_zone(name)) == expected


@pytest.mark.parametrize(
    "name", ["", "Berlin", "Mars/Olympus_Mons", "Europe/Berlinn", "posixrules", "Factory", "+01:00"]
)
def test_unknown_zones_are_refused_naming_the_field(name: str) -> None:
    with pytest.raises(InvalidField) as caught:
        resolve_zone(name, "defaults.timezone")
    assert caught.value.field == "defaults.timezone"


def test_search_ranks_city_prefixes_before_other_matches() -> None:
    found = search_zones("lin")
    assert found[0] == "Australia/Lindeman"  # the only city starting with "lin"
    assert "Europe/Berlin" in found[1:]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("berlin", "Europe/Berlin"),
        ("BERLIN", "Europe/Berlin"),
        ("new york", "America/New_York"),
        ("new_y", "America/New_York"),
        ("europe/ber", "Europe/Berlin"),
    ],
)
def test_search_finds_a_zone_by_its_city(query: str, expected: str) -> None:
    assert search_zones(query)[0] == expected


def test_search_honours_its_limit_and_offers_only_real_zones() -> None:
    assert len(search_zones("", limit=5)) == 5
    assert len(search_zones("america", limit=25)) == 25
    offered = search_zones("", limit=1000)
    assert "UTC" in offered
    assert not {"posixrules", "Factory", "localtime"} & set(offered)


def test_search_for_nothing_known_is_empty() -> None:
    assert search_zones("qqqzzz") == []


def test_cities_name_their_zones():
    from bot.domain.timezones import zone_choices, zone_with_note

    assert zone_with_note("munich") == (ZoneInfo("Europe/Berlin"), "munich read as Europe/Berlin")
    assert str(zone_with_note("New  Delhi")[0]) == "Asia/Kolkata"
    assert zone_with_note("europe/paris") == (ZoneInfo("Europe/Paris"), None)
    with pytest.raises(InvalidField):
        zone_with_note("Atlantis")
    labels = [label for label, _zone in zone_choices("san")]
    assert labels[:2] == ["San Diego (America/Los_Angeles)", "San Francisco (America/Los_Angeles)"]
    assert "Salt Lake City (America/Denver)" not in labels  # "san" is not in "salt lake city"
    assert zone_choices("berlin") == [("Europe/Berlin", "Europe/Berlin")]


@pytest.mark.parametrize(
    ("name", "zone", "note"),
    [
        ("EST", "America/New_York", "EST read as America/New_York (US Eastern time)"),
        ("pst", "America/Los_Angeles", "PST read as America/Los_Angeles (US Pacific time)"),
        ("CET", "Europe/Berlin", "CET read as Europe/Berlin (Central European time)"),
        ("IST", "Asia/Kolkata", "IST can also mean Irish Standard Time (Europe/Dublin)"),
        ("UTC+2", "Etc/GMT-2", "UTC+2 read as Etc/GMT-2 (a fixed offset, without daylight saving)"),
        ("gmt-5", "Etc/GMT+5", "gmt-5 read as Etc/GMT+5"),
        ("UTC", "UTC", None),
        ("Europe/Berlin", "Europe/Berlin", None),
    ],
)
def test_abbreviations_and_offsets_name_zones_and_say_how(name: str, zone: str, note: str | None) -> None:
    from bot.domain.timezones import zone_with_note

    found, said = zone_with_note(name)
    assert str(found) == zone
    assert (note in said) if note else said is None


@pytest.mark.parametrize("name", ["UTC+5:30", "UTC+15"])
def test_offsets_no_zone_keeps_all_year_are_refused(name: str) -> None:
    from bot.domain.timezones import zone_with_note

    with pytest.raises(InvalidField):
        zone_with_note(name)


def test_autocomplete_puts_a_typed_abbreviation_first() -> None:
    from bot.domain.timezones import zone_choices

    assert zone_choices("EST")[0] == ("EST · US Eastern time (America/New_York)", "America/New_York")
    assert zone_choices("pst")[0][1] == "America/Los_Angeles"
    assert zone_choices("ist")[0][1] == "Asia/Kolkata"
