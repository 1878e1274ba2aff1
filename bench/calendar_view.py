"""Benchmark the calendar views over a real SQLite store.

1. `/calendar view`'s work, bot-side, for a month of --events (300) events in Europe/Berlin (a weekly series
   among them, one occurrence cancelled): reading the month (`view_items`), laying it out and drawing the
   PNG (`render_month`, run in a thread by the bot). Target: under 150 ms; the PNG under 500 KB.
2. The web page for a month of --page-events (1,000) events: the whole request through aiohttp's server
   (reading the month, the template, the response), from a client in the same process.
   Target: under 50 ms server-side.

Prints the median, p90 and best of --runs runs; asserts nothing.

    python bench/calendar_view.py [--events 300] [--page-events 1000] [--runs 20]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from aiohttp.test_utils import TestClient, TestServer

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.api import create_app  # noqa: E402
from bot.config import load_config  # noqa: E402
from bot.domain.colors import Color  # noqa: E402
from bot.domain.models import Calendar, Event, GuildSettings, OccurrenceChange  # noqa: E402
from bot.domain.month import month_of, week_start  # noqa: E402
from bot.domain.recurrence import Recurrence  # noqa: E402
from bot.render.month import render_month  # noqa: E402
from bot.storage import open_store  # noqa: E402
from bot.storage.views import view_items  # noqa: E402

GUILD = 1
BERLIN = ZoneInfo("Europe/Berlin")
NAMES = ["Raid night", "Тренировка", "Συνάντηση", "会议 周会", "한국어 모임", "Party 🎉", "A name too long to fit"]


async def fill(store, guild_id: int, count: int, *, spread: bool = True) -> int:
    """`count` events in March 2026 (across the DST change), over three calendars when `spread`, else all in
    the first; the first calendar's id."""
    await store.settings.save(GuildSettings(guild_id=guild_id, timezone="Europe/Berlin"))
    calendars = [
        await store.calendars.create(Calendar(guild_id=guild_id, name=f"Calendar {n}", color=colour))
        for n, colour in enumerate((Color.BLUE, Color.DANDELION, Color.GREEN))
    ]
    start = datetime(2026, 3, 1, 7, tzinfo=BERLIN)
    events = [
        Event(guild_id=guild_id, calendar_id=calendars[n % 3 if spread else 0].id, name=NAMES[n % len(NAMES)],
              timezone="Europe/Berlin",
              starts=start + timedelta(minutes=(n * 137) % (30 * 24 * 60)),
              ends=start + timedelta(minutes=(n * 137) % (30 * 24 * 60) + 90))
        for n in range(count - 1)
    ]  # fmt: skip
    await store.events.create_many(events)
    series = await store.events.create(
        Event(guild_id=guild_id, calendar_id=calendars[0].id, name="Weekly", timezone="Europe/Berlin",
              starts=datetime(2026, 3, 3, 19, tzinfo=BERLIN), ends=datetime(2026, 3, 3, 21, tzinfo=BERLIN),
              recurrence=Recurrence("WEEKLY"))
    )  # fmt: skip
    await store.changes.save(
        OccurrenceChange(guild_id=guild_id, event_id=series.id, occurrence=datetime(2026, 3, 10, 18, tzinfo=UTC),
                         cancelled=True)
    )  # fmt: skip
    return calendars[0].id


def report(label: str, samples: list[float], target_ms: float) -> None:
    ordered = sorted(samples)
    median = statistics.median(ordered) * 1000
    p90 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))] * 1000
    best = ordered[0] * 1000
    print(f"{label}: median {median:.1f} ms, p90 {p90:.1f} ms, best {best:.1f} ms (target {target_ms:g} ms)")


def draw(period, shown) -> tuple[bytes, float]:
    """The picture, and the CPU time its thread spent on it (wall time also counts waiting for a core)."""
    began = time.thread_time()
    png = render_month(period, shown, zone=BERLIN, zone_label="Europe/Berlin", today=date(2026, 3, 12))
    return png, time.thread_time() - began


async def picture(folder: Path, count: int, runs: int) -> None:
    store = await open_store(f"sqlite:///{folder}/picture.sqlite3")
    try:
        await fill(store, GUILD, count)
        period = month_of(date(2026, 3, 1), week_start("Europe/Berlin"))
        start, end = period.bounds(BERLIN)
        reads, draws, draw_cpu, totals, size = [], [], [], [], 0
        for _ in range(runs + 1):  # the first run loads the fonts; it is not counted
            began = time.perf_counter()
            shown = await view_items(store, GUILD, start, end, BERLIN)
            read = time.perf_counter()
            png, cpu = await asyncio.to_thread(draw, period, shown)
            done = time.perf_counter()
            reads.append(read - began)
            draws.append(done - read)
            draw_cpu.append(cpu)
            totals.append(done - began)
            size = len(png)
        print(f"/calendar view, a month of {len(shown)} occurrences:")
        report("  read the month", reads[1:], 150)
        report("  lay out and draw", draws[1:], 150)
        report("  lay out and draw, CPU time of its thread", draw_cpu[1:], 150)
        report("  total", totals[1:], 150)
        print(f"  PNG: {size / 1024:.0f} KB (target under 500 KB)")
    finally:
        await store.close()


async def page(folder: Path, count: int, runs: int) -> None:
    config = load_config(None, environ={"CALBOT_DATABASE_URL": f"sqlite:///{folder}/page.sqlite3"})
    store = await open_store(config.database.url)
    try:
        calendar_id = await fill(store, GUILD, count, spread=False)  # the page shows one calendar
        secret = await store.calendars.feed_secret(GUILD, calendar_id)
        app = create_app(store, config, clock=lambda: datetime(2026, 3, 12, tzinfo=UTC))
        settings = GuildSettings(guild_id=GUILD, timezone="Europe/Berlin")
        async with TestClient(TestServer(app)) as client:
            cold, warm, size = [], [], 0
            for run in range(2 * (runs + 1)):
                first = run % 2 == 0
                if first:
                    await store.settings.save(settings)  # a write: the cached page is stale, computed anew
                began = time.perf_counter()
                response = await client.get(f"/calendars/{secret}?month=2026-03")
                body = await response.read()
                (cold if first else warm).append(time.perf_counter() - began)
                size = len(body)
                assert response.status == 200, body[:200]
        print(f"Web page, a month of {body.count(b'<li id=')} occurrences ({size / 1024:.0f} KB of HTML):")
        report("  request after a change (computed)", cold[1:], 50)
        report("  request again (cached until the next change)", warm[1:], 50)
    finally:
        await store.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--page-events", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=20)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        await picture(Path(folder), options.events, options.runs)
        await page(Path(folder), options.page_events, options.runs)


if __name__ == "__main__":
    asyncio.run(main())
