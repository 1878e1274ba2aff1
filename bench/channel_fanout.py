"""Benchmark: the mail and broadcast channels' fan-out, through the real outbox engine and senders, against
real local servers: an SMTP server (aiosmtpd) and an HTTP webhook receiver that verifies every signature
(tests/channels.py), each on a thread of its own.

mail: one reminder to 1,000 members going with confirmed addresses, over the sender's pool of reused SMTP
connections ([mail] pool_size). broadcast: 100 events' reminders to a guild's 10 webhooks (1,000 calls).
Targets (issue 15): mail >= 100/s, webhooks >= 500/s, both with 0 lost and 0 doubled by key (unique
Message-IDs; unique webhook-ids). Prints the figures; asserts nothing.

    python bench/channel_fanout.py [--members 1000] [--events 100] [--pool 4]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.reminder_common import wait_until
from bot.config import BroadcastConfig, MailConfig
from bot.domain.models import Event
from bot.domain.reminders import PlannedReminder
from bot.domain.rsvp import GOING
from bot.reminders import ByChannel, ReminderEngine
from bot.reminders.mail import MailSender
from bot.reminders.webhooks import WebhookSender
from bot.storage import Store, open_store
from tests.channels import HttpReceiver, SmtpRecorder

GUILD = 1 << 22
FIRST_MEMBER = 500_000_000_000_000_000


def clock() -> datetime:
    return datetime.now(UTC)


async def due_event(store: Store, calendar_id: int, channel: str, n: int) -> None:
    starts = clock() + timedelta(minutes=15)
    event = await store.events.create(
        Event(guild_id=GUILD, calendar_id=calendar_id, name=f"Event {n}", starts=starts,
              notifications_interval=("pt15m",), notifications_channels=(channel,))
    )  # fmt: skip
    await store.reminders.schedule(GUILD, event.id, [PlannedReminder(0, starts, "pt15m", channel, clock())])


async def run(engine: ReminderEngine, done, expected: int) -> float:
    started = time.perf_counter()
    await engine.dispatch()
    await wait_until(lambda: done() >= expected, 120)
    return time.perf_counter() - started


async def mail(folder: Path, members: int, pool: int) -> None:
    smtp = SmtpRecorder()
    smtp.start()
    store = await open_store(f"sqlite:///{folder}/mail.sqlite3", clock=clock)
    config = MailConfig("127.0.0.1", smtp.port, "none", None, None, "calbot@example.com", pool, 30.0)
    sender = MailSender(store, config, clock)
    try:
        calendar = await store.calendars.get_or_create(GUILD, "General")
        await due_event(store, calendar.id, "mail", 0)
        for n in range(members):
            member = FIRST_MEMBER + n
            await store.contacts.request(member, "mail", f"member{n}@example.org", "123456")
            await store.contacts.confirm(member, "mail", "123456")
            await store.attendees.respond(GUILD, 1, 0, member, GOING, None)
        engine = ReminderEngine(store, ByChannel({"mail": sender}, {}), clock=clock)
        await engine.start()
        span = await run(engine, lambda: len(smtp.received), members)
        await engine.stop()
        ids = collections.Counter(r.message["Message-ID"] for r in smtp.received)
        to = collections.Counter(r.recipients[0] for r in smtp.received)
        lost = sum(1 for n in range(members) if to[f"member{n}@example.org"] == 0)
        states = collections.Counter(r.state for r in await store.reminders.for_event(GUILD, 1))
        print(f"mail: {len(smtp.received)} of {members} in {span:.2f} s = {len(smtp.received) / span:.0f} mails/s "
              f"over {smtp.connections} SMTP connection(s) (pool {pool})")  # fmt: skip
        print(f"      lost {lost}   doubled {sum(n - 1 for n in ids.values() if n > 1)}   "
              f"unique Message-IDs {len(ids)}   outbox {dict(states)}")  # fmt: skip
    finally:
        await sender.close()
        await store.close()
        smtp.stop()


async def webhooks(folder: Path, events: int) -> None:
    http = HttpReceiver()
    http.start()
    store = await open_store(f"sqlite:///{folder}/hooks.sqlite3", clock=clock)
    sender = WebhookSender(store, BroadcastConfig(True, 10.0, 65536, 10), clock)
    try:
        calendar = await store.calendars.get_or_create(GUILD, "General")
        for n in range(10):
            hook = await store.webhooks.add(GUILD, http.url(f"/hook{n}"), None, created_by=None)
            http.secrets[f"/hook{n}"] = hook.secret
        for n in range(events):
            await due_event(store, calendar.id, "broadcast", n)
        engine = ReminderEngine(store, ByChannel({"broadcast": sender}, {}), clock=clock)
        await engine.start()
        expected = events * 10
        span = await run(engine, lambda: len(http.calls), expected)
        await engine.stop()
        ids = collections.Counter(c.headers.get("webhook-id") for c in http.calls)
        verified = sum(1 for c in http.calls if c.verified is not None)
        rate = len(http.calls) / span
        print(f"webhooks: {len(http.calls)} of {expected} calls in {span:.2f} s = {rate:.0f} calls/s, "
              f"{verified} signatures verified")  # fmt: skip
        print(f"          lost {expected - len(ids)}   doubled {sum(n - 1 for n in ids.values() if n > 1)}")
    finally:
        await sender.close()
        await store.close()
        http.stop()


async def main(members: int, events: int, pool: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        await mail(Path(folder), members, pool)
        await webhooks(Path(folder), events)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--events", type=int, default=100)
    parser.add_argument("--pool", type=int, default=4)
    options = parser.parse_args()
    asyncio.run(main(options.members, options.events, options.pool))
