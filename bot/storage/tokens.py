"""Per-guild HTTP API tokens, stored hashed.

A token reads `cbt_<id>_<secret>`: the id finds the row, and the secret is compared with the stored
SHA-256 of it in constant time, so a lookup costs one indexed read and the database alone never lets
anyone call the API. The secret is 32 random bytes; SHA-256 (not a slow password hash) is right for a
random secret of that length, and keeps checking a token cheap on every request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.domain.errors import InvalidField, NotFound

from .database import Database, Row, epoch, instant, storable

PREFIX = "cbt_"
SCOPES = ("read", "write")
ROLES = ("manager", "organiser")  # the standing a token acts with (bot/domain/permissions.py): its creator's
NAME_MAX = 100
SECRET_BYTES = 32


@dataclass(frozen=True, slots=True)
class ApiToken:
    id: int
    guild_id: int
    name: str
    scope: str  # "read": GET and the DisCal list/get routes; "write": everything
    created_at: datetime
    created_by: int | None = None
    role: str = "manager"
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None

    @property
    def can_write(self) -> bool:
        return self.scope == "write"

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_token(text: str) -> tuple[int, str] | None:
    """(id, secret) from `cbt_<id>_<secret>`, or None if it is not shaped like one of ours."""
    if not text.startswith(PREFIX):
        return None
    number, sep, secret = text[len(PREFIX) :].partition("_")
    if not sep or not secret or not (number.isascii() and number.isdigit()) or len(number) > 18:
        return None
    return int(number), secret


def _token(row: Row) -> ApiToken:
    return ApiToken(
        id=row["id"],
        guild_id=row["guild_id"],
        name=row["name"],
        scope=row["scope"],
        created_by=row["created_by"],
        role=row["role"],
        created_at=instant(row["created_at"]),
        last_used_at=instant(row["last_used_at"]),
        revoked_at=instant(row["revoked_at"]),
    )


class SqlApiTokens:
    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self._db = db
        self._clock = clock

    async def create(
        self,
        guild_id: int,
        name: str = "",
        scope: str = "write",
        *,
        created_by: int | None = None,
        role: str = "manager",
    ) -> tuple[ApiToken, str]:
        """A new token for `guild_id`, acting as `role`; returns it and its text, which is never stored and
        cannot be shown again."""
        scope = (scope or "").strip().lower()
        if scope not in SCOPES:
            raise InvalidField("scope", f"{scope!r} is not a scope; use read or write")
        if role not in ROLES:
            raise InvalidField("role", f"{role!r} is not a role; use {' or '.join(ROLES)}")
        if role != "manager" and created_by is None:
            raise InvalidField("role", "an organiser's token needs its creator, whose events it may change")
        name = " ".join((name or "").split()) or "API token"
        if len(name) > NAME_MAX:
            raise InvalidField("name", f"is {len(name)} characters long; the limit is {NAME_MAX}")
        secret = secrets.token_urlsafe(SECRET_BYTES)
        async with self._db.write() as db:
            row = await db.one(
                "INSERT INTO api_tokens (guild_id, name, scope, hash, created_by, role, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *",
                (guild_id, name, scope, _digest(secret), created_by, role, epoch(self._clock())),
            )
        token = _token(row)
        return token, f"{PREFIX}{token.id}_{secret}"

    async def verify(self, text: str) -> ApiToken | None:
        """The active token `text` is, or None (unknown, malformed, wrong secret or revoked)."""
        parsed = parse_token(text.strip())
        if parsed is None:
            return None
        token_id, secret = parsed
        async with self._db.read() as db:
            row = await db.one("SELECT * FROM api_tokens WHERE id = ?", (token_id,))
        # Compare even when there is no row, so a wrong id and a wrong secret take the same time.
        stored = row["hash"] if row is not None else "0" * 64
        if not hmac.compare_digest(stored, _digest(secret)) or row is None or row["revoked_at"] is not None:
            return None
        return _token(row)

    async def touch(self, token_id: int) -> None:
        """Record that the token was used now."""
        async with self._db.write() as db:
            await db.execute("UPDATE api_tokens SET last_used_at = ? WHERE id = ?", (epoch(self._clock()), token_id))

    async def list(self, guild_id: int, *, include_revoked: bool = False) -> list[ApiToken]:
        where = "" if include_revoked else " AND revoked_at IS NULL"
        async with self._db.read() as db:
            rows = await db.all(f"SELECT * FROM api_tokens WHERE guild_id = ?{where} ORDER BY id", (guild_id,))
        return [_token(r) for r in rows]

    async def revoke(self, token_id: int, guild_id: int | None = None) -> ApiToken:
        """Revoke a token (of `guild_id` only, when given); revoking it again changes nothing."""
        if not storable(token_id):
            raise NotFound("API token", token_id)
        scope, params = ("AND guild_id = ?", (guild_id,)) if guild_id is not None else ("", ())
        async with self._db.write() as db:
            row = await db.one(
                f"UPDATE api_tokens SET revoked_at = coalesce(revoked_at, ?) WHERE id = ? {scope} RETURNING *",
                (epoch(self._clock()), token_id, *params),
            )
        if row is None:
            raise NotFound("API token", token_id)
        return _token(row)

    async def data_version(self) -> object:
        """A value that changes whenever the database may have changed, whoever changed it (the bot, or an
        API in another process). The API keys its response caches on it, so a cached answer is never older
        than the data, and checking costs one tiny query."""
        return await self._db.data_version()
