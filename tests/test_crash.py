"""Crash safety, end to end: `python -m bot` is SIGKILLed in the middle of a burst of 1,000 due reminders,
twice, and restarted each time; every reminder still reaches Discord exactly once.

The stand-in behaves like Discord where it matters: it allows 50 requests per second in all (a 429 beyond),
and it honours message nonces: a `POST /channels/{id}/messages` whose `nonce` (with
`enforce_nonce`) it has already seen, within `nonce_window`, is answered with the message created the first
time, not a new one. The kill is made deterministic where it matters most: the stand-in kills the bot the
instant it has created the Nth reminder message, before the bot can read the answer, so that reminder is
certainly posted but not acknowledged in the outbox, and the restarted bot certainly sends it again.
"""

from __future__ import annotations

import asyncio
import collections
import math
import signal
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.domain.models import Calendar, Event
from bot.domain.reminders import delivery_key, delivery_nonce, plan
from bot.storage import open_store
from bot.storage.database import epoch
from bot.storage.interface import REMINDERS_CHANNEL
from tests.standin import DiscordStandIn, StandInTimeout
from tests.standin.process import BotProcess

GUILD_ID = 1_000_000_000_000_000_001
LEAD = timedelta(minutes=15)  # each event starts this long after its reminder falls due: never late
INTERVAL = "pt15m"
NONCE_WINDOW = 300.0  # seconds; Discord deduplicates an enforced nonce for a few minutes
GLOBAL_LIMIT = 50  # requests per second, answered with 429 beyond it, as Discord does
# Where `arrange` puts a burst until the test, its set-up done, chooses when it falls due (`fall_due`): so
# however long storing takes on a slow machine, the burst is not due before the bot runs.
PLACEHOLDER = timedelta(hours=1)


def whole_second(instant: datetime) -> datetime:
    """The outbox keeps whole seconds."""
    return datetime.fromtimestamp(math.ceil(instant.timestamp()), UTC)


async def arrange(
    url: str, guild_id: int, channel_id: int, dues: Sequence[datetime], *, concurrency: int = 1
) -> dict[str, int]:
    """One event per due time, each with one public `pt15m` reminder, stored the way the bot stores them
    (events.create, the domain's `plan`, reminders.schedule; the follow-up done), over `concurrency`
    connections at once (on PostgreSQL one at a time takes 20 s for 10,000). Returns {expected nonce: event
    id}."""
    store = await open_store(url, pool_max_size=concurrency)
    expected = {}
    try:
        calendar = await store.calendars.create(Calendar(guild_id=guild_id, name="Raids", channel_id=channel_id))
        todo = list(enumerate(dues))
        todo.reverse()

        async def worker() -> None:
            while todo:
                n, due = todo.pop()
                event = await store.events.create(
                    Event(
                        guild_id=guild_id, calendar_id=calendar.id, name=f"Event {n}", starts=due + LEAD,
                        notifications_interval=(INTERVAL,), notifications_channels=("discord_public",),
                    )
                )  # fmt: skip
                planned = plan(
                    occurrences=[(0, event.starts)], intervals=event.notifications_interval,
                    channels=event.notifications_channels, enabled=True, zone=UTC,
                )  # fmt: skip
                assert [p.due for p in planned] == [due]
                await store.reminders.schedule(guild_id, event.id, planned)
                key = delivery_key(event.id, event.starts, INTERVAL, "discord_public", 0)
                expected[delivery_nonce(key)] = event.id

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        # Each write queued its follow-up (the card, planning the reminders): the story here starts after
        # the bot did it, with the reminders planned above, so no card competes with them.
        while queued := await store.sync.take(limit=1000):
            await store.sync.done([entry.id for entry in queued])
    finally:
        await store.close()
    return expected


def lost(expected: dict[str, int], created: collections.Counter[str]) -> int:
    """Expected reminders (by nonce) of which the stand-in created no message."""
    return sum(1 for nonce in expected if created[nonce] == 0)


def doubled(expected: dict[str, int], created: collections.Counter[str]) -> int:
    """Messages created beyond one per expected reminder, and any for a reminder not expected."""
    return sum(n - 1 for n in created.values() if n > 1) + sum(
        n for nonce, n in created.items() if nonce not in expected
    )


@dataclass
class CrashRun:
    expected: dict[str, int]  # nonce -> event id
    created: collections.Counter[str]  # nonce -> messages the stand-in created
    message_ids: dict[str, int]  # nonce -> id of the message the stand-in created first
    posts: collections.Counter[str]  # nonce -> message requests the stand-in accepted (not 429ed)
    outbox: list[tuple[int, str, int | None]]  # (event id, state, message id) per reminder row
    nonce_hits: int
    rate_limited: int  # 429s the stand-in answered
    killed_at: list[int]  # messages created when each SIGKILL struck
    enforced: bool  # every message request carried its nonce with enforce_nonce
    logs: list[str] = field(default_factory=list)  # the bot's log of each run, in order
    exit_code: int | None = None

    @property
    def lost(self) -> int:
        return lost(self.expected, self.created)

    @property
    def doubled(self) -> int:
        return doubled(self.expected, self.created)


def _outbox(database: Path) -> list[tuple[int, str, int | None]]:
    with sqlite3.connect(database, timeout=10) as db:
        return db.execute("SELECT event_id, state, message_id FROM reminders ORDER BY event_id").fetchall()


def _unfinished(database: Path) -> int:
    with sqlite3.connect(database, timeout=10) as db:
        return db.execute("SELECT count(*) FROM reminders WHERE state IN ('pending', 'claimed')").fetchone()[0]


async def fall_due(url: str, due: datetime) -> None:
    """Make every pending reminder fall due at `due`, and wake the bots on a shared database as a write by
    another process does. Their events keep their starts (`PLACEHOLDER` + `LEAD` from when they were stored),
    so each reminder is still on time and keeps its delivery key, hence its nonce."""
    store = await open_store(url)
    try:
        async with store.database.write() as db:
            await db.execute(
                "UPDATE reminders SET due = ?, scheduled_for = ? WHERE state = 'pending'", (epoch(due), epoch(due))
            )
            await db.notify(REMINDERS_CHANNEL, str(epoch(due)))
    finally:
        await store.close()


async def crash_burst(
    folder: Path,
    *,
    count: int = 1000,
    kill_at: Sequence[int] = (250, 600),
    lead: float = 4.0,
    timeout: float = 60.0,  # noqa: ASYNC109 (a bound on each wait for the bot, not on the call)
) -> CrashRun:
    """Store `count` reminders, make them fall due together `lead` seconds after they are stored, run the bot,
    SIGKILL it as the stand-in creates message number `kill_at[i]` (restarting it each time), then let the
    last run finish the burst."""
    standin = DiscordStandIn(nonce_window=NONCE_WINDOW, rate_limit_per_second=GLOBAL_LIMIT)
    await standin.start()
    bot: BotProcess | None = None
    try:
        standin.add_guild("Guild", guild_id=GUILD_ID)
        channel = standin.add_channel(GUILD_ID, "raids")
        bot = BotProcess(standin, folder, GUILD_ID)
        url = f"sqlite:///{bot.database}"
        expected = await arrange(url, GUILD_ID, channel, [whole_second(datetime.now(UTC) + PLACEHOLDER)] * count)
        await fall_due(url, whole_second(datetime.now(UTC) + timedelta(seconds=lead)))

        pending_kills = sorted(kill_at)
        killed_at: list[int] = []
        killed_pids: set[int] = set()
        create_message = standin._create_message

        def create_then_maybe_kill(channel_id, *args, **kwargs):
            message = create_message(channel_id, *args, **kwargs)
            number = len(standin.messages[channel]) + 1  # the stand-in lists it once this returns
            process = bot.process
            due_to_die = pending_kills and number >= pending_kills[0] and process.pid not in killed_pids
            if channel_id == channel and due_to_die:
                # The message exists at Discord now; the bot dies before it hears so. (A request the dead
                # process had already sent may still create a message: it counts, but kills nothing more.)
                process.kill()
                killed_pids.add(process.pid)
                killed_at.append(number)
                pending_kills.pop(0)
            return message

        standin._create_message = create_then_maybe_kill  # the stand-in calls it through the instance
        logs = []
        while True:
            await bot.start(standin.token)
            if not pending_kills:
                break
            try:
                await standin.wait_for(lambda: bot.process.returncode is not None, timeout=timeout, interval=0.05)
            except StandInTimeout:
                raise AssertionError(f"the bot was never killed (at {pending_kills}):\n{bot.output()}") from None
            logs.append(bot.output())

        try:
            await standin.wait_for(
                lambda: len(standin.messages[channel]) >= count and _unfinished(bot.database) == 0,
                timeout=timeout, interval=0.1,
            )  # fmt: skip
        except StandInTimeout:
            raise AssertionError(f"the burst did not finish:\n{bot.output()}") from None
        exit_code, _took = await bot.stop(signal.SIGTERM)
        logs.append(bot.output())
    finally:
        if bot is not None and bot.process is not None and bot.process.returncode is None:
            bot.process.kill()
            await bot.process.wait()
        await standin.close()

    requests = [r for r in standin.requests if r.method == "POST" and r.path == f"/channels/{channel}/messages"]
    created = collections.Counter(m.get("nonce") for m in standin.messages[channel])
    message_ids = {}
    for message in standin.messages[channel]:
        message_ids.setdefault(message.get("nonce"), int(message["id"]))
    return CrashRun(
        expected=expected,
        created=created,
        message_ids=message_ids,
        posts=collections.Counter((r.json or {}).get("nonce") for r in requests if r.status == 200),
        outbox=_outbox(bot.database),
        nonce_hits=standin.nonce_hits,
        rate_limited=standin.rate_limited,
        killed_at=killed_at,
        enforced=all(isinstance(r.json, dict) and r.json.get("enforce_nonce") is True for r in requests),
        logs=logs,
        exit_code=exit_code,
    )


async def test_sigkill_twice_during_a_burst_loses_and_doubles_nothing(tmp_path):
    run = await crash_burst(tmp_path, count=1000, kill_at=(250, 600))

    assert run.killed_at == [250, 600]  # mid-burst: some but not all reminders had reached Discord
    assert run.enforced  # every message request asked Discord to honour its nonce
    # Every reminder's message exists exactly once at Discord.
    assert set(run.created) == set(run.expected)
    assert (run.lost, run.doubled) == (0, 0)
    # Resends happened (at least of the message each kill struck during), and the stand-in's nonce
    # deduplication answered every one of them rather than posting again. (A request answered 429 and
    # retried by discord.py is not a resend: Discord did nothing with it.)
    resent = sum(n - 1 for n in run.posts.values())
    assert run.nonce_hits >= len(run.killed_at)
    assert run.nonce_hits == resent
    # Every outbox row ended sent, acknowledging the message Discord holds for its nonce.
    assert len(run.outbox) == 1000
    assert collections.Counter(state for _e, state, _m in run.outbox) == {"sent": 1000}
    by_event = {event_id: message_id for event_id, _state, message_id in run.outbox}
    assert all(by_event[event_id] == run.message_ids[nonce] for nonce, event_id in run.expected.items())
    # Three runs: two killed, one stopped cleanly by SIGTERM; no run logged a traceback.
    assert len(run.logs) == 3 and run.exit_code == 0
    for log in run.logs:
        assert "Traceback" not in log, log
    assert "Released" in run.logs[1] and "claim(s) left by the previous run" in run.logs[1]
