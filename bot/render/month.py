"""The month (or week) as a PNG, drawn with Pillow from bot/domain/month.py's layout: weekday headers from
the week start, each occurrence a chip in its calendar's colour (↻ for a series, struck through when
cancelled), all-day and multi-day events as bars across their days, "+N more" on a full day, today marked,
and the zone the times are in named in the header (a picture cannot show each viewer their own time).

CPU-bound: callers on the event loop run it in a thread (`asyncio.to_thread`)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from PIL import Image, ImageDraw

from bot.domain.month import Item, Period, lay_out

from .fonts import FontChain, chain

MARGIN = 16
COLUMN = 180
HEADER = 84
WEEKDAYS = 30
DAY_NUMBER = 26
LINE = 22
MONTH_LINES = 6  # chip lines in a day of a month; a week's days are taller
WEEK_LINES = 22
PAD = 6

BACKGROUND = (255, 255, 255)
OTHER_MONTH = (244, 245, 247)
TODAY_FILL = (255, 248, 214)
GRID = (210, 213, 219)
INK = (32, 34, 37)
MUTED = (116, 120, 128)
ACCENT = (88, 101, 242)  # Discord's blurple
WHITE = (255, 255, 255)

TITLE = chain(28, bold=True)
SUBTITLE = chain(16)
WEEKDAY = chain(15, bold=True)
NUMBER = chain(15, bold=True)
TEXT = chain(13)
SERIES_MARK = "↻ "
ELLIPSIS = "…"


def _rgb(value: int) -> tuple[int, int, int]:
    return (value >> 16) & 255, (value >> 8) & 255, value & 255


def _ink_on(fill: tuple[int, int, int]) -> tuple[int, int, int]:
    """Black or white, whichever reads better on `fill` (WCAG relative luminance)."""

    def channel(c: int) -> float:
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = map(channel, fill)
    return INK if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.22 else WHITE


def _faded(fill: tuple[int, int, int]) -> tuple[int, int, int]:
    return tuple(round(c + (255 - c) * 0.7) for c in fill)


def fitted(fonts: FontChain, text: str, width: float) -> str:
    """`text`, cut with an ellipsis to fit `width` pixels."""
    if fonts.width(text) <= width:
        return text
    low, high = 0, len(text)
    while low < high:  # the longest prefix that fits with the ellipsis
        middle = (low + high + 1) // 2
        if fonts.width(text[:middle] + ELLIPSIS) <= width:
            low = middle
        else:
            high = middle - 1
    return text[:low].rstrip() + ELLIPSIS


def draw_text(draw: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, fonts: FontChain, fill) -> float:
    """Draw `text` run by run (each in the font that has it), on one baseline; return its width."""
    x, y = xy
    ascent = fonts.first.getmetrics()[0]
    start = x
    for run, font in fonts.runs(text):
        draw.text((x, y + ascent), run, font=font, fill=fill, anchor="ls")
        x += font.getlength(run)
    return x - start


def zone_caption(period: Period, zone: ZoneInfo, zone_label: str) -> str:
    """ "Times in Europe/Berlin (UTC+01:00; UTC+02:00 from Sun 29 Mar)": the zone, and its changes in view."""
    offsets: list[tuple[date, str]] = []
    for day in (*period.days, period.days[-1] + timedelta(days=1)):
        noon = datetime(day.year, day.month, day.day, 12, tzinfo=zone)
        offset = noon.strftime("%z")
        text = f"UTC{offset[:3]}:{offset[3:]}"
        if not offsets or offsets[-1][1] != text:
            offsets.append((day, text))
    changes = "".join(f"; {text} from {day:%a} {day.day} {day:%b}" for day, text in offsets[1:])
    return f"Times in {zone_label} ({offsets[0][1]}{changes})"


def _label(item: Item, zone: ZoneInfo, with_time: bool) -> str:
    time = f"{item.starts.astimezone(zone):%H:%M} " if with_time and not item.all_day else ""
    return (SERIES_MARK if item.series else "") + time + item.name


def _chip(draw: ImageDraw.ImageDraw, box: tuple[float, float, float, float], item: Item, text: str, *,
          round_left: bool = True, round_right: bool = True) -> None:  # fmt: skip
    fill = _rgb(item.colour)
    ink = _ink_on(fill)
    if item.cancelled:
        fill, ink = _faded(fill), MUTED
    x0, y0, x1, y1 = box
    corners = (round_left, round_right, round_right, round_left)
    draw.rounded_rectangle(box, radius=4, fill=fill, corners=corners)
    shown = fitted(TEXT, text, x1 - x0 - 10)
    width = draw_text(draw, (x0 + 5, y0 + 2), shown, TEXT, ink)
    if item.cancelled:
        middle = (y0 + y1) / 2
        draw.line((x0 + 4, middle, x0 + 6 + width, middle), fill=ink, width=1)


def render_month(
    period: Period,
    shown: Sequence[Item],
    *,
    zone: ZoneInfo,
    zone_label: str,
    today: date,
    title: str | None = None,
) -> bytes:
    """The period as a PNG. `today` is marked; `zone_label` names the zone `shown`'s times are in."""
    lines = WEEK_LINES if period.week else MONTH_LINES
    rows = lay_out(period, shown, lines)
    row_height = DAY_NUMBER + lines * LINE + PAD
    width = 2 * MARGIN + 7 * COLUMN
    top = HEADER + WEEKDAYS
    height = top + len(rows) * row_height + MARGIN
    image = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(image)

    draw_text(draw, (MARGIN, 14), fitted(TITLE, title or period.title, width - 2 * MARGIN), TITLE, INK)
    draw_text(draw, (MARGIN, 54), fitted(SUBTITLE, zone_caption(period, zone, zone_label), width - 2 * MARGIN),
              SUBTITLE, MUTED)  # fmt: skip
    for column, name in enumerate(period.weekday_names):
        x = MARGIN + column * COLUMN + (COLUMN - WEEKDAY.width(name)) / 2
        draw_text(draw, (x, HEADER + 6), name, WEEKDAY, MUTED)

    for number, row in enumerate(rows):
        y = top + number * row_height
        for column, day in enumerate(row.days):
            x = MARGIN + column * COLUMN
            fill = TODAY_FILL if day == today else BACKGROUND if period.in_period(day) else OTHER_MONTH
            draw.rectangle((x, y, x + COLUMN, y + row_height), fill=fill, outline=GRID)
            label = f"{day.day} {day:%b}" if day.day == 1 else str(day.day)
            if day == today:
                box_width = NUMBER.width(label) + 12
                draw.rounded_rectangle((x + 4, y + 3, x + 4 + box_width, y + 23), radius=10, fill=ACCENT)
                draw_text(draw, (x + 10, y + 5), label, NUMBER, WHITE)
            else:
                draw_text(draw, (x + 8, y + 5), label, NUMBER, INK if period.in_period(day) else MUTED)
        lines_top = y + DAY_NUMBER
        for bar in row.bars:
            x0 = MARGIN + bar.first_column * COLUMN + (0 if bar.continues_before else 4)
            x1 = MARGIN + (bar.last_column + 1) * COLUMN - (0 if bar.continues_after else 4)
            line_y = lines_top + bar.lane * LINE
            text = _label(bar.item, zone, with_time=not bar.continues_before)
            _chip(draw, (x0, line_y + 1, x1, line_y + LINE - 2), bar.item, text,
                  round_left=not bar.continues_before, round_right=not bar.continues_after)  # fmt: skip
        for column, chips in enumerate(row.chips):
            x = MARGIN + column * COLUMN
            taken = max((b.lane + 1 for b in row.bars if b.first_column <= column <= b.last_column), default=0)
            for offset, item in enumerate(chips):
                line_y = lines_top + (taken + offset) * LINE
                _chip(draw, (x + 4, line_y + 1, x + COLUMN - 4, line_y + LINE - 2), item, _label(item, zone, True))
            if row.more[column]:
                line_y = lines_top + (lines - 1) * LINE
                draw_text(draw, (x + 8, line_y + 3), f"+{row.more[column]} more", TEXT, MUTED)

    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=3)  # flat colours: level 3 is a quarter of 6's time, a few % larger
    return buffer.getvalue()
