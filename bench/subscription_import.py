"""Benchmark: a subscribed feed of 5,000 events, 200 of them weekly series (with an EXDATE and a moved
occurrence each), imported by the real poller into a real SQLite store (issue 16: under 5 s and under 100 MB
of extra RSS); and a re-poll of the unchanged feed (under 50 ms bot-side), both as a 304 to If-None-Match and
as the same body again from a server that sends no ETag (its hash says it is unchanged).

The feed is served over loopback by the test suite's HTTP server (tests/feeds.py, on a thread of its own).
Times are of `FeedPoller.poll_due()`: claiming the feed, the GET, hashing, parsing (in a thread), the import in
one transaction, and recording the result; the loopback GET is included, so the bot-side figure is an upper
bound. RSS is this process's VmRSS before, and its peak (VmHWM) after. Prints the figures; asserts nothing.

    python bench/subscription_import.py [--events 5000] [--series 200] [--runs 20]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.reminder_common import rss_kib
from bot.domain.models import GuildSettings
from bot.reminders.feeds import FeedPoller, PollResult
from bot.storage import open_store
from tests.feeds import OPEN, FeedServer, vcalendar

GUILD_ID = 1_000_000_000_000_000_001
START = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
CONFIG = dataclasses.replace(OPEN, failure_threshold=10, timeout_seconds=60)


def feed(events: int, series: int) -> str:
    """`events` VEVENTs: `series` weekly series in Europe/Berlin (each with an EXDATE and an override), the rest
    one-off events over a year, a fifth of them all-day."""
    vevents = []
    for n in range(series):
        first = START + timedelta(days=n % 7, hours=n % 10)
        local = f"{first + timedelta(hours=2):%Y%m%dT%H%M%S}"
        third = f"{first + timedelta(days=14, hours=2):%Y%m%dT%H%M%S}"
        fifth = first + timedelta(days=28, hours=2)
        vevents.append(
            f"UID:series-{n}@bench\nDTSTART;TZID=Europe/Berlin:{local}\nDURATION:PT1H30M\n"
            f"RRULE:FREQ=WEEKLY;COUNT=52\nEXDATE;TZID=Europe/Berlin:{third}\nSUMMARY:Series {n}\n"
            f"DESCRIPTION:Every week\\, with one week off and one moved.\nLOCATION:Room {n % 12}"
        )
        vevents.append(
            f"UID:series-{n}@bench\nRECURRENCE-ID;TZID=Europe/Berlin:{fifth:%Y%m%dT%H%M%S}\n"
            f"DTSTART;TZID=Europe/Berlin:{fifth + timedelta(days=1):%Y%m%dT%H%M%S}\nDURATION:PT1H30M\n"
            f"SUMMARY:Series {n} (moved)"
        )
    for n in range(events - series):
        when = START + timedelta(hours=n * 7 % (365 * 24))
        if n % 5 == 0:
            dates = f"DTSTART;VALUE=DATE:{when:%Y%m%d}\nDTEND;VALUE=DATE:{when + timedelta(days=1):%Y%m%d}"
        else:
            dates = f"DTSTART:{when:%Y%m%dT%H%M%SZ}\nDTEND:{when + timedelta(hours=1):%Y%m%dT%H%M%SZ}"
        vevents.append(f"UID:event-{n}@bench\n{dates}\nSUMMARY:Event {n}\nLOCATION:Hall {n % 30}")
    return vcalendar(*vevents)


async def settings(guild_id: int) -> GuildSettings:
    return GuildSettings(guild_id, timezone="Europe/London")


def summary(label: str, samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (
        f"{label:<52} median {statistics.median(samples) * 1000:7.2f} ms   p99 {p99 * 1000:7.2f} ms   n={len(samples)}"
    )


async def main(events: int, series: int, runs: int) -> None:
    body = feed(events, series).encode()
    server = FeedServer().start()
    clock_now = [datetime(2026, 5, 1, tzinfo=UTC)]
    with tempfile.TemporaryDirectory() as folder:
        store = await open_store(f"sqlite:///{folder}/bench.sqlite3", clock=lambda: clock_now[0])
        poller = FeedPoller(store, CONFIG, clock=lambda: clock_now[0], settings=settings)
        try:
            calendars = []
            for name, path, etag in (("With ETag", "/etag.ics", True), ("Without ETag", "/plain.ics", False)):
                calendar = await store.calendars.get_or_create(GUILD_ID, name)
                url = server.serve(path, body, etag=etag)
                await store.subscriptions.subscribe(GUILD_ID, calendar.id, url, timedelta(minutes=15), created_by=None)
                calendars.append(calendar.id)
            before = rss_kib_self()
            started = time.perf_counter()
            result = await poll_one(poller, clock_now[0])
            took = time.perf_counter() - started
            after = rss_kib_self()
            _events, stored = await store.events.page(GUILD_ID, calendar_id=calendars[0], limit=1)
            print(f"feed: {len(body) / 1_048_576:.1f} MiB, {events} VEVENTs ({series} weekly series); {result.detail}")
            print(f"import: {took:.2f} s for {stored} events stored (target < 5 s)")
            print(
                f"RSS: {before['VmRSS'] / 1024:.1f} MiB before, peak {after['VmHWM'] / 1024:.1f} MiB; extra at peak "
                f"{(after['VmHWM'] - before['VmRSS']) / 1024:.1f} MiB (target < 100 MB)"
            )
            await poll_one(
                poller, clock_now[0]
            )  # the second feed, imported too, so each re-poll below finds it unchanged
            etag_runs, hash_runs = [], []
            for _ in range(runs):
                for samples in (etag_runs, hash_runs):
                    clock_now[0] += timedelta(minutes=20)
                    started = time.perf_counter()
                    polled = await poll_one(poller, clock_now[0])
                    samples.append(time.perf_counter() - started)
                    assert polled.outcome == "unchanged", polled
            print(summary("re-poll, 304 Not Modified (target < 50 ms)", etag_runs))
            print(summary("re-poll, same body without ETag (hash) (target < 50 ms)", hash_runs))
        finally:
            await poller.stop()
            await store.close()
            server.stop()


def rss_kib_self() -> dict[str, int]:
    return rss_kib(os.getpid())


async def poll_one(poller: FeedPoller, now: datetime) -> PollResult:
    """What a pass of the poller does for one feed due: claim it (with its lease), then poll it."""
    [claimed] = await poller.store.subscriptions.claim(now, poller.worker, poller.lease, 1)
    return await poller.poll(claimed)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--series", type=int, default=200)
    parser.add_argument("--runs", type=int, default=20)
    options = parser.parse_args()
    asyncio.run(main(options.events, options.series, options.runs))
