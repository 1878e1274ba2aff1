"""IANA time zones: resolution and autocomplete search."""

from __future__ import annotations

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
    from bot.domain.timezones import zone_choices, zone_named

    assert str(zone_named("munich")) == "Europe/Berlin"
    assert str(zone_named("New  Delhi")) == "Asia/Kolkata"
    assert str(zone_named("europe/paris")) == "Europe/Paris"
    with pytest.raises(InvalidField):
        zone_named("Atlantis")
    labels = [label for label, _zone in zone_choices("san")]
    assert labels[:2] == ["San Diego (America/Los_Angeles)", "San Francisco (America/Los_Angeles)"]
    assert "Salt Lake City (America/Denver)" not in labels  # "san" is not in "salt lake city"
    assert zone_choices("berlin") == [("Europe/Berlin", "Europe/Berlin")]
