"""The sample guild the list benchmarks share: four calendars and events spread evenly from 2026 on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.domain.models import Calendar, Event
from bot.storage import Store

BATCH = 500  # events per transaction while filling


async def store_sample_events(store: Store, guild_id: int, count: int, years: int = 1) -> list[Calendar]:
    """Store `count` two-hour events over `years` years from 2026 (about 830 a month for 10,000 in one) in four
    calendars; return them."""
    calendars = [await store.calendars.create(Calendar(guild_id=guild_id, name=f"Calendar {i}")) for i in range(4)]
    spacing = timedelta(days=365 * years) / count
    events = []
    for n in range(count):
        starts = datetime(2026, 1, 1, 12, tzinfo=UTC) + spacing * n
        events.append(
            Event(
                guild_id=guild_id,
                calendar_id=calendars[n % len(calendars)].id,
                name=f"Event {n}",
                starts=starts,
                ends=starts + timedelta(hours=2),
                description="A benchmark event with a description of ordinary length.",
                location="Voice channel",
            )
        )
    for first in range(0, count, BATCH):
        await store.events.create_many(events[first : first + BATCH])
    return calendars
