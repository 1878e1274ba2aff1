"""Benchmark: `/event list month:` on a guild with 10,000 events (issue 2: under 50 ms median bot-side),
and with 1,000 weekly series besides (issue 4: `--series 1000`, same target).

Fills a real SQLite file with 10,000 events spread over 2026 (about 830 a month), starts the real bot
(`python -m bot run`) against the local Discord stand-in, and times:
  * bot-side, per command: from the stand-in sending INTERACTION_CREATE to the bot's interaction
    response arriving, over loopback: option parsing, checks, settings and calendar look-ups, the
    month query, rendering the embed and answering. Network time is the loopback's only.
  * the store query alone (the page of 10 plus the month's total), in this process.
Prints the figures; asserts nothing.

    python bench/event_list.py [--events 10000] [--series 0] [--runs 300]
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import statistics
import sys
import tempfile
import time
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


async def fill(url: str, count: int, series: int) -> list[float]:
    """Store `count` one-off events and `series` weekly series; return timings of the month's occurrences
    query on the filled store."""
    store = await open_store(url)
    try:
        calendars = await store_sample_events(store, GUILD_ID, count)
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
        query = []
        for _ in range(100):
            t0 = time.perf_counter()
            found = await store.events.occurrence_slots(GUILD_ID, MONTH_START, MONTH_END)
            query.append(time.perf_counter() - t0)
        assert len(found) >= 10
        return query
    finally:
        await store.close()


async def main(events: int, series: int, runs: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        standin = DiscordStandIn()
        await standin.start()
        standin.add_guild("Big guild", guild_id=GUILD_ID)
        channel = standin.add_channel(GUILD_ID, "general")
        standin.add_member(GUILD_ID, READER_ID, "reader")
        bot = BotProcess(standin, Path(folder), GUILD_ID)

        started = time.perf_counter()
        query = await fill(f"sqlite:///{bot.database}", events, series)
        print(f"filled {events} one-off events and {series} weekly series in {time.perf_counter() - started:.1f} s")

        await bot.start(standin.token)
        try:
            await standin.wait_ready(timeout=30)
            await standin.wait_for(lambda: GUILD_ID in standin.commands, timeout=30)
            handled = []
            for n in range(runs + 10):
                sent = time.monotonic()
                result = await standin.slash(
                    GUILD_ID, channel, READER_ID, "event", subcommand_path=("list",), options={"month": MONTH},
                    settle=0,
                )  # fmt: skip
                path = f"/interactions/{result['interaction_id']}/"
                answered = next(r.at for r in standin.requests if path in r[1])
                if n >= 10:  # the first few warm the caches
                    handled.append(answered - sent)
            footer = result["embeds"][0]["footer"]["text"]
        finally:
            await bot.stop(signal.SIGTERM)
            await standin.close()
    print(f"month {MONTH}: first page shown ({footer})")
    print(summary("/event list month: bot-side, per command", handled))
    print(summary("store: the month's occurrences, counted and ordered", query))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--series", type=int, default=0)
    parser.add_argument("--runs", type=int, default=300)
    options = parser.parse_args()
    asyncio.run(main(options.events, options.series, options.runs))
