"""Crash safety across channels: `python -m bot` is SIGKILLed during a burst of 1,050 mixed deliveries
(DMs, mail, webhook calls) and restarted; every delivery arrives, and arrives once by its key: each DM once
(its nonce), every mail's Message-ID and every webhook's `webhook-id` present, as receivers that drop
repeats by them see it. Real servers throughout: the Discord stand-in, an SMTP server, a webhook receiver."""

from __future__ import annotations

import asyncio
import collections
import signal
import sqlite3
import time
from datetime import UTC, datetime, timedelta

from bot.domain.models import Calendar, Event
from bot.domain.reminders import PlannedReminder, delivery_key, delivery_nonce
from bot.domain.rsvp import GOING
from bot.reminders.mail import message_id
from bot.storage import open_store
from tests.channels import HttpReceiver, SmtpRecorder
from tests.standin import DiscordStandIn
from tests.standin.process import BotProcess
from tests.test_crash import whole_second

GUILD_ID = 1_000_000_000_000_000_001
FIRST_MEMBER = 600_000_000_000_000_000
EVENTS, MEMBERS, WEBHOOKS = 15, 30, 10  # 15 x (30 DMs + 30 mails + 10 calls) = 1,050 deliveries
CHANNELS = ("discord_private", "mail", "broadcast")
SENDER = "calbot@example.com"


async def arrange(url: str, channel: int, http: HttpReceiver, due: datetime) -> dict[str, set[str]]:
    """Events with reminders by DM, mail and webhook, all due at `due`; returns the keys each receiver expects."""
    store = await open_store(url)
    members = [FIRST_MEMBER + n for n in range(MEMBERS)]
    expected: dict[str, set[str]] = {"dm": set(), "mail": set(), "hook": set()}
    try:
        calendar = await store.calendars.create(Calendar(guild_id=GUILD_ID, name="Raids", channel_id=channel))
        hooks = []
        for n in range(WEBHOOKS):
            hook = await store.webhooks.add(GUILD_ID, http.url(f"/hook{n}"), None, created_by=None)
            http.secrets[f"/hook{n}"] = hook.secret
            hooks.append(hook.id)
        for member in members:
            await store.contacts.request(member, "mail", f"m{member}@example.org", "123456")
            await store.contacts.confirm(member, "mail", "123456")
        starts = due + timedelta(minutes=15)
        for n in range(EVENTS):
            event = await store.events.create(
                Event(guild_id=GUILD_ID, calendar_id=calendar.id, name=f"Event {n}", starts=starts,
                      notifications_interval=("pt15m",), notifications_channels=CHANNELS)
            )  # fmt: skip
            for member in members:
                await store.attendees.respond(GUILD_ID, event.id, 0, member, GOING, None)
                expected["dm"].add(delivery_nonce(delivery_key(event.id, starts, "pt15m", "discord_private", member)))
                expected["mail"].add(message_id(delivery_key(event.id, starts, "pt15m", "mail", member), SENDER))
            expected["hook"] |= {delivery_key(event.id, starts, "pt15m", "broadcast", h) for h in hooks}
            planned = [PlannedReminder(0, starts, "pt15m", c, due) for c in CHANNELS]
            await store.reminders.schedule(GUILD_ID, event.id, planned)
        while queued := await store.sync.take(limit=1000):  # the follow-up done: no cards compete
            await store.sync.done([entry.id for entry in queued])
    finally:
        await store.close()
    return expected


async def test_sigkill_during_a_mixed_burst_delivers_everything_once_by_key(tmp_path):
    standin = DiscordStandIn(rate_limit_per_second=50, nonce_window=300.0)
    standin.add_guild("Guild", guild_id=GUILD_ID)
    channel = standin.add_channel(GUILD_ID, "reminders")
    for n in range(MEMBERS):
        standin.add_member(GUILD_ID, FIRST_MEMBER + n, f"m{n}")
    smtp, http = SmtpRecorder(), HttpReceiver()
    smtp.start()
    http.start()
    await standin.start()
    sections = (
        f'[mail]\nhost = "127.0.0.1"\nport = {smtp.port}\ntls = "none"\nfrom_address = "{SENDER}"\n'
        "[broadcast]\nallow_private_targets = true\n"
    )
    bot = BotProcess(standin, tmp_path, GUILD_ID, sections=sections)
    try:
        due = whole_second(datetime.now(UTC) + timedelta(seconds=15))
        expected = await arrange(f"sqlite:///{bot.database}", channel, http, due)
        dms = {standin.dm_channel_id(FIRST_MEMBER + n) for n in range(MEMBERS)}

        def dm_nonces() -> collections.Counter[str]:
            return collections.Counter(m.get("nonce") for c in dms for m in standin.messages.get(c, []))

        def delivered() -> int:
            return sum(dm_nonces().values()) + len(smtp.received) + len(http.calls)

        total = sum(len(keys) for keys in expected.values())
        await bot.start(standin.token)
        deadline = time.monotonic() + 120
        while delivered() < total // 3 and time.monotonic() < deadline:  # noqa: ASYNC110 - polling other threads
            await asyncio.sleep(0.02)
        bot.process.kill()  # SIGKILL, mid-burst
        await bot.process.wait()
        killed_at = delivered()
        assert 0 < killed_at < total, killed_at
        await bot.start(standin.token)
        while time.monotonic() < deadline + 120:
            mails = {r.message["Message-ID"] for r in smtp.received}
            hooks = {c.headers.get("webhook-id") for c in http.calls if c.verified is not None}
            if set(dm_nonces()) >= expected["dm"] and mails >= expected["mail"] and hooks >= expected["hook"]:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(2)  # anything sent twice would show up now
        code, _took = await bot.stop(signal.SIGTERM)
    finally:
        if bot.process is not None and bot.process.returncode is None:
            bot.process.kill()
        await standin.close()
        smtp.stop()
        http.stop()
    assert code == 0
    created = dm_nonces()
    assert set(created) == expected["dm"] and max(created.values()) == 1  # each DM exactly once at Discord
    assert {r.message["Message-ID"] for r in smtp.received} == expected["mail"]  # every mail, by its id
    assert {c.headers["webhook-id"] for c in http.calls if c.verified is not None} == expected["hook"]
    # A repeat, if the kill struck between sending and recording, carries the same key: receivers drop it.
    assert len(smtp.received) - len(expected["mail"]) <= 4 * 50 and len(http.calls) - len(expected["hook"]) <= 50
    with sqlite3.connect(bot.database) as db:
        states = dict(db.execute("SELECT state, count(*) FROM reminders WHERE target != 0 GROUP BY state"))
    assert states == {"sent": total}
    assert "Traceback" not in bot.output()
