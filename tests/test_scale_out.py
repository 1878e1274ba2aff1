"""Scale-out, end to end: three `python -m bot run` processes dispatch 10,000 due reminders from one PostgreSQL
outbox against the local Discord stand-in; one of them is SIGKILLed mid-way, and every reminder still reaches
Discord exactly once.

The three processes are unsharded and serve the same guild, so each may claim any reminder and only the
outbox decides who sends what: claims are taken `FOR UPDATE SKIP LOCKED` with a lease, so no two processes
ever hold the same row. The stand-in runs without its global rate limit and the processes with
`[discord] requests_per_second` far above it, so the dispatchers, not the pacing, set the speed.

The kill is made deterministic where it matters: once `KILL_AFTER` messages exist, the stand-in kills the
victim the instant it has created a message for a reminder the victim holds, before the victim can read
the answer. So that reminder is certainly posted but not acknowledged in the outbox, and the victim dies
holding claims (the rest of its batch). A dead process's claims are released by any survivor's
housekeeping once their lease runs out (two minutes); rather than wait those two minutes, the test lets
them run out at once, moving the dead worker's `lease_until` into the past, which is all that two minutes
would change. The survivors then find them with their own housekeeping job (every 30 s), take them over,
and resend each with the same nonce, which the stand-in answers with the message already posted, as
Discord does. Skipped without PostgreSQL (see tests/conftest.py).

About 45 s on two cores: some 13 s storing the reminders, 3 s starting the processes, the burst falls due
once they are all up and would be sent in about 12 s; the takeover waits for the survivors' first
housekeeping run, 30 s after they started. Nothing is timed in advance: the reminders are stored due an
hour on, and only once every process has logged in does the test make them fall due, as far ahead as
starting took (so a slow machine makes the test slower, never red; a fixed 25 s once ran out while
storing), waking the processes as any other writer does. (A configurable lease and housekeeping period would let the
test use a real short lease instead of moving `lease_until`; the bot has none today.)
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from tests.standin import DiscordStandIn, StandInTimeout
from tests.standin.process import BotProcess
from tests.test_crash import GUILD_ID, NONCE_WINDOW, PLACEHOLDER, arrange, doubled, fall_due, lost, whole_second

COUNT = 10_000
PROCESSES = 3
KILL_AFTER = 3_000  # messages created before the victim may die: mid-way, with time left for the takeover
UNPACED = 10_000  # [discord] requests_per_second: far above anything two cores can send
SETTLE = 2.0  # seconds at least between the processes being up and the burst falling due
TIMEOUT = 75.0  # seconds any one wait may take on an idle machine; scaled by how slow storing was
STORING = 13.0  # seconds storing the reminders takes on two idle cores: the yardstick of the machine's speed


def worker_pid(worker: str) -> int:
    """The process id in an engine's worker name, `host:pid:random`."""
    return int(worker.rsplit(":", 2)[1])


async def start_all(standin: DiscordStandIn, bots: Sequence[BotProcess], timeout: float) -> None:  # noqa: ASYNC109
    """Start the processes together and wait until each has logged in."""
    for bot in bots:
        await bot.start(standin.token)
    with contextlib.suppress(StandInTimeout):  # told apart below
        await standin.wait_for(
            lambda: (
                all("Logged in as" in bot.output() for bot in bots)
                or any(bot.process.returncode is not None for bot in bots)
            ),
            timeout=timeout,
            interval=0.1,
        )
    if not all("Logged in as" in bot.output() for bot in bots):
        raise AssertionError("not every process started:\n" + "\n".join(b.output() for b in bots))


async def outbox(connection: asyncpg.Connection) -> list[tuple[int, str, int | None, str | None]]:
    """(event id, state, message id, worker that last claimed it) per reminder row."""
    rows = await connection.fetch("SELECT event_id, state, message_id, claimed_by FROM reminders ORDER BY event_id")
    return [tuple(row) for row in rows]


async def unfinished(connection: asyncpg.Connection) -> int:
    return await connection.fetchval("SELECT count(*) FROM reminders WHERE state IN ('pending', 'claimed')")


def created_per_nonce(standin: DiscordStandIn, channel: int) -> collections.Counter[str]:
    return collections.Counter(m.get("nonce") for m in standin.messages[channel])


@dataclass
class ScaleOutRun:
    expected: dict[str, int]  # nonce -> event id
    created: collections.Counter[str]  # nonce -> messages the stand-in created
    message_ids: dict[str, int]  # nonce -> id of the message the stand-in created first
    outbox: list[tuple[int, str, int | None, str | None]]
    workers: list[str]  # each process's worker name, the victim's first
    killed_at: int  # messages created when the SIGKILL struck
    slowness: float  # how much slower than two idle cores storing was: every wait was given that much longer
    killed_after: float  # seconds from the due time to the SIGKILL
    held_at_kill: int  # reminders the victim held claimed when it died
    taken_over: int  # of them, how many a survivor sent after releasing the expired claim
    nonce_hits: int
    statuses: collections.Counter[int | None]  # how the stand-in answered the message requests
    enforced: bool  # every message request carried its nonce with enforce_nonce
    seconds: float  # from the due time to the last reminder finished, takeover included
    logs: list[str] = field(default_factory=list)  # the survivors' logs
    exit_codes: list[int] = field(default_factory=list)  # the survivors', stopped by SIGTERM

    @property
    def lost(self) -> int:
        return lost(self.expected, self.created)

    @property
    def doubled(self) -> int:
        return doubled(self.expected, self.created)


async def scale_out(url: str, folder: Path, *, count: int = COUNT, kill_after: int = KILL_AFTER) -> ScaleOutRun:
    """Store `count` reminders due together, run PROCESSES bot processes on `url`, SIGKILL the first as the
    stand-in creates a message of one of its reminders once `kill_after` messages exist, let its leases run
    out, and wait until the survivors have finished the burst."""
    standin = DiscordStandIn(nonce_window=NONCE_WINDOW)  # no global rate limit
    expected: dict[str, int] = {}
    kill: dict[str, Any] = {}  # what the SIGKILL struck: "worker", "at" (messages), "when" (time.time())
    asking = asyncio.Lock()  # one query at a time on the watcher's connection
    create_message = standin._r_create_message

    async def create_then_maybe_kill(req, cid):
        answer = await create_message(req, cid)
        number = len(standin.messages[channel])
        if "at" in kill or int(cid) != channel or number < kill_after or answer[0] != 200:
            return answer
        async with asking:
            holder = await watcher.fetchval(
                "SELECT claimed_by FROM reminders WHERE event_id = $1 AND state = 'claimed'",
                expected.get((req.json or {}).get("nonce")),
            )
        if "at" not in kill and holder is not None and worker_pid(holder) == victim.process.pid:
            # The message exists at Discord now; the victim dies before it hears so.
            victim.process.kill()
            kill.update(worker=holder, at=number, when=time.time())
        return answer

    # The route table holds the bound method: swap it there. It runs before the answer goes out.
    standin._routes = [
        (m, rx, create_then_maybe_kill if fn == create_message else fn, auth) for m, rx, fn, auth in standin._routes
    ]
    await standin.start()
    bots = [  # configured with the stand-in's address, known once it listens
        BotProcess(standin, folder / f"bot{n}", GUILD_ID, database=url, requests_per_second=UNPACED)
        for n in range(PROCESSES)
    ]
    victim = bots[0]
    watcher: asyncpg.Connection | None = None
    exit_codes, logs = [], []
    try:
        standin.add_guild("Guild", guild_id=GUILD_ID)
        channel = standin.add_channel(GUILD_ID, "raids")
        watcher = await asyncpg.connect(url)
        # Stored before the processes start: running, they would spend the time on 10,000 notifications.
        placeholder = whole_second(datetime.now(UTC) + PLACEHOLDER)
        started = time.monotonic()
        expected.update(await arrange(url, GUILD_ID, channel, [placeholder] * count, concurrency=8))
        # A machine busy with other work is slower at everything that follows as well: wait that much longer.
        slowness = max(1.0, (time.monotonic() - started) / STORING * COUNT / count)
        timeout = TIMEOUT * slowness
        started = time.monotonic()
        await start_all(standin, bots, timeout=timeout)
        # Each process ends its first dispatch pass just after logging in; give them as long again.
        due = whole_second(datetime.now(UTC) + timedelta(seconds=max(SETTLE, time.monotonic() - started)))
        await fall_due(url, due)
        ahead = max(0.0, due.timestamp() - time.time())

        try:
            await standin.wait_for(
                lambda: victim.process.returncode is not None, timeout=ahead + timeout, interval=0.05
            )
        except StandInTimeout:
            raise AssertionError(f"the victim was never killed:\n{victim.output()}") from None
        assert "worker" in kill, f"the victim died by itself:\n{victim.output()}"
        # Its claims' lease runs out: what two minutes would do, now.
        held = await watcher.fetch(
            "UPDATE reminders SET lease_until = extract(epoch FROM now())::bigint - 1 "
            "WHERE state = 'claimed' AND claimed_by = $1 RETURNING event_id",
            kill["worker"],
        )

        async def finished() -> bool:
            return len(standin.messages[channel]) >= count and await unfinished(watcher) == 0

        try:
            await standin.wait_for(finished, timeout=timeout, interval=0.2)
        except StandInTimeout:
            raise AssertionError("the survivors did not finish:\n" + "\n".join(b.output() for b in bots)) from None
        seconds = time.time() - due.timestamp()
        for bot in bots[1:]:
            code, _took = await bot.stop(signal.SIGTERM)
            exit_codes.append(code)
            logs.append(bot.output())
        rows = await outbox(watcher)
    finally:
        for bot in bots:
            if bot.process is not None and bot.process.returncode is None:
                bot.process.kill()
                await bot.process.wait()
        if watcher is not None:
            await watcher.close()
        await standin.close()

    requests = [r for r in standin.requests if r.method == "POST" and r.path == f"/channels/{channel}/messages"]
    message_ids: dict[str, int] = {}
    for message in standin.messages[channel]:
        message_ids.setdefault(message.get("nonce"), int(message["id"]))
    held_ids = {row["event_id"] for row in held}
    return ScaleOutRun(
        expected=expected,
        created=created_per_nonce(standin, channel),
        message_ids=message_ids,
        outbox=rows,
        workers=sorted({w for *_rest, w in rows if w}, key=lambda w: w != kill["worker"]),
        killed_at=kill["at"],
        slowness=slowness,
        killed_after=kill["when"] - due.timestamp(),
        held_at_kill=len(held_ids),
        taken_over=sum(1 for event_id, _s, _m, w in rows if event_id in held_ids and w != kill["worker"]),
        nonce_hits=standin.nonce_hits,
        statuses=collections.Counter(r.status for r in requests),
        enforced=all(isinstance(r.json, dict) and r.json.get("enforce_nonce") is True for r in requests),
        seconds=seconds,
        logs=logs,
        exit_codes=exit_codes,
    )


async def test_three_dispatchers_one_killed_send_every_reminder_exactly_once(postgres_url, tmp_path):
    run = await scale_out(postgres_url, tmp_path)

    assert KILL_AFTER <= run.killed_at < COUNT  # mid-way: some reminders had reached Discord, not all
    assert run.enforced
    assert set(run.statuses) == {200}  # no rate limit, no errors: every request was answered with its message
    # Every reminder's message exists exactly once at Discord.
    assert set(run.created) == set(run.expected)
    assert (run.lost, run.doubled) == (0, 0)
    # Every outbox row ended sent, acknowledging the message Discord holds for its nonce.
    assert len(run.outbox) == COUNT
    assert collections.Counter(state for _e, state, _m, _w in run.outbox) == {"sent": COUNT}
    by_event = {event_id: message_id for event_id, _state, message_id, _w in run.outbox}
    assert all(by_event[event_id] == run.message_ids[nonce] for nonce, event_id in run.expected.items())
    # All three shared the work: the victim acknowledged some before it died, each survivor some more.
    sent_by = collections.Counter(worker for *_rest, worker in run.outbox)
    assert len(run.workers) == PROCESSES, sent_by
    assert all(sent_by[worker] > 0 for worker in run.workers), sent_by
    # The victim died holding claims (at least the reminder whose message it never heard of); the survivors
    # took every one of them over once the lease ran out, and the one already posted was not posted again.
    assert run.held_at_kill >= 1
    assert run.taken_over == run.held_at_kill
    assert run.nonce_hits >= 1
    assert any("whose lease expired" in log for log in run.logs), run.logs
    assert run.exit_codes == [0] * (PROCESSES - 1)
    for log in run.logs:
        assert "Traceback" not in log, log
    print(
        f"{COUNT} reminders, {PROCESSES} processes: killed at message {run.killed_at}, {run.killed_after:.1f} s "
        f"after the due time, holding {run.held_at_kill} claim(s); all sent {run.seconds:.1f} s after the due "
        f"time; acknowledged per worker {dict(sent_by)}; nonce dedupes {run.nonce_hits}; waits scaled by "
        f"{run.slowness:.1f} for the machine's load"
    )
