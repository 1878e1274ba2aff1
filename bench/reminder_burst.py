"""Benchmark: a burst of 5,000 reminders due at the same second, against a stand-in that enforces Discord's
global limit of 50 requests per second with real 429 answers (retry_after, X-RateLimit-Global).

Stores the reminders through the bot's repositories, starts the real bot (`python -m bot run`) against the
local Discord stand-in, and measures from the due time to the last message request that created a message.
Target (the reminders issue): at least 45 delivered per second, none lost, none doubled.
Prints the figures; asserts nothing.

    python bench/reminder_burst.py [--reminders 5000] [--rate 50]
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.reminder_common import (
    GUILD_ID,
    arrange,
    created_per_nonce,
    lost_and_doubled,
    new_world,
    outbox_states,
    start_bot,
    wait_until,
)
from tests.standin.process import BotProcess
from tests.test_crash import whole_second

START_AFTER = timedelta(seconds=8)  # time for the bot to start before the burst falls due
TIME_LIMIT = 170.0  # seconds after the due time; the benchmark stays under three minutes


async def main(count: int, rate: float) -> None:
    with tempfile.TemporaryDirectory() as folder:
        standin, channel = new_world(rate_limit_per_second=rate)
        await standin.start()
        bot = BotProcess(standin, Path(folder), GUILD_ID)
        started = time.perf_counter()
        due = whole_second(datetime.now(UTC) + timedelta(seconds=count / 600) + START_AFTER)
        expected = await arrange(f"sqlite:///{bot.database}", channel, [due] * count)
        print(f"stored {count} reminders due at {due:%H:%M:%S} in {time.perf_counter() - started:.1f} s")
        try:
            await start_bot(standin, bot)
            wait = due.timestamp() - time.time()
            assert wait > 0, f"the bot took too long to start; the burst was due {-wait:.1f} s ago"
            await wait_until(
                lambda: len(created_per_nonce(standin, channel)) >= count or time.time() > due.timestamp() + TIME_LIMIT,
                TIME_LIMIT + wait + 5,
                interval=0.05,
            )
            await asyncio.sleep(2)  # anything doubled would show up now
            offset = time.time() - time.monotonic()
            posts = [r for r in standin.requests if r.method == "POST" and r.path == f"/channels/{channel}/messages"]
            created = [r.at + offset for r in posts if r.status == 200]
            lost, doubled = lost_and_doubled(standin, channel, expected)
            delivered = len(created_per_nonce(standin, channel))
            late = sum("This reminder is late" in (m.get("content") or "") for m in standin.messages[channel])
        finally:
            await bot.stop(signal.SIGTERM)
            await standin.close()
        states = dict(outbox_states(bot.database))
        output = bot.output()
    span = max(created) - due.timestamp()
    first = min(created) - due.timestamp()
    print(f"delivered {delivered} of {count} in {span:.2f} s from the due time (first after {first * 1000:.0f} ms)")
    print(f"throughput: {delivered / span:.1f} delivered/s   (stand-in limit {rate:g} requests/s, global)")
    print(f"message requests {len(posts)}   429s seen {standin.rate_limited}   nonce dedupes {standin.nonce_hits}")
    print(f"lost {lost}   doubled {doubled}   outbox {states}   labelled late: {late}")
    print(f"bot log: {output.count('rate limited')} rate-limit lines, Traceback: {'Traceback' in output}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reminders", type=int, default=5000)
    parser.add_argument("--rate", type=float, default=50)
    options = parser.parse_args()
    asyncio.run(main(options.reminders, options.rate))
