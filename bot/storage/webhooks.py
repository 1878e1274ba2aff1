"""A guild's outgoing webhooks: where its notifications are POSTed as signed JSON (bot/reminders/webhooks.py).

The signing secret is kept as given out (the signature needs it); it is shown once, when the webhook is added.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime

from bot.domain.errors import InvalidField, NotFound

from .database import Clock, Database, Row, epoch, instant, storable

SECRET_BYTES = 32
MAX_PER_GUILD = 10


@dataclass(frozen=True, slots=True)
class Webhook:
    id: int
    guild_id: int
    calendar_id: int | None  # None: every calendar of the guild
    url: str
    secret: str  # "whsec_" + base64, as the Standard Webhooks specification writes it
    failures: int  # in a row
    disabled_reason: str | None
    created_by: int | None
    created_at: datetime

    @property
    def enabled(self) -> bool:
        return self.disabled_reason is None


def _webhook(row: Row) -> Webhook:
    return Webhook(
        id=row["id"],
        guild_id=row["guild_id"],
        calendar_id=row["calendar_id"],
        url=row["url"],
        secret=row["secret"],
        failures=row["failures"],
        disabled_reason=row["disabled_reason"],
        created_by=row["created_by"],
        created_at=instant(row["created_at"]),
    )


class SqlWebhooks:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def add(self, guild_id: int, url: str, calendar_id: int | None, *, created_by: int | None) -> Webhook:
        """A new webhook with a new secret. `url` must have been checked (bot/reminders/webhooks.py)."""
        secret = "whsec_" + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()
        now = epoch(self._clock())
        async with self._db.write() as db:
            await db.serialize("webhooks", guild_id)
            count = (await db.one("SELECT count(*) FROM webhooks WHERE guild_id = ?", (guild_id,)))[0]
            if count >= MAX_PER_GUILD:
                raise InvalidField("url", f"this server has {count} webhooks, the most it may have; remove one first")
            row = await db.one(
                "INSERT INTO webhooks (guild_id, calendar_id, url, secret, created_by, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *",
                (guild_id, calendar_id, url, secret, created_by, now, now),
            )
        return _webhook(row)

    async def get(self, guild_id: int, webhook_id: int) -> Webhook:
        if not storable(webhook_id):
            raise NotFound("webhook", webhook_id)
        async with self._db.read() as db:
            row = await db.one("SELECT * FROM webhooks WHERE guild_id = ? AND id = ?", (guild_id, webhook_id))
        if row is None:
            raise NotFound("webhook", webhook_id)
        return _webhook(row)

    async def list(self, guild_id: int) -> list[Webhook]:
        async with self._db.read() as db:
            rows = await db.all("SELECT * FROM webhooks WHERE guild_id = ? ORDER BY id", (guild_id,))
        return [_webhook(r) for r in rows]

    async def for_calendar(self, guild_id: int, calendar_id: int) -> list[Webhook]:
        """The enabled webhooks a notification of this calendar goes to."""
        async with self._db.read() as db:
            rows = await db.all(
                "SELECT * FROM webhooks WHERE guild_id = ? AND disabled_reason IS NULL "
                "AND (calendar_id IS NULL OR calendar_id = ?) ORDER BY id",
                (guild_id, calendar_id),
            )
        return [_webhook(r) for r in rows]

    async def remove(self, guild_id: int, webhook_id: int) -> Webhook:
        if not storable(webhook_id):
            raise NotFound("webhook", webhook_id)
        async with self._db.write() as db:
            row = await db.one("DELETE FROM webhooks WHERE guild_id = ? AND id = ? RETURNING *", (guild_id, webhook_id))
        if row is None:
            raise NotFound("webhook", webhook_id)
        return _webhook(row)

    async def enable(self, guild_id: int, webhook_id: int) -> None:
        """A webhook that answered again (its test) is enabled again, its failures forgotten."""
        async with self._db.write() as db:
            await db.execute(
                "UPDATE webhooks SET failures = 0, disabled_reason = NULL, updated_at = ? "
                "WHERE guild_id = ? AND id = ?",
                (epoch(self._clock()), guild_id, webhook_id),
            )

    async def succeeded(self, webhook_id: int) -> None:
        async with self._db.write() as db:
            await db.execute(
                "UPDATE webhooks SET failures = 0, updated_at = ? WHERE id = ? AND failures != 0",
                (epoch(self._clock()), webhook_id),
            )

    async def failed(self, webhook_id: int, reason: str, threshold: int) -> bool:
        """Count a failed delivery; at `threshold` in a row the webhook is disabled. True if this disabled it."""
        async with self._db.write() as db:
            row = await db.one(
                "UPDATE webhooks SET failures = failures + 1, updated_at = ?, disabled_reason = CASE "
                "WHEN disabled_reason IS NULL AND failures + 1 >= ? THEN ? ELSE disabled_reason END "
                "WHERE id = ? RETURNING failures, disabled_reason",
                (epoch(self._clock()), threshold, f"failed {threshold} times in a row; last: {reason}", webhook_id),
            )
        return row is not None and row["failures"] == threshold and row["disabled_reason"] is not None
