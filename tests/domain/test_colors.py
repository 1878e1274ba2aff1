"""DisCal's twelve colours."""

from __future__ import annotations

import pytest

from bot.domain.colors import Color, parse_color
from bot.domain.errors import InvalidField


def test_the_palette_is_discals_twelve() -> None:
    assert [c.name for c in Color] == [
        "MELROSE",
        "RIPTIDE",
        "MAUVE",
        "TANGERINE",
        "DANDELION",
        "MAC_AND_CHEESE",
        "TURQUOISE",
        "MERCURY",
        "BLUE",
        "GREEN",
        "RED",
        "NONE",
    ]
    assert len({c.value for c in Color}) == 12  # no two share a value (an Enum would alias them)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("red", Color.RED),
        ("RED", Color.RED),
        (" Red ", Color.RED),
        ("mac and cheese", Color.MAC_AND_CHEESE),
        ("Mac And Cheese", Color.MAC_AND_CHEESE),
        ("MAC_AND_CHEESE", Color.MAC_AND_CHEESE),
        ("mac-and-cheese", Color.MAC_AND_CHEESE),
        ("mac  and cheese", Color.MAC_AND_CHEESE),
        ("none", Color.NONE),
        ("", Color.NONE),
        (None, Color.NONE),
        (Color.BLUE, Color.BLUE),
    ],
)
def test_parse_color(value: str | Color | None, expected: Color) -> None:
    assert parse_color(value) is expected


@pytest.mark.parametrize("value", ["purple", "macandcheese", "re d", "#ff0000", "  x "])
def test_unknown_colours_are_refused_naming_the_field(value: str) -> None:
    with pytest.raises(InvalidField) as caught:
        parse_color(value, "colour")
    assert caught.value.field == "colour"
    assert "MELROSE" in caught.value.reason  # the message lists the choices


@pytest.mark.parametrize(("color", "label"), [(Color.MAC_AND_CHEESE, "Mac And Cheese"), (Color.RED, "Red")])
def test_labels_read_as_words(color: Color, label: str) -> None:
    assert color.label == label
