"""Benchmark: dispatch throughput with 1, 2 and 4 bot processes sharing one PostgreSQL outbox.

For each process count, in a database of its own (created here, dropped at the end): stores `--reminders`
reminders due at the same second through the bot's repositories (`tests.test_crash.arrange`), starts
that many real bots (`python -m bot run`, unsharded, all on the one guild, `[discord] requests_per_second`
set to `--rate`) against the local Discord stand-in without a rate limit,
and measures from the due time to the last message created and to the last outbox row acknowledged.
Prints reminders/s per process count, how the work split between the processes, the CPU each side used,
and the lost and doubled counts; asserts nothing.

Everything runs on this machine: the stand-in (in this process), the bots and PostgreSQL share its cores,
so the figures say how the outbox scales here, not what Discord would allow (50 requests/s per bot).

    python bench/dispatch_scale.py [--dsn postgresql://postgres@127.0.0.1:5432/postgres] [--reminders 10000]
                                   [--processes 1,2,4] [--rate 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import signal
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.reminder_common import GUILD_ID, lost_and_doubled, new_world
from tests.standin.process import BotProcess
from tests.test_crash import arrange, whole_second
from tests.test_scale_out import start_all

STARTUP = timedelta(seconds=10)  # time for the processes to start before the burst falls due
TIME_LIMIT = 300.0  # seconds after the due time


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a live process on this machine so far (0 if it is gone or not ours to see)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def backends(watcher: asyncpg.Connection) -> dict[int, float]:
    """CPU time so far of each PostgreSQL backend serving the benchmark's database (a local server only)."""
    pids = await watcher.fetch("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
    return {row["pid"]: cpu_seconds(row["pid"]) for row in pids}


async def run(server: str, processes: int, count: int, rate: int) -> None:
    name = f"calbot_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(server)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = urlunsplit(urlsplit(server)._replace(path=f"/{name}"))
    standin, channel = new_world()  # no rate limit
    await standin.start()
    bots: list[BotProcess] = []
    watcher = await asyncpg.connect(url)
    try:
        with tempfile.TemporaryDirectory() as folder:
            bots = [
                BotProcess(standin, Path(folder) / f"bot{n}", GUILD_ID, database=url, requests_per_second=rate)
                for n in range(processes)
            ]
            started = time.perf_counter()
            due = whole_second(datetime.now(UTC) + timedelta(seconds=count / 500) + STARTUP)
            expected = await arrange(url, GUILD_ID, channel, [due] * count, concurrency=8)
            stored = time.perf_counter() - started
            await start_all(standin, bots, timeout=60)
            wait = due.timestamp() - time.time()
            assert wait > 0, f"storing and starting took too long; the burst was due {-wait:.1f} s ago"
            cpu_before = [cpu_seconds(bot.process.pid) for bot in bots]
            here_before = time.process_time()
            database_before = await backends(watcher)

            async def finished() -> bool:
                unfinished = "SELECT count(*) FROM reminders WHERE state IN ('pending', 'claimed')"
                return await watcher.fetchval(unfinished) == 0 or time.time() > due.timestamp() + TIME_LIMIT

            await asyncio.sleep(max(0.0, wait))
            await standin.wait_for(finished, timeout=TIME_LIMIT + 5, interval=0.05)
            acked = time.time() - due.timestamp()
            cpu = [cpu_seconds(bot.process.pid) - before for bot, before in zip(bots, cpu_before, strict=True)]
            here = time.process_time() - here_before
            database = sum(c - database_before.get(pid, 0.0) for pid, c in (await backends(watcher)).items())
            await asyncio.sleep(1.0)  # anything doubled would show up now
            states = dict(await watcher.fetch("SELECT state, count(*) FROM reminders GROUP BY state"))
            split = collections.Counter(
                dict(await watcher.fetch("SELECT claimed_by, count(*) FROM reminders GROUP BY claimed_by"))
            )
            for bot in bots:
                await bot.stop(signal.SIGTERM)
            tracebacks = sum("Traceback" in bot.output() for bot in bots)
    finally:
        for bot in bots:
            if bot.process is not None and bot.process.returncode is None:
                bot.process.kill()
                await bot.process.wait()
        await watcher.close()
        await standin.close()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()

    offset = time.time() - time.monotonic()
    posts = [r for r in standin.requests if r.method == "POST" and r.path == f"/channels/{channel}/messages"]
    created = [r.at + offset - due.timestamp() for r in posts if r.status == 200]
    lost, doubled = lost_and_doubled(standin, channel, expected)
    statuses = dict(collections.Counter(r.status for r in posts))
    print(f"--- {processes} process(es): {count:,} reminders due at {due:%H:%M:%S} (stored in {stored:.1f} s)")
    print(
        f"    {count / max(created):7.1f} reminders/s to the last message created ({max(created):.2f} s, first after "
        f"{min(created) * 1000:.0f} ms)   {count / acked:7.1f}/s to the last acknowledged ({acked:.2f} s)"
    )
    print(f"    per process: {', '.join(str(n) for n in sorted(split.values(), reverse=True))} reminders")
    print(
        f"    CPU during the burst: bots {' + '.join(f'{c:.1f}' for c in cpu)} s, stand-in {here:.1f} s, "
        f"PostgreSQL {database:.1f} s "
        f"(of {acked * (os.cpu_count() or 1):.1f} s on {os.cpu_count()} cores)"
    )
    print(
        f"    lost {lost}   doubled {doubled}   outbox {states}   message answers {statuses}   "
        f"nonce dedupes {standin.nonce_hits}   logs with a Traceback: {tracebacks}"
    )


async def main(server: str, counts: list[int], reminders: int, rate: int) -> None:
    print(f"dispatch throughput, one PostgreSQL outbox, stand-in without a rate limit, requests_per_second={rate}")
    for processes in counts:
        await run(server, processes, reminders, rate)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dsn", default=os.environ.get("CALBOT_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
    )
    parser.add_argument("--reminders", type=int, default=10_000)
    parser.add_argument("--processes", default="1,2,4", help="process counts to try, comma-separated")
    parser.add_argument("--rate", type=int, default=10_000, help="[discord] requests_per_second of each process")
    options = parser.parse_args()
    counts = [int(n) for n in options.processes.split(",")]
    asyncio.run(main(options.dsn, counts, options.reminders, options.rate))
