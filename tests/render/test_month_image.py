"""The month picture against reference PNGs (tests/render/references), within a small tolerance for the
anti-aliasing of another FreeType: a DST change inside the month, overflowing days, long and non-Latin
names, all-day and multi-day spans, a week. Run with CALBOT_UPDATE_REFERENCES=1 to redraw the references
after a deliberate change to the picture (and look at them before committing)."""

from __future__ import annotations

import dataclasses
import io
import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image, ImageChops

from bot.domain.colors import Color
from bot.domain.models import Calendar, Event
from bot.domain.month import items, month_of, week_of
from bot.domain.occurrences import Occurrence, expand
from bot.domain.recurrence import Recurrence
from bot.render import month as picture
from bot.render.fonts import BOLD, PACKAGES, REGULAR, REPLACEMENT, chain

REFERENCES = Path(__file__).parent / "references"
BERLIN = ZoneInfo("Europe/Berlin")
TOKYO = ZoneInfo("Asia/Tokyo")
CALENDARS = {
    1: Calendar(guild_id=1, name="Raids", color=Color.BLUE, id=1),
    2: Calendar(guild_id=1, name="Social", color=Color.DANDELION, id=2),
    3: Calendar(guild_id=1, name="Plain", id=3),
}
MAX_BYTES = 500 * 1024


def event(name: str, starts: datetime, *, hours: float = 2, calendar: int = 1, **more) -> Event:
    ends = more.pop("ends", starts + timedelta(hours=hours))
    return Event(guild_id=1, calendar_id=calendar, name=name, starts=starts, ends=ends, id=more.pop("id"), **more)


def one_offs(*events: Event) -> list[Occurrence]:
    return [Occurrence.of(e) for e in events]


def dst_and_overflow() -> tuple[list[Occurrence], ZoneInfo]:
    """March 2026 in Berlin (summer time from the 29th): a weekly series at 19:00 across the change, one of
    it cancelled, and a day with more than fits."""
    series = event("Raid night", datetime(2026, 3, 3, 19, tzinfo=BERLIN), hours=3, id=1, timezone="Europe/Berlin",
                   recurrence=Recurrence("WEEKLY", count=6))  # fmt: skip
    found = expand(series, [], after=datetime(2026, 3, 1, tzinfo=UTC), before=datetime(2026, 4, 13, tzinfo=UTC))
    found[2] = dataclasses.replace(found[2], cancelled=True)  # 17 March
    busy = [event(f"Match {n}", datetime(2026, 3, 12, 8 + n, tzinfo=BERLIN), hours=1, calendar=2, id=10 + n)
            for n in range(9)]  # fmt: skip
    return found + one_offs(*busy), BERLIN


def names() -> tuple[list[Occurrence], ZoneInfo]:
    """Long names, and Cyrillic, Greek, Chinese, Japanese, Korean and emoji ones, in Tokyo."""
    texts = [
        "A name far too long to fit in one chip of a calendar day, so it is cut",
        "Тренировка отряда",
        "Συνάντηση ομάδας",
        "会议 周会",
        "日本語のイベント",
        "한국어 모임",
        "Party 🎉🔥 night",
        "Mixed Ж Σ 会 한 🎉",
    ]
    events = [event(t, datetime(2026, 1, 5 + n, 10, tzinfo=TOKYO), id=20 + n, calendar=1 + n % 3)
              for n, t in enumerate(texts)]  # fmt: skip
    return one_offs(*events), TOKYO


def spans() -> tuple[list[Occurrence], ZoneInfo]:
    """All-day events across week rows and overlapping each other, a two-day timed event, an evening past
    midnight (a chip, not a bar), in UTC."""
    utc = ZoneInfo("UTC")
    events = [
        event("Camp", datetime(2026, 7, 10, tzinfo=utc), ends=datetime(2026, 7, 14, tzinfo=utc), all_day=True, id=40),
        event(
            "Festival week",
            datetime(2026, 7, 12, tzinfo=utc),
            ends=datetime(2026, 7, 20, tzinfo=utc),
            all_day=True,
            id=41,
            calendar=2,
            color=Color.GREEN,
        ),
        event(
            "Holiday",
            datetime(2026, 7, 1, tzinfo=utc),
            ends=datetime(2026, 7, 2, tzinfo=utc),
            all_day=True,
            id=42,
            calendar=3,
        ),
        event("LAN weekend", datetime(2026, 7, 24, 18, tzinfo=utc), hours=40, id=43, color=Color.RED),
        event("Late session", datetime(2026, 7, 8, 22, tzinfo=utc), hours=4, id=44),
    ]
    return one_offs(*events), utc


def render(occurrences, zone, *, week: bool = False, first: date) -> bytes:
    period = week_of(first, 0) if week else month_of(first, 0)
    return picture.render_month(
        period, items(occurrences, CALENDARS, zone), zone=zone, zone_label=str(zone), today=first + timedelta(days=9)
    )


CASES = {
    "dst-overflow": lambda: render(*dst_and_overflow(), first=date(2026, 3, 1)),
    "names": lambda: render(*names(), first=date(2026, 1, 1)),
    "spans": lambda: render(*spans(), first=date(2026, 7, 1)),
    "week": lambda: render(*dst_and_overflow(), week=True, first=date(2026, 3, 9)),
}


def differs(drawn: Image.Image, reference: Image.Image) -> float:
    """The share of pixels that differ by more than a shade of anti-aliasing."""
    difference = ImageChops.difference(drawn.convert("RGB"), reference.convert("RGB")).convert("L")
    histogram = difference.histogram()
    return sum(histogram[48:]) / (drawn.width * drawn.height)


@pytest.mark.parametrize("case", CASES)
def test_the_picture_matches_its_reference(case):
    png = CASES[case]()
    assert len(png) < MAX_BYTES
    drawn = Image.open(io.BytesIO(png))
    reference_path = REFERENCES / f"{case}.png"
    if os.environ.get("CALBOT_UPDATE_REFERENCES"):
        REFERENCES.mkdir(exist_ok=True)
        reference_path.write_bytes(png)
    reference = Image.open(reference_path)
    assert drawn.size == reference.size
    assert differs(drawn, reference) < 0.002, f"{case}: see {reference_path}"


def test_dimensions_follow_the_weeks_shown():
    month = Image.open(io.BytesIO(CASES["dst-overflow"]()))  # March 2026 from Monday: 6 rows
    rows = 6
    row = picture.DAY_NUMBER + picture.MONTH_LINES * picture.LINE + picture.PAD
    assert month.size == (2 * picture.MARGIN + 7 * picture.COLUMN,
                          picture.HEADER + picture.WEEKDAYS + rows * row + picture.MARGIN)  # fmt: skip
    week = Image.open(io.BytesIO(CASES["week"]()))
    assert week.width == month.width and week.height < month.height


def test_a_change_shows():
    """The comparison can fail: one event more is more than the tolerance."""
    occurrences, zone = spans()
    more = [*occurrences, *one_offs(event("Extra", datetime(2026, 7, 15, 9, tzinfo=zone), id=99))]
    drawn = Image.open(io.BytesIO(render(more, zone, first=date(2026, 7, 1))))
    assert differs(drawn, Image.open(REFERENCES / "spans.png")) > 0.0005


def test_the_header_names_the_zone_and_its_change():
    period = month_of(date(2026, 3, 1), 0)
    assert picture.zone_caption(period, BERLIN, "Europe/Berlin") == (
        "Times in Europe/Berlin (UTC+01:00; UTC+02:00 from Sun 29 Mar)"
    )
    assert picture.zone_caption(period, TOKYO, "Asia/Tokyo") == "Times in Asia/Tokyo (UTC+09:00)"


def test_each_script_draws_with_a_font_that_has_it():
    fonts = chain(13)
    runs = fonts.runs("RЖΣ会한🎉")
    assert [(text, font.getname()[0]) for text, font in runs] == [
        ("RЖΣ", "DejaVu Sans"),
        ("会한", "WenQuanYi Micro Hei"),
        ("🎉", "Symbola"),
    ]
    assert fonts.runs("\U0010fffd")[0][0] == REPLACEMENT  # a character no font has: one replacement mark


def test_a_month_of_300_events_stays_small():
    start = datetime(2026, 3, 1, 6, tzinfo=BERLIN)
    many = one_offs(*(event(f"Event number {n}", start + timedelta(hours=(n * 7) % (30 * 24)), id=100 + n,
                            calendar=1 + n % 3) for n in range(300)))  # fmt: skip
    png = render(many, BERLIN, first=date(2026, 3, 1))
    assert len(png) < MAX_BYTES


def test_the_image_and_ci_install_the_font_packages():
    root = Path(__file__).resolve().parents[2]
    for installer in ("Dockerfile", ".ci/run"):
        text = (root / installer).read_text(encoding="utf-8")
        assert all(package in text for package in PACKAGES), installer
    assert all(path.is_file() for path in REGULAR + BOLD)  # here, they are installed
