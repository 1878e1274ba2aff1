"""Benchmark: SIGKILL during a burst of 1,000 due reminders, ten times over; every reminder must reach
Discord exactly once (the reminders issue: 0 lost, 0 doubled).

Each run is the scenario of tests/test_crash.py on a fresh database and a fresh stand-in (which honours
nonces like Discord): 1,000 reminders due together, the real bot (`python -m bot run`) killed with SIGKILL
the instant the stand-in has created a randomly chosen message number, restarted, killed again at a later
random point, restarted, and left to finish. The bot keeps under Discord's 50 requests/s, so a burst of
1,000 takes about 21 s: runs go three at a time, each with its own stand-in, bot process and database.
Prints lost/doubled per run and the totals; asserts nothing.

    python bench/crash_burst.py [--runs 10] [--reminders 1000] [--kills 2] [--seed N] [--parallel 3]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.test_crash import CrashRun, crash_burst


async def one(n: int, count: int, kill_at: list[int], turns: asyncio.Semaphore) -> tuple[int, CrashRun, float]:
    async with turns:
        with tempfile.TemporaryDirectory() as folder:
            t0 = time.perf_counter()
            run = await crash_burst(Path(folder), count=count, kill_at=kill_at, timeout=150)
            return n, run, time.perf_counter() - t0


async def main(runs: int, count: int, kills: int, seed: int, parallel: int) -> None:
    rng = random.Random(seed)
    print(f"{runs} runs of {count} reminders, {kills} SIGKILL(s) each, {parallel} at a time (seed {seed})")
    started = time.perf_counter()
    turns = asyncio.Semaphore(parallel)
    plans = [sorted(rng.sample(range(1, count), kills)) for _ in range(runs)]
    results = await asyncio.gather(*(one(n, count, plan, turns) for n, plan in enumerate(plans, 1)))
    totals = collections.Counter()
    for n, run, took in results:
        figures = {
            "lost": run.lost,
            "doubled": run.doubled,
            "resent": sum(k - 1 for k in run.posts.values()),  # accepted again after a crash
            "answered by nonce": run.nonce_hits,
            "429s": run.rate_limited,
            "outbox rows not sent": sum(1 for _e, state, _m in run.outbox if state != "sent"),
            "logs with a Traceback": sum("Traceback" in log for log in run.logs),
        }
        totals.update(figures)
        totals["runs"] += 1
        shown = "  ".join(f"{name} {value}" for name, value in figures.items())
        print(f"run {n:2}: killed at message {', '.join(map(str, run.killed_at)):<10}  {shown}  ({took:.1f} s)")
    shown = "  ".join(f"{name} {totals[name]}" for name in figures)
    print(f"total over {totals['runs']} runs: {shown}  ({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--reminders", type=int, default=1000)
    parser.add_argument("--kills", type=int, default=2)
    parser.add_argument("--seed", type=int, default=20260601)
    parser.add_argument("--parallel", type=int, default=3, help="runs at a time, each with its own stand-in and bot")
    options = parser.parse_args()
    asyncio.run(main(options.runs, options.reminders, options.kills, options.seed, options.parallel))
