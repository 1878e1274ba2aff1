"""Copying a whole installation between stores (`python -m bot migrate-data`): SQLite to PostgreSQL and back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.domain.models import Calendar, Event, GuildSettings, OccurrenceChange, UserSettings
from bot.domain.recurrence import parse_rrule
from bot.domain.reminders import PlannedReminder
from bot.domain.rsvp import GOING, ONE_OFF
from bot.storage import Store, open_store
from bot.storage.transfer import TABLES, TargetNotEmpty, copy_store

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
GUILD = 42


async def installation(store: Store) -> dict:
    """A bit of everything a guild keeps; returns what the checks need."""
    await store.settings.save(GuildSettings(guild_id=GUILD, timezone="Europe/Berlin", date_order="MDY"))
    await store.users.save(UserSettings(user_id=7, timezone="Asia/Tokyo"))
    calendar = await store.calendars.create(Calendar(guild_id=GUILD, name="Raids", channel_id=5))
    feed = await store.calendars.feed_secret(GUILD, calendar.id)
    starts = NOW + timedelta(days=2)
    one_off = await store.events.create(Event(guild_id=GUILD, calendar_id=calendar.id, name="Launch", starts=starts))
    series = await store.events.create(
        Event(guild_id=GUILD, calendar_id=calendar.id, name="Weekly", starts=starts, timezone="Europe/Berlin",
              recurrence=parse_rrule("FREQ=WEEKLY;COUNT=10"))
    )  # fmt: skip
    await store.changes.save(OccurrenceChange(guild_id=GUILD, event_id=series.id, occurrence=starts, cancelled=True))
    await store.attendees.respond(GUILD, one_off.id, ONE_OFF, 7, GOING, None)
    due = starts - timedelta(minutes=15)
    hour_before = starts - timedelta(hours=1)
    planned = [
        PlannedReminder(0, starts, "pt15m", "discord_public", due),
        PlannedReminder(0, starts, "pt1h", "discord_public", hour_before),
    ]
    await store.reminders.schedule(GUILD, one_off.id, planned)
    [claimed] = await store.reminders.claim(hour_before, "crashed-worker", timedelta(minutes=2), 1)
    await store.sync.push(GUILD, one_off.id)
    _token, text = await store.tokens.create(GUILD, "CI", "read")
    await store.meta.set("commands_hash", "abc")
    await store.contacts.request(7, "mail", "ada@example.org", "123456")
    await store.contacts.confirm(7, "mail", "123456")
    await store.dm_channels.save(7, 700)
    webhook = await store.webhooks.add(GUILD, "https://hooks.example.org/calbot", calendar.id, created_by=7)
    return {"calendar": calendar, "feed": feed, "one_off": one_off, "series": series, "token": text, "claimed": claimed,
            "webhook": webhook}  # fmt: skip


async def test_a_sqlite_installation_moves_to_postgresql_whole(tmp_path: Path, postgres_url: str) -> None:
    source = await open_store(f"sqlite:///{tmp_path}/old.sqlite3", clock=lambda: NOW)
    target = await open_store(postgres_url, clock=lambda: NOW)
    try:
        made = await installation(source)
        report = await copy_store(source, target)
        assert all(c.source == c.target for c in report)
        assert {c.table: c.target for c in report if c.target} == {
            "meta": 1, "guild_settings": 1, "user_settings": 1, "calendars": 1, "events": 2, "attendees": 1,
            "occurrence_changes": 1, "reminders": 2, "event_sync": 4, "api_tokens": 1, "contacts": 1, "dm_channels": 1,
            "webhooks": 1,
        }  # fmt: skip
        # event_sync: each write queued its follow-up (two events, one occurrence change) and one push.
        # Everything reads the same, by the same ids: card buttons, tokens and feed links keep working.
        assert await target.events.get(GUILD, made["series"].id) == made["series"]
        assert await target.calendars.by_feed_secret(made["feed"]) == made["calendar"]
        assert (await target.tokens.verify(made["token"])).name == "CI"
        assert (await target.settings.get(GUILD)).date_order == "MDY"
        assert [a.user_id for a in await target.attendees.list(GUILD, made["one_off"].id, ONE_OFF)] == [7]
        assert (
            len(await target.events.occurrences(GUILD, NOW, NOW + timedelta(days=28))) == 1 + 3
        )  # the first cancelled
        # The crashed process's claim is pending again on the new database.
        states = {r.id: r.state for r in await target.reminders.for_event(GUILD, made["one_off"].id)}
        assert states[made["claimed"].id] == "pending" and set(states.values()) == {"pending"}
        # Members' confirmed addresses, their DM channels and the guild's webhooks (with their signing secret).
        assert await target.contacts.confirmed("mail", [7]) == {7: "ada@example.org"}
        assert await target.dm_channels.get(7) == 700
        assert await target.webhooks.get(GUILD, made["webhook"].id) == made["webhook"]
        # New rows get new ids, after the copied ones.
        newer = await target.calendars.create(Calendar(guild_id=GUILD, name="Socials"))
        assert newer.id > made["calendar"].id
    finally:
        await source.close()
        await target.close()


async def test_a_non_empty_target_is_refused_unless_replacing(tmp_path: Path, postgres_url: str) -> None:
    source = await open_store(f"sqlite:///{tmp_path}/old.sqlite3", clock=lambda: NOW)
    target = await open_store(postgres_url, clock=lambda: NOW)
    try:
        await installation(source)
        existing = await target.calendars.create(Calendar(guild_id=99, name="Already here"))
        with pytest.raises(TargetNotEmpty, match="calendars"):
            await copy_store(source, target)
        assert await target.calendars.list(99) == [existing]  # left as it was
        await copy_store(source, target, replace=True)
        assert await target.calendars.list(99) == []
        assert [c.name for c in await target.calendars.list(GUILD)] == ["Raids"]
    finally:
        await source.close()
        await target.close()


async def test_postgresql_moves_back_to_sqlite(tmp_path: Path, postgres_url: str) -> None:
    source = await open_store(postgres_url, clock=lambda: NOW)
    target = await open_store(f"sqlite:///{tmp_path}/back.sqlite3", clock=lambda: NOW)
    try:
        made = await installation(source)
        await copy_store(source, target)
        assert await target.events.get(GUILD, made["one_off"].id) == made["one_off"]
        assert (await target.tokens.verify(made["token"])) is not None
    finally:
        await source.close()
        await target.close()


async def test_every_table_of_the_schema_is_copied(tmp_path: Path, postgres_url: str) -> None:
    """A table a later migration adds must be added to TABLES too, or `migrate-data` loses what it holds."""
    lite = await open_store(f"sqlite:///{tmp_path}/schema.sqlite3", clock=lambda: NOW)
    postgres = await open_store(postgres_url, clock=lambda: NOW)
    try:
        async with lite.database.read() as db:
            rows = await db.all("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
            in_sqlite = {row[0] for row in rows}
        async with postgres.database.read() as db:
            rows = await db.all("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
            in_postgres = {row[0] for row in rows}
    finally:
        await lite.close()
        await postgres.close()
    copied = {table for table, _key in TABLES}
    assert in_sqlite - {"schema_version"} == copied
    assert in_postgres - {"schema_version"} == copied
