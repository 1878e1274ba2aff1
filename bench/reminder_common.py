"""Shared by the reminder benchmarks: arrange reminders in a real SQLite file, run the real bot against the
local Discord stand-in, and read what reached the stand-in. Not a benchmark itself."""

from __future__ import annotations

import asyncio
import collections
import math
import sqlite3
import statistics
import sys
import time
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.standin import DiscordStandIn
from tests.standin.process import BotProcess
from tests.test_crash import arrange as arrange_events

GUILD_ID = 1_000_000_000_000_000_001


async def arrange(url: str, channel_id: int, dues: Sequence[datetime]) -> dict[str, datetime]:
    """One event per due time, each with one public `pt15m` reminder, stored through the repositories the
    bot uses (as tests/test_crash.py does). Returns {nonce: due time}."""
    nonces = await arrange_events(url, GUILD_ID, channel_id, dues)
    return dict(zip(nonces, dues, strict=True))


def new_world(**standin_options) -> tuple[DiscordStandIn, int]:
    standin = DiscordStandIn(**standin_options)
    standin.add_guild("Bench guild", guild_id=GUILD_ID)
    channel = standin.add_channel(GUILD_ID, "reminders")
    return standin, channel


async def start_bot(standin: DiscordStandIn, bot: BotProcess) -> None:
    await bot.start(standin.token)
    try:
        await standin.wait_ready(timeout=60)
    except Exception:
        bot.process.kill()
        raise RuntimeError("the bot did not start:\n" + bot.output()) from None


def created_per_nonce(standin: DiscordStandIn, channel: int) -> collections.Counter[str]:
    """How many messages the stand-in created for each nonce (a nonce-deduplicated resend creates none)."""
    return collections.Counter(m.get("nonce") for m in standin.messages[channel])


def outbox_states(database: Path) -> collections.Counter[str]:
    with sqlite3.connect(database) as db:
        return collections.Counter(dict(db.execute("SELECT state, count(*) FROM reminders GROUP BY state")))


def lost_and_doubled(standin: DiscordStandIn, channel: int, expected: Iterable[str]) -> tuple[int, int]:
    counts = created_per_nonce(standin, channel)
    expected = set(expected)
    lost = sum(1 for nonce in expected if counts[nonce] == 0)
    doubled = sum(n - 1 for nonce, n in counts.items() if n > 1) + sum(
        n for nonce, n in counts.items() if nonce not in expected
    )
    return lost, doubled


def rss_kib(pid: int) -> dict[str, int]:
    """VmRSS (now) and VmHWM (peak) of a process, in KiB."""
    figures = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            figures[name] = int(value.split()[0])
    return figures


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, math.ceil(len(ordered) * fraction) - 1)]


def describe(samples: list[float]) -> str:
    return (
        f"median {statistics.median(samples) * 1000:8.1f} ms   p99 {percentile(samples, 0.99) * 1000:8.1f} ms   "
        f"max {max(samples) * 1000:8.1f} ms   min {min(samples) * 1000:8.1f} ms   n={len(samples)}"
    )


async def wait_until(predicate, timeout: float, interval: float = 0.01) -> bool:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(interval)
    return True
