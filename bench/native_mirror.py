"""Benchmark: Discord's Events tab mirror (bot/exts/native.py) against the local stand-in.

Stores a mirrored calendar with `--events` upcoming events (150 by default: 50 more than Discord's cap),
starts the real bot (`python -m bot run`), and measures:

1. mirroring under the rate limit: the stand-in allows `--rate` requests per `--per` seconds on the
   scheduled-event routes of a guild (a bucket of its own, as Discord's are), answering 429 beyond it; the
   time from the bot's READY to the 100th scheduled event created gives events mirrored per second;
2. the time from a calbot edit to the native update: `--edits` `/event edit` commands, each timed from the
   command sent to the PATCH of that event's scheduled event arriving at the stand-in (no rate limit then).

Also checks that none is doubled (markers unique) and the cap held. Prints the figures; asserts nothing.

    python bench/native_mirror.py [--events 150] [--rate 5] [--per 1] [--edits 20]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import signal
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.reminder_common import describe, wait_until
from bot.domain.models import Calendar, Event
from bot.domain.native import read_marker
from bot.storage import open_store
from tests.standin import DiscordStandIn, Permissions
from tests.standin.process import BotProcess

GUILD_ID = 1_000_000_000_000_000_001
ADMIN_ID = 1_000_000_000_000_000_101
READY = "Logged in as"


async def arrange(url: str, channel: int, count: int) -> None:
    store = await open_store(url)
    try:
        calendar = await store.calendars.create(
            Calendar(guild_id=GUILD_ID, name="Matches", channel_id=channel, discord_events=True)
        )
        first = datetime.now(UTC) + timedelta(days=1)
        await store.events.create_many([
            Event(guild_id=GUILD_ID, calendar_id=calendar.id, name=f"Match {n}", starts=first + timedelta(hours=n),
                  notifications_interval=(), card_channel_id=channel)
            for n in range(count)
        ])  # fmt: skip
        await store.sync.done([e.id for e in await store.sync.take(limit=count)])  # no cards: not measured here
    finally:
        await store.close()


def patched(standin: DiscordStandIn, path: str) -> bool:
    return bool(standin.requests_to("PATCH", path))


async def main(events: int, rate: int, per: float, edits: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        standin = DiscordStandIn()
        standin.add_guild("Bench guild", guild_id=GUILD_ID,
                          bot_permissions=Permissions.DEFAULT_BOT | Permissions.MANAGE_EVENTS)  # fmt: skip
        channel = standin.add_channel(GUILD_ID, "events")
        admins = standin.add_role(GUILD_ID, "Admins", permissions=Permissions.MANAGE_GUILD)
        standin.add_member(GUILD_ID, ADMIN_ID, "admin", roles=[admins])
        standin.scheduled_event_rate = (rate, per)
        await standin.start()
        bot = BotProcess(standin, Path(folder), GUILD_ID)
        await arrange(f"sqlite:///{bot.database}", channel, events)
        try:
            await bot.start(standin.token)
            await wait_until(lambda: READY in bot.output(), 60, 0.02)
            ready = time.monotonic()
            full = await wait_until(lambda: len(standin.scheduled_events(GUILD_ID)) >= min(events, 100), 300, 0.02)
            mirrored = time.monotonic() - ready
            shown = standin.scheduled_events(GUILD_ID)
            markers = [read_marker(e["description"]) for e in shown]
            limited = standin.scheduled_event_429s

            standin.scheduled_event_rate = None
            latencies = []
            for n in range(edits):
                target = shown[n]
                event_id = markers[n][0]
                path = f"/guilds/{GUILD_ID}/scheduled-events/{target['id']}$"
                sent = time.monotonic()
                options = {"event": str(event_id), "name": f"Match {n} (moved)"}
                await standin.slash(GUILD_ID, channel, ADMIN_ID, "event", subcommand_path=("edit",), options=options)
                if await wait_until(functools.partial(patched, standin, path), 30, 0.002):
                    latencies.append(standin.requests_to("PATCH", path)[-1].at - sent)
        finally:
            await bot.stop(signal.SIGTERM)
            await standin.close()
        traceback = "Traceback" in bot.output()
    print(f"{events} upcoming events, rate limit {rate} requests per {per:g} s on the scheduled-event routes")
    print(f"cap reached: {full}; shown {len(shown)}; doubled {len(markers) - len(set(markers))}")
    print(f"READY -> {len(shown)} scheduled events: {mirrored:.2f} s = {len(shown) / mirrored:.1f} events/s "
          f"(429s answered: {limited})")  # fmt: skip
    if latencies:
        print(f"calbot edit -> native update (PATCH at the stand-in): {describe(latencies)}")
        print(f"  mean {statistics.mean(latencies) * 1000:.1f} ms over {len(latencies)} edits")
    print(f"Traceback in the bot's log: {traceback}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=150)
    parser.add_argument("--rate", type=int, default=5)
    parser.add_argument("--per", type=float, default=1.0)
    parser.add_argument("--edits", type=int, default=20)
    options = parser.parse_args()
    asyncio.run(main(options.events, options.rate, options.per, options.edits))
