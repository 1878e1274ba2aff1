"""DisCal's twelve event colours (the Google Calendar palette) and their RGB values."""

from __future__ import annotations

import enum

from .errors import InvalidField


class Color(enum.Enum):
    MELROSE = 0xA4BDFC
    RIPTIDE = 0x7AE7BF
    MAUVE = 0xDBADFF
    TANGERINE = 0xFF887C
    DANDELION = 0xFBD75B
    MAC_AND_CHEESE = 0xFFB878
    TURQUOISE = 0x46D6DB
    MERCURY = 0xE1E1E1
    BLUE = 0x5484ED
    GREEN = 0x51B749
    RED = 0xDC2127
    # "No colour": cards fall back to the calendar's colour, then to Discord's blurple.
    NONE = 0x5865F2

    @property
    def label(self) -> str:
        return self.name.replace("_", " ").title()


def shown_colour(event_colour: Color, calendar_colour: Color) -> int:
    """What an event is drawn in: its own colour, else its calendar's, else Discord's blurple (NONE's value)."""
    return (event_colour if event_colour is not Color.NONE else calendar_colour).value


def parse_color(value: str | Color | None, field: str = "color") -> Color:
    """Accept a colour by name in any case, with spaces or underscores ("Mac and cheese")."""
    if value is None or value == "":
        return Color.NONE
    if isinstance(value, Color):
        return value
    key = "_".join(value.upper().replace("-", " ").replace("_", " ").split())
    try:
        return Color[key]
    except KeyError:
        names = ", ".join(c.name for c in Color)
        raise InvalidField(field, f"unknown colour {value!r}; use one of {names}") from None
