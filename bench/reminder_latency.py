"""Benchmark: latency from a reminder's due time to its message request reaching Discord.

Stores a few hundred reminders due at known whole-second instants spread over 30 s (1 to 20 due in the same
second), starts the real bot (`python -m bot run`) against the local Discord stand-in (no rate limit), and
measures, for each reminder, the stand-in's arrival time of its `POST /channels/{id}/messages` minus the
reminder's due time. The stand-in stamps requests with `time.monotonic()`; it runs in this process, so one
offset to `time.time()` taken here converts them to wall time, which the bot's clock (real UTC) also reads.
Target (the reminders issue): median under 100 ms, p99 under 1 s. Prints the figures; asserts nothing.

    python bench/reminder_latency.py [--seconds 30]
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
    describe,
    lost_and_doubled,
    new_world,
    outbox_states,
    start_bot,
    wait_until,
)
from tests.standin.process import BotProcess
from tests.test_crash import whole_second

PER_SECOND = (1, 5, 10, 20, 14)  # how many fall due together, cycling: 10 a second on average
START_AFTER = timedelta(seconds=10)  # time for the bot to start before the first reminder falls due


async def main(seconds: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        standin, channel = new_world()
        await standin.start()
        bot = BotProcess(standin, Path(folder), GUILD_ID)
        first = whole_second(datetime.now(UTC) + START_AFTER)
        dues = [first + timedelta(seconds=s) for s in range(seconds) for _ in range(PER_SECOND[s % len(PER_SECOND)])]
        expected = await arrange(f"sqlite:///{bot.database}", channel, dues)
        print(f"stored {len(expected)} reminders due from {first:%H:%M:%S} over {seconds} s")
        try:
            await start_bot(standin, bot)
            last = max(dues).timestamp()
            done = await wait_until(
                lambda: len(created_per_nonce(standin, channel)) >= len(expected) or time.time() > last + 30, 120
            )
            await asyncio.sleep(1)  # anything doubled would show up now
            offset = time.time() - time.monotonic()  # this process's monotonic clock -> wall clock
            arrival: dict[str, float] = {}
            for record in standin.requests:
                if record.method == "POST" and record.path == f"/channels/{channel}/messages":
                    arrival.setdefault((record.json or {}).get("nonce"), record.at + offset)
            latencies = [arrival[n] - due.timestamp() for n, due in expected.items() if n in arrival]
            lost, doubled = lost_and_doubled(standin, channel, expected)
        finally:
            await bot.stop(signal.SIGTERM)
            await standin.close()
        states = dict(outbox_states(bot.database))
        traceback = "Traceback" in bot.output()
    print(f"all delivered before the deadline: {done}")
    print(f"due time -> message request at the stand-in: {describe(latencies)}")
    print(f"lost {lost}   doubled {doubled}   429s seen {standin.rate_limited}   outbox {states}")
    print(f"Traceback in the bot's log: {traceback}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=30)
    asyncio.run(main(parser.parse_args().seconds))
