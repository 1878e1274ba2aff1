"""Benchmark: one reminder by DM to 2,000 members going, against a stand-in that enforces Discord's global
limit of 50 requests per second with real 429 answers.

Members whose DM channel calbot kept from an earlier reminder (the default) cost one request each; with
`--first-contact` every channel is opened first, two requests each. Runs the real bot (`python -m bot run`)
and counts, per member, the DMs the stand-in created. Target (issue 15): at least 45 DMs/s for known members,
none lost, none doubled, no 429. Prints the figures; asserts nothing.

    python bench/dm_fanout.py [--members 2000] [--rate 50] [--first-contact]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import signal
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.reminder_common import GUILD_ID, new_world, outbox_states, start_bot, wait_until
from bot.domain.models import Calendar, Event
from bot.domain.reminders import PlannedReminder
from bot.domain.rsvp import GOING
from bot.storage import open_store
from tests.standin.process import BotProcess
from tests.test_crash import whole_second

START_AFTER = timedelta(seconds=10)
TIME_LIMIT = 170.0
FIRST_MEMBER = 500_000_000_000_000_000


async def arrange(url: str, channel: int, members: list[int], keep: dict[int, int]) -> datetime:
    """The event, its members' answers and kept DM channels; then its reminder, due START_AFTER from now
    (storing the answers takes a while). Returns the due time."""
    store = await open_store(url)
    try:
        calendar = await store.calendars.create(Calendar(guild_id=GUILD_ID, name="Raids", channel_id=channel))
        event = await store.events.create(
            Event(guild_id=GUILD_ID, calendar_id=calendar.id, name="Raid", starts=datetime.now(UTC) + timedelta(days=1),
                  notifications_interval=("pt15m",), notifications_channels=("discord_private",))
        )  # fmt: skip
        for member in members:
            await store.attendees.respond(GUILD_ID, event.id, 0, member, GOING, None)
        for member, channel_id in keep.items():
            await store.dm_channels.save(member, channel_id)
        due = whole_second(datetime.now(UTC) + START_AFTER)
        starts = due + timedelta(minutes=15)
        await store.events.update(dataclasses.replace(event, starts=starts))
        while queued := await store.sync.take(limit=1000):  # the follow-up done: no card competes with the DMs
            await store.sync.done([entry.id for entry in queued])
        await store.reminders.schedule(
            GUILD_ID, event.id, [PlannedReminder(0, starts, "pt15m", "discord_private", due)]
        )
    finally:
        await store.close()
    return due


async def main(count: int, rate: float, first_contact: bool) -> None:
    with tempfile.TemporaryDirectory() as folder:
        standin, channel = new_world(rate_limit_per_second=rate)
        await standin.start()
        bot = BotProcess(standin, Path(folder), GUILD_ID)
        members = [FIRST_MEMBER + n for n in range(count)]
        for member in members:
            standin.add_member(GUILD_ID, member, f"member{member - FIRST_MEMBER}")
        # Known members: their DM channels exist at Discord and calbot kept their ids from an earlier reminder.
        keep = {} if first_contact else {m: standin.dm_channel_id(m) for m in members}
        started = time.perf_counter()
        due = await arrange(f"sqlite:///{bot.database}", channel, members, keep)
        print(f"stored 1 reminder to {count} members due at {due:%H:%M:%S} in {time.perf_counter() - started:.1f} s")

        def delivered() -> list[int]:
            return [len(standin.messages.get(standin.dm_channel_id(m), [])) for m in members]

        try:
            await start_bot(standin, bot)
            wait = due.timestamp() - time.time()
            assert wait > 0, f"the bot took too long to start; the reminder was due {-wait:.1f} s ago"
            await wait_until(
                lambda: all(delivered()) or time.time() > due.timestamp() + TIME_LIMIT, TIME_LIMIT + wait + 5, 0.1
            )
            await asyncio.sleep(2)  # anything doubled would show up now
            offset = time.time() - time.monotonic()
            dm_channels = {standin.dm_channel_id(m) for m in members}
            posts = [
                r for r in standin.requests
                if r.method == "POST" and r.path.startswith("/channels/") and int(r.path.split("/")[2]) in dm_channels
            ]  # fmt: skip
            opens = [r for r in standin.requests if r.method == "POST" and r.path == "/users/@me/channels"]
            created = [r.at + offset for r in posts if r.status == 200]
            counts = delivered()
        finally:
            await bot.stop(signal.SIGTERM)
            await standin.close()
        states = dict(outbox_states(bot.database))
        with sqlite3.connect(bot.database) as db:
            errors = dict(db.execute("SELECT last_error, count(*) FROM reminders WHERE state = 'failed' GROUP BY 1"))
        output = bot.output()
    if not created:
        print(f"nothing was delivered; outbox {states}, failed: {errors}\n{output[-3000:]}")
        return
    span = max(created) - due.timestamp()
    sent = sum(1 for n in counts if n)
    print(f"{'first contact' if first_contact else 'known members'}: {sent} of {count} DMs in {span:.2f} s")
    print(f"throughput: {sent / span:.1f} DMs/s   (stand-in limit {rate:g} requests/s, global)")
    print(f"requests: {len(posts)} messages, {len(opens)} DM channel opens   429s seen {standin.rate_limited}")
    print(f"lost {sum(1 for n in counts if n == 0)}   doubled {sum(n - 1 for n in counts if n > 1)}   outbox {states}")
    print(f"failed: {errors}   bot log: Traceback: {'Traceback' in output}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--first-contact", action="store_true")
    options = parser.parse_args()
    asyncio.run(main(options.members, options.rate, options.first_contact))
