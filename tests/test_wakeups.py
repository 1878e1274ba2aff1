"""Processes sharing one PostgreSQL database wake each other (LISTEN/NOTIFY) instead of waiting for a poll:
a reminder another process plans is sent on time by this process's engine, with its safety-net poll an
hour away. Real time, a few seconds; skipped without PostgreSQL (see tests/conftest.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.models import Event
from bot.domain.occurrences import Occurrence
from bot.domain.reminders import Reminder, Verdict
from bot.reminders import ReminderEngine
from bot.storage import Store, open_store

GUILD = 81384788765712384


class Recorded:
    def __init__(self) -> None:
        self.delivered: list[tuple[Reminder, datetime]] = []
        self.arrived = asyncio.Event()

    async def deliver(self, reminder: Reminder, occurrence: Occurrence, verdict: Verdict) -> int:
        self.delivered.append((reminder, datetime.now(UTC)))
        self.arrived.set()
        return 1


def now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
async def stores(postgres_url: str) -> AsyncIterator[tuple[Store, Store]]:
    """This process's store and another process's, on one database."""
    here, there = await open_store(postgres_url, clock=now), await open_store(postgres_url, clock=now)
    yield here, there
    await here.close()
    await there.close()


async def test_a_reminder_planned_in_another_process_is_sent_on_time_here(stores) -> None:
    here, there = stores
    sender = Recorded()
    engine = ReminderEngine(here, sender, clock=now, poll=timedelta(hours=1))  # no poll will find it
    await engine.start()
    planner = ReminderEngine(there, Recorded(), clock=now)  # the other process: plans, never dispatches here
    try:
        await asyncio.sleep(0.2)  # the start-up dispatch finds nothing and arms no timer
        calendar = await there.calendars.get_or_create(GUILD, "General")
        starts = (now() + timedelta(seconds=2)).replace(microsecond=0)
        event = await there.events.create(
            Event(guild_id=GUILD, calendar_id=calendar.id, name="Soon", starts=starts, notifications_interval=("pt0m",))
        )
        await planner.schedule(event)

        await asyncio.wait_for(sender.arrived.wait(), timeout=6)
        [(reminder, at)] = sender.delivered
        assert reminder.event_id == event.id
        assert starts <= at < starts + timedelta(seconds=2)
    finally:
        await planner.stop()
        await engine.stop()
