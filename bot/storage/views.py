"""What a calendar view (the picture in Discord, the web page) shows of a period: every occurrence, live or
cancelled, as the month grid's items. One place, so both roads show the same events."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.domain.month import Item, items

from .interface import Store


async def view_items(
    store: Store, guild_id: int, start: datetime, end: datetime, zone: ZoneInfo, *, calendar_id: int | None = None
) -> list[Item]:
    live = await store.events.occurrences(guild_id, start, end, calendar_id=calendar_id)
    cancelled = await store.events.cancelled(guild_id, start, end, calendar_id=calendar_id)
    calendars = {c.id: c for c in await store.calendars.list(guild_id)}
    return items([*live, *cancelled], calendars, zone)
