"""Guild settings, members' own settings, and the small key-value table the bot keeps for itself."""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Any

from bot.domain.models import GuildSettings, UserSettings

from .database import (
    Clock,
    Connection,
    Database,
    Row,
    epoch,
)

if TYPE_CHECKING:
    pass


class SqlMeta:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, key: str) -> str | None:
        async with self._db.read() as db:
            row = await db.one("SELECT value FROM meta WHERE key = ?", (key,))
        return None if row is None else row["value"]

    async def set(self, key: str, value: str) -> None:
        async with self._db.write() as db:
            await db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )


def _guild_settings(row: Row) -> GuildSettings:
    return GuildSettings(
        guild_id=row["guild_id"],
        timezone=row["timezone"],
        manager_role_id=row["manager_role_id"],
        organiser_role_id=row["organiser_role_id"],
        default_channel_id=row["default_channel_id"],
        default_reminders=tuple(json.loads(row["default_reminders"])),
        default_channels=tuple(json.loads(row["default_channels"])),
        date_order=row["date_order"],
        all_day_time=row["all_day_time"],
    )


class SqlSettings:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def get(self, guild_id: int) -> GuildSettings | None:
        async with self._db.read() as db:
            row = await db.one("SELECT * FROM guild_settings WHERE guild_id = ?", (guild_id,))
        return None if row is None else _guild_settings(row)

    async def save(self, settings: GuildSettings) -> GuildSettings:
        settings = settings.validated()
        async with self._db.write() as db:
            await self._write(db, settings)
        return settings

    async def change(self, defaults: GuildSettings, **changes: Any) -> GuildSettings:
        """Apply `changes` to the stored settings (or `defaults`) in one transaction, so two admins
        changing different settings at once both keep their change."""
        async with self._db.write() as db:
            await db.serialize("settings", defaults.guild_id)
            row = await db.one("SELECT * FROM guild_settings WHERE guild_id = ?", (defaults.guild_id,))
            current = defaults if row is None else _guild_settings(row)
            settings = dataclasses.replace(current, **changes).validated()
            await self._write(db, settings)
        return settings

    async def _write(self, db: Connection, settings: GuildSettings) -> None:
        await db.execute(
            """
            INSERT INTO guild_settings (guild_id, timezone, manager_role_id, organiser_role_id, default_channel_id,
                                        default_reminders, default_channels, date_order, all_day_time, updated_at)
            VALUES (:guild_id, :timezone, :manager_role_id, :organiser_role_id, :default_channel_id,
                    :default_reminders, :default_channels, :date_order, :all_day_time, :updated_at)
            ON CONFLICT (guild_id) DO UPDATE SET
                timezone = excluded.timezone, manager_role_id = excluded.manager_role_id,
                organiser_role_id = excluded.organiser_role_id,
                default_channel_id = excluded.default_channel_id,
                default_reminders = excluded.default_reminders,
                default_channels = excluded.default_channels, date_order = excluded.date_order,
                all_day_time = excluded.all_day_time, updated_at = excluded.updated_at
            """,
            {
                "guild_id": settings.guild_id,
                "timezone": settings.timezone,
                "manager_role_id": settings.manager_role_id,
                "organiser_role_id": settings.organiser_role_id,
                "default_channel_id": settings.default_channel_id,
                "default_reminders": json.dumps(list(settings.default_reminders)),
                "default_channels": json.dumps(list(settings.default_channels)),
                "date_order": settings.date_order,
                "all_day_time": settings.all_day_time,
                "updated_at": epoch(self._clock()),
            },
        )


class SqlUsers:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def get(self, user_id: int) -> UserSettings | None:
        async with self._db.read() as db:
            row = await db.one("SELECT * FROM user_settings WHERE user_id = ?", (user_id,))
        return None if row is None else UserSettings(user_id=row["user_id"], timezone=row["timezone"])

    async def save(self, settings: UserSettings) -> UserSettings:
        settings = settings.validated()
        async with self._db.write() as db:
            await db.execute(
                "INSERT INTO user_settings (user_id, timezone, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (user_id) DO UPDATE SET timezone = excluded.timezone, updated_at = excluded.updated_at",
                (settings.user_id, settings.timezone, epoch(self._clock())),
            )
        return settings

    async def clear(self, user_id: int) -> None:
        async with self._db.write() as db:
            await db.execute("DELETE FROM user_settings WHERE user_id = ?", (user_id,))
