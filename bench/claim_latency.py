"""Benchmark: claiming from a PostgreSQL outbox holding 1,000,000 pending reminders.

Arranges a fresh database on the server the DSN names (the bot's own migrations, then COPY for speed):
1,000,000 pending reminder rows over 1,000 guilds, due over the next 90 days, so the outbox is as big as
a large installation's. Then, on that table, times what each dispatcher does on every cycle, through the
real store (`bot.storage.open_store`):
  * claim: take a batch of up to 200 due rows (FOR UPDATE SKIP LOCKED, with a lease), as the engine
    does, with `--due` rows due now among the million; measured until they are all claimed, and then
    on an outbox with nothing due (the common case: a cycle that finds nothing);
  * claim with a shard filter (shard 1 of 4);
  * next_due: when to wake next;
  * release_expired: the housekeeping sweep for dead processes' leases.
Prints median/p99 per operation; asserts nothing. The database is dropped at the end.

    python bench/claim_latency.py [--dsn postgresql://postgres@127.0.0.1:5432/postgres] [--rows 1000000] [--due 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.domain.shards import Shards
from bot.storage import open_store

LEASE = timedelta(minutes=2)
BATCH = 200
HORIZON = 90 * 86400


def figures(name: str, samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"{name:<34} n={len(samples):<5} median {statistics.median(ordered):7.2f} ms   p99 {p99:7.2f} ms"


async def timed(samples: list[float], call) -> object:
    t0 = time.perf_counter()
    result = await call()
    samples.append((time.perf_counter() - t0) * 1000)
    return result


async def fill(url: str, rows: int, due: int, now: int) -> None:
    """`rows` pending reminders; `due` of them due now, the rest over the next 90 days."""
    connection = await asyncpg.connect(url)
    try:
        records = []
        for n in range(rows):
            when = now - 1 if n < due else now + 60 + (n * HORIZON) // rows
            guild = 10_000 + (n % 1000) * (1 << 22)  # spread over shards
            records.append(
                (guild, n + 1, when + 900, "pt15m", "discord_public", 0, 0, when, when, "pending", 0, 0, now, now)
            )
        await connection.copy_records_to_table(
            "reminders",
            records=records,
            columns=["guild_id", "event_id", "occurrence_start", "interval", "channel", "target", "occurrence",
                     "scheduled_for", "due", "state", "attempts", "late", "created_at", "updated_at"],
        )  # fmt: skip
        await connection.execute("ANALYZE reminders")
    finally:
        await connection.close()


async def main(server: str, rows: int, due: int) -> None:
    name = f"calbot_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(server)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = urlunsplit(urlsplit(server)._replace(path=f"/{name}"))
    try:
        store = await open_store(url)
        now = datetime.now(UTC).replace(microsecond=0)
        t0 = time.perf_counter()
        await fill(url, rows, due, int(now.timestamp()))
        print(f"arranged {rows:,} pending reminders ({due:,} due now) in {time.perf_counter() - t0:.1f} s")
        claim, empty, sharded, nxt, sweep = [], [], [], [], []
        claimed = 0
        while batch := await timed(claim, lambda: store.reminders.claim(now, "bench", LEASE, BATCH)):
            claimed += len(batch)
        claim.pop()  # the last call found nothing: it belongs with the empty ones
        for _ in range(200):
            await timed(empty, lambda: store.reminders.claim(now, "bench", LEASE, BATCH))
            await timed(sharded, lambda: store.reminders.claim(now, "bench", LEASE, BATCH, shards=Shards(4, (1,))))
            await timed(nxt, lambda: store.reminders.next_due())
            await timed(sweep, lambda: store.reminders.release_expired(now))
        print(f"claimed {claimed:,} due reminders in batches of {BATCH}")
        print(figures(f"claim (batch of {BATCH}, due rows)", claim))
        print(figures("claim (nothing due)", empty))
        print(figures("claim, shard 1 of 4 (nothing due)", sharded))
        print(figures("next_due", nxt))
        print(figures("release_expired", sweep))
        await store.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dsn", default=os.environ.get("CALBOT_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=20_000)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.dsn, arguments.rows, arguments.due))
