"""Benchmark: `/event list month:` on a guild with 10,000 events (issue 2: under 50 ms median bot-side),
and with 1,000 weekly series besides (issue 4: `--series 1000`, same target); `/event list` (upcoming: the
next 366 days) and `month:` on a guild of 250,000 events over ten years (issue 11: `--events 250000
--years 10`, under 50 ms without reading the guild's events into memory).

Fills a real SQLite file with 10,000 events spread over 2026 (about 830 a month), starts the real bot
(`python -m bot run`) against the local Discord stand-in, and times:
  * bot-side, per command: from the stand-in sending INTERACTION_CREATE to the bot's interaction
    response arriving, over loopback: option parsing, checks, settings and calendar look-ups, the
    month query, rendering the embed and answering. Network time is the loopback's only.
  * the store query alone (the page of 10 plus the month's total), in this process.
Prints the figures; asserts nothing.

    python bench/event_list.py [--events 10000] [--years 1] [--series 0] [--runs 300]
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.sample import store_sample_events
from bot.domain.models import Event
from bot.domain.recurrence import Recurrence
from bot.storage import open_store
from tests.standin import DiscordStandIn
from tests.standin.process import BotProcess

MONTH = "2026-06"
MONTH_START, MONTH_END = datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC)
GUILD_ID = 1_000_000_000_000_000_001
READER_ID = 3_100_000_000_000_000_002


def summary(label: str, samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (
        f"{label:<46} median {statistics.median(samples) * 1000:7.2f} ms   p99 {p99 * 1000:7.2f} ms   n={len(samples)}"
    )


async def fill(url: str, count: int, years: int, series: int) -> None:
    """Store `count` one-off events over `years` years and `series` weekly series."""
    store = await open_store(url)
    try:
        calendars = await store_sample_events(store, GUILD_ID, count, years)
        for n in range(series):  # weekly, started during 2025, at assorted times of day and weekdays
            starts = datetime(2025, 1, 6, 17, tzinfo=UTC) + timedelta(days=n % 300, minutes=15 * (n % 48))
            await store.events.create(
                Event(
                    guild_id=GUILD_ID,
                    calendar_id=calendars[n % len(calendars)].id,
                    name=f"Series {n}",
                    starts=starts,
                    ends=starts + timedelta(hours=2),
                    timezone="Europe/Berlin",
                    recurrence=Recurrence("WEEKLY"),
                )
            )
    finally:
        await store.close()


async def time_store(url: str, start: datetime, end: datetime) -> tuple[list[float], int, float]:
    """The first page of a list as the command reads it (the page's slots and total, then its events), timed
    100 times; with the total and the peak memory one such read allocates, in KiB."""
    store = await open_store(url)
    try:
        samples = []
        for _ in range(100):
            t0 = time.perf_counter()
            page, total = await store.events.occurrence_page(GUILD_ID, start, end, offset=0, limit=10)
            await store.events.materialise(GUILD_ID, page)
            samples.append(time.perf_counter() - t0)
        tracemalloc.start()
        page, total = await store.events.occurrence_page(GUILD_ID, start, end, offset=0, limit=10)
        await store.events.materialise(GUILD_ID, page)
        peak = tracemalloc.get_traced_memory()[1] / 1024
        tracemalloc.stop()
        return samples, total, peak
    finally:
        await store.close()


async def command(standin: DiscordStandIn, channel: int, runs: int, options: dict) -> tuple[list[float], str]:
    """`/event list` with `options`, `runs` times after 10 to warm up: bot-side times, and the last footer."""
    handled = []
    for n in range(runs + 10):
        sent = time.monotonic()
        result = await standin.slash(
            GUILD_ID, channel, READER_ID, "event", subcommand_path=("list",), options=options, settle=0
        )
        path = f"/interactions/{result['interaction_id']}/"
        answered = next(r.at for r in standin.requests if path in r[1])
        if n >= 10:  # the first few warm the caches
            handled.append(answered - sent)
    return handled, result["embeds"][0]["footer"]["text"]


async def main(events: int, years: int, series: int, runs: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        standin = DiscordStandIn()
        await standin.start()
        standin.add_guild("Big guild", guild_id=GUILD_ID)
        channel = standin.add_channel(GUILD_ID, "general")
        standin.add_member(GUILD_ID, READER_ID, "reader")
        bot = BotProcess(standin, Path(folder), GUILD_ID)
        url = f"sqlite:///{bot.database}"

        started = time.perf_counter()
        await fill(url, events, years, series)
        print(f"filled {events} one-off events over {years} year(s) and {series} weekly series "
              f"in {time.perf_counter() - started:.1f} s")  # fmt: skip
        now = datetime.now(UTC)
        month_query = await time_store(url, MONTH_START, MONTH_END)
        upcoming_query = await time_store(url, now, now + timedelta(days=366))

        await bot.start(standin.token)
        try:
            await standin.wait_ready(timeout=30)
            await standin.wait_for(lambda: GUILD_ID in standin.commands, timeout=30)
            month, month_footer = await command(standin, channel, runs, {"month": MONTH})
            upcoming, upcoming_footer = await command(standin, channel, runs, {})
        finally:
            await bot.stop(signal.SIGTERM)
            await standin.close()
    print(f"month {MONTH}: first page shown ({month_footer}); upcoming: ({upcoming_footer})")
    print(summary("/event list month: bot-side, per command", month))
    print(summary("/event list (upcoming): bot-side, per command", upcoming))
    for label, (samples, total, peak) in (("month", month_query), ("upcoming", upcoming_query)):
        print(summary(f"store: first page of {label} ({total} in all)", samples) + f"   peak {peak:.0f} KiB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--years", type=int, default=1, help="the years the one-off events spread over, from 2026")
    parser.add_argument("--series", type=int, default=0)
    parser.add_argument("--runs", type=int, default=300)
    options = parser.parse_args()
    asyncio.run(main(options.events, options.years, options.series, options.runs))
