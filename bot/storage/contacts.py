"""Members' mail addresses and phone numbers, and the codes that confirm them (rules: bot/domain/contacts.py).

An address is personal data: this repository hands it out only to deliver to it (`confirmed`) and to its
owner (`get`); nothing here logs it.
"""

from __future__ import annotations

from bot.domain.contacts import CODE_ATTEMPTS, CODE_COOLDOWN, CODE_LIFETIME, Contact, code_hash, code_matches
from bot.domain.errors import InvalidField

from .database import Clock, Database, Row, epoch, instant


def _contact(row: Row) -> Contact:
    return Contact(
        user_id=row["user_id"], kind=row["kind"], address=row["address"], confirmed_at=instant(row["confirmed_at"])
    )


class SqlContacts:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def request(self, user_id: int, kind: str, address: str, code: str) -> Contact:
        """Keep `address` unconfirmed, waiting for `code` (replacing any address of this kind, confirmed or not)."""
        now = self._clock()
        async with self._db.write() as db:
            await db.serialize("contacts", user_id)
            waiting = await db.one(
                "SELECT updated_at FROM contacts WHERE user_id = ? AND kind = ? AND code_hash IS NOT NULL",
                (user_id, kind),
            )
            if waiting is not None and instant(waiting["updated_at"]) > now - CODE_COOLDOWN:
                # Nobody can use calbot to flood a mailbox or a phone with codes.
                raise InvalidField("address", "a code was sent less than a minute ago; wait a minute to ask again")
            row = await db.one(
                """
                INSERT INTO contacts (user_id, kind, address, confirmed_at, code_hash, code_expires, attempts,
                                      updated_at)
                VALUES (?, ?, ?, NULL, ?, ?, 0, ?)
                ON CONFLICT (user_id, kind) DO UPDATE SET
                    address = excluded.address, confirmed_at = NULL, code_hash = excluded.code_hash,
                    code_expires = excluded.code_expires, attempts = 0, updated_at = excluded.updated_at
                RETURNING *
                """,
                (user_id, kind, address, code_hash(user_id, kind, code), epoch(now + CODE_LIFETIME), epoch(now)),
            )
        return _contact(row)

    async def confirm(self, user_id: int, kind: str, code: str) -> Contact:
        """Confirm the waiting address with `code`; raises InvalidField("code", why) when it cannot."""
        now = self._clock()
        async with self._db.write() as db:
            row = await db.one("SELECT * FROM contacts WHERE user_id = ? AND kind = ?", (user_id, kind))
            if row is None or row["code_hash"] is None:
                if row is not None:
                    return _contact(row)  # already confirmed: typing the code again is no error
                raise InvalidField("code", "there is no address waiting for a code; set one first")
            if row["attempts"] >= CODE_ATTEMPTS:
                raise InvalidField("code", "too many wrong codes; set the address again for a new code")
            if instant(row["code_expires"]) < now:
                raise InvalidField("code", "that code has expired; set the address again for a new code")
            if code_matches(row["code_hash"], user_id, kind, code):
                row = await db.one(
                    "UPDATE contacts SET confirmed_at = ?, code_hash = NULL, code_expires = NULL, attempts = 0, "
                    "updated_at = ? WHERE user_id = ? AND kind = ? RETURNING *",
                    (epoch(now), epoch(now), user_id, kind),
                )
                return _contact(row)
            await db.execute(
                "UPDATE contacts SET attempts = attempts + 1 WHERE user_id = ? AND kind = ?", (user_id, kind)
            )
        # Raised once the wrong try is committed: raising inside the transaction would roll its count back.
        left = CODE_ATTEMPTS - row["attempts"] - 1
        raise InvalidField("code", f"that is not the code we sent; {left} tr{'y' if left == 1 else 'ies'} left")

    async def get(self, user_id: int, kind: str) -> Contact | None:
        async with self._db.read() as db:
            row = await db.one("SELECT * FROM contacts WHERE user_id = ? AND kind = ?", (user_id, kind))
        return None if row is None else _contact(row)

    async def clear(self, user_id: int, kind: str) -> bool:
        async with self._db.write() as db:
            return await db.execute("DELETE FROM contacts WHERE user_id = ? AND kind = ?", (user_id, kind)) == 1

    async def confirmed(self, kind: str, user_ids: list[int]) -> dict[int, str]:
        """The confirmed addresses of these members, by member; the others have none."""
        if not user_ids:
            return {}
        found: dict[int, str] = {}
        async with self._db.read() as db:
            for start in range(0, len(user_ids), 500):  # bounded statements, whatever the attendance
                chunk = user_ids[start : start + 500]
                marks = ", ".join("?" * len(chunk))
                rows = await db.all(
                    f"SELECT user_id, address FROM contacts WHERE kind = ? AND confirmed_at IS NOT NULL "
                    f"AND user_id IN ({marks})",
                    (kind, *chunk),
                )
                found.update((r["user_id"], r["address"]) for r in rows)
        return found


class SqlDmChannels:
    """Members' DM channel ids, as Discord gave them when first opened."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def get(self, user_id: int) -> int | None:
        async with self._db.read() as db:
            row = await db.one("SELECT channel_id FROM dm_channels WHERE user_id = ?", (user_id,))
        return None if row is None else row["channel_id"]

    async def save(self, user_id: int, channel_id: int) -> None:
        async with self._db.write() as db:
            await db.execute(
                "INSERT INTO dm_channels (user_id, channel_id, updated_at) VALUES (?, ?, ?) ON CONFLICT (user_id) "
                "DO UPDATE SET channel_id = excluded.channel_id, updated_at = excluded.updated_at",
                (user_id, channel_id, epoch(self._clock())),
            )

    async def forget(self, user_id: int) -> None:
        async with self._db.write() as db:
            await db.execute("DELETE FROM dm_channels WHERE user_id = ?", (user_id,))
