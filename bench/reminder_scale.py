"""Benchmark: start-up and memory with 1,000,000 pending reminders stored.

Arranges a real SQLite file (the bot's own migrations, then plain `executemany` for speed): 250,000 events
in 1,000 guilds (or --guilds), each with four public reminders (p1d, pt1h, pt15m, pt0m) due over the next 90 days, so
1,000,000 pending outbox rows. Two more events belong to the stand-in's guild: one whose reminder was
already due when the bot started (the first dispatch pass must find and send it among the million), and
one due a few seconds after start-up (a dispatch cycle on the full outbox, once the bot is up).

First times the outbox operations whose cost could grow with its size (in this process, on the file).
Then starts the real bot (`python -m bot run`) against the local Discord stand-in and measures:
  * READY: when the stand-in sent READY on the gateway (stamped inside the stand-in);
  * ready: both (a) `/event list` answered, sent the moment READY went out, and (b) the already-due
    reminder delivered (the first dispatch pass over the outbox done). Reported from READY and from the
    process start;
  * `/notifications` (the guild's reminder log) answered;
  * the reminder due after start-up: its latency from due time to the message request;
  * the process's VmRSS at READY, after start-up and after that dispatch cycle, and VmHWM (its peak).
Target (the reminders issue): RSS under 200 MB, ready within 3 s of READY. Prints the figures; asserts nothing.

    python bench/reminder_scale.py [--reminders 1000000] [--guilds 1000]   (--guilds 1: all in the bot's guild)
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.reminder_common import GUILD_ID, arrange, describe, new_world, rss_kib, wait_until
from bot.domain.reminders import PlannedReminder
from bot.storage import open_store
from tests.standin.process import BotProcess
from tests.test_crash import whole_second

READER_ID = 3_100_000_000_000_000_002
INTERVALS = (("p1d", 86400), ("pt1h", 3600), ("pt15m", 900), ("pt0m", 0))
HORIZON = 90 * 86400  # reminders fall due over the next 90 days
SOON = 8.0  # seconds after start-up that the second probe reminder falls due
LEASE = timedelta(minutes=2)


def guild_of(n: int) -> int:
    """Guild number 0 is the stand-in's guild, the one the bot is in; the rest stand for other guilds."""
    return GUILD_ID if n == 0 else 10_000 + n


def fill(database: Path, reminders: int, guilds: int) -> int:
    """Store `reminders` pending reminders (four per event) over `guilds` guilds; returns how many."""
    events = reminders // len(INTERVALS)
    now = int(time.time())
    first_start = now + 86400 + 3600  # every reminder of every event is still in the future
    with sqlite3.connect(database) as db:
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = OFF")
        db.executemany(
            "INSERT INTO calendars (id, guild_id, name, created_at, updated_at) VALUES (?, ?, 'General', ?, ?)",
            ((100 + g, guild_of(g), now, now) for g in range(guilds)),
        )
        db.executemany(
            "INSERT INTO events (id, guild_id, calendar_id, name, starts, timezone, notifications_interval,"
            " notifications_channels, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'UTC', ?, ?, ?, ?)",
            (
                (100 + e, guild_of(e % guilds), 100 + e % guilds, f"Event {e}", first_start + e * HORIZON // events,
                 '["p1d", "pt1h", "pt15m", "pt0m"]', '["discord_public"]', now, now)
                for e in range(events)
            ),
        )  # fmt: skip
        db.executemany(
            "INSERT INTO reminders (guild_id, event_id, occurrence_start, interval, channel, target, scheduled_for,"
            " due, created_at, updated_at) VALUES (?, ?, ?, ?, 'discord_public', 0, ?, ?, ?, ?)",
            (
                (guild_of(e % guilds), 100 + e, start, code, start - lead, start - lead, now, now)
                for e in range(events)
                for start in (first_start + e * HORIZON // events,)
                for code, lead in INTERVALS
            ),
        )
        db.commit()  # no ANALYZE: the bot never runs it, so its query plans are chosen without statistics
        return db.execute("SELECT count(*) FROM reminders WHERE state = 'pending'").fetchone()[0]


async def store_timings(url: str, probe_event: int) -> dict[str, list[float]]:
    """The outbox operations whose cost could grow with its size, timed in this process on the filled file:
    re-planning an event (what /event create and /event edit do), the notification log, the next due time,
    and a claim that finds nothing due yet."""
    store = await open_store(url)
    timings: dict[str, list[float]] = {"schedule": [], "recent": [], "next_due": [], "claim": []}
    try:
        [row] = await store.reminders.for_event(GUILD_ID, probe_event)
        planned = [PlannedReminder(row.occurrence, row.occurrence_start, row.interval, row.channel, row.scheduled_for)]
        for _ in range(20):
            for name, call in (
                ("schedule", lambda: store.reminders.schedule(GUILD_ID, probe_event, planned)),
                ("recent", lambda: store.reminders.recent(GUILD_ID)),
                ("next_due", lambda: store.reminders.next_due()),
                ("claim", lambda: store.reminders.claim(datetime.now(UTC) - timedelta(days=1), "bench", LEASE, 200)),
            ):
                t0 = time.perf_counter()
                await call()
                timings[name].append(time.perf_counter() - t0)
    finally:
        await store.close()
    return timings


async def answered_in(standin, channel: int, command: str, *path: str) -> tuple[dict, float, float]:
    """Run a slash command as the reader; return the answer, when it was asked and when the bot's answer
    arrived (monotonic)."""
    asked = time.monotonic()
    result = await standin.slash(GUILD_ID, channel, READER_ID, command, subcommand_path=path, settle=0)
    marker = f"/interactions/{result['interaction_id']}/"
    return result, asked, next(r.at for r in standin.requests if marker in r.path)


async def main(reminders: int, guilds: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        standin, channel = new_world()
        standin.add_member(GUILD_ID, READER_ID, "reader")
        await standin.start()
        bot = BotProcess(standin, Path(folder), GUILD_ID)
        url = f"sqlite:///{bot.database}"
        t0 = time.perf_counter()
        await (await open_store(url)).close()  # the schema, by the bot's own migrations
        stored = await asyncio.to_thread(fill, bot.database, reminders, guilds)
        # The two probes: due in 3 s (so already due when the bot starts, below) and due SOON s after that.
        first = whole_second(datetime.now(UTC) + timedelta(seconds=3))
        soon = first + timedelta(seconds=SOON)
        overdue, later = await arrange(url, channel, [first, soon])
        size = sum(p.stat().st_size for p in bot.database.parent.iterdir())
        print(f"stored {stored:,} pending reminders in {guilds} guild(s), {stored // guilds:,} in the bot's guild "
              f"(+2 probes) in {time.perf_counter() - t0:.1f} s; files {size / 2**20:.0f} MiB")  # fmt: skip
        with sqlite3.connect(bot.database) as db:
            probe_event = db.execute("SELECT max(id) FROM events").fetchone()[0]
        timings = await store_timings(url, probe_event)
        for name, samples in timings.items():
            print(f"store, in this process: reminders.{name:<9} {describe(samples)}")
        await asyncio.sleep(max(0.0, first.timestamp() - time.time() + 0.2))

        ready_sent: list[float] = []
        identify = standin._on_identify

        def on_identify(conn, d):  # the stand-in calls it through the instance; READY goes out inside
            identify(conn, d)
            ready_sent.append(time.monotonic())

        standin._on_identify = on_identify
        try:
            started = time.monotonic()
            await bot.start(standin.token)
            pid = bot.process.pid
            await wait_until(lambda: ready_sent or bot.process.returncode is not None, 120, interval=0.001)
            if not ready_sent:
                raise RuntimeError("the bot did not log in:\n" + bot.output())
            ready_at = ready_sent[0]
            at_ready = rss_kib(pid)
            listed, _asked, answered = await answered_in(standin, channel, "event", "list")
            assert "Upcoming events" in listed["embeds"][0]["title"], listed
            await wait_until(lambda: sent_at(standin, channel, overdue) is not None, 30, interval=0.001)
            swept = sent_at(standin, channel, overdue)
            await asyncio.sleep(0.5)  # let start-up settle
            after_start = rss_kib(pid)
            logged, log_asked, log_answered = await answered_in(standin, channel, "notifications")
            assert "pt15m" in logged["embeds"][0]["description"], logged
            # A dispatch cycle on the full outbox: the timer the first pass armed for the next due reminder.
            await wait_until(lambda: sent_at(standin, channel, later) is not None, SOON + 75, interval=0.005)
            cycle = sent_at(standin, channel, later)
            offset = time.time() - time.monotonic()
            await asyncio.sleep(0.5)
            after_cycle = rss_kib(pid)
        finally:
            await bot.stop(signal.SIGTERM)
            await standin.close()
        output = bot.output()

    ready = max(answered, swept or float("inf"))
    print(f"process start -> gateway READY sent          {(ready_at - started) * 1000:8.0f} ms")
    print(f"READY -> /event list answered                 {(answered - ready_at) * 1000:8.0f} ms")
    swept_ms = (swept - ready_at) * 1000 if swept else float("nan")
    print(f"READY -> already-due reminder delivered        {swept_ms:8.0f} ms"
          "   (negative: the first dispatch pass ran before the gateway login)")  # fmt: skip
    print(f"READY -> ready (both of the above)            {(ready - ready_at) * 1000:8.0f} ms")
    print(f"process start -> ready                        {(ready - started) * 1000:8.0f} ms")
    print(f"/notifications (the guild's reminder log) answered in {(log_answered - log_asked) * 1000:.0f} ms")
    if cycle is None:
        print("the reminder due after start-up was NOT delivered")
    else:
        print(f"reminder due after start-up: due -> request   {(cycle + offset - soon.timestamp()) * 1000:8.0f} ms")
    print(f"RSS at READY {at_ready['VmRSS'] / 1024:6.1f} MiB   after start-up (incl. /event list) "
          f"{after_start['VmRSS'] / 1024:6.1f} MiB   after a dispatch cycle "
          f"{after_cycle['VmRSS'] / 1024:6.1f} MiB   peak (VmHWM) {after_cycle['VmHWM'] / 1024:6.1f} MiB")  # fmt: skip
    print(f"Traceback in the bot's log: {'Traceback' in output}")


def sent_at(standin, channel: int, nonce: str) -> float | None:
    for record in standin.requests:
        if (
            record.method == "POST"
            and record.path == f"/channels/{channel}/messages"
            and record.status == 200
            and (record.json or {}).get("nonce") == nonce
        ):
            return record.at
    return None


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reminders", type=int, default=1_000_000)
    parser.add_argument("--guilds", type=int, default=1000, help="1: every reminder in the bot's one guild")
    options = parser.parse_args()
    asyncio.run(main(options.reminders, options.guilds))
