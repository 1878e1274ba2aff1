"""Which guilds a bot process serves when the bot runs as several shards.

Discord puts each guild on one shard of `shard_count`: shard `(guild_id >> 22) % shard_count` (the
guild id's creation time in milliseconds, modulo the count). A process that runs shards `ids` of
`count` receives only those guilds over the gateway, so it is the one to answer them, post their cards
and send their channel reminders. `Shards` says which guilds those are, in Python and in SQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import InvalidField

# A column, optionally qualified by its table: the only thing `sql_condition` puts into SQL unchecked.
_COLUMN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?")


def shard_of(guild_id: int, count: int) -> int:
    """The shard Discord puts `guild_id` on when the bot runs `count` shards."""
    return (guild_id >> 22) % count


@dataclass(frozen=True, slots=True)
class Shards:
    """Shards `ids` of `count`: what one bot process runs. `ids` is kept sorted."""

    count: int
    ids: tuple[int, ...]

    def __post_init__(self) -> None:
        if not _is_int(self.count) or self.count < 1:
            raise InvalidField("shard_count", f"must be a whole number of at least 1, not {self.count!r}")
        ids = tuple(self.ids)
        if not ids:
            raise InvalidField("shard_ids", "must name at least one shard")
        for shard in ids:
            if not _is_int(shard) or not 0 <= shard < self.count:
                raise InvalidField("shard_ids", f"{shard!r} is not a shard of {self.count} (0 to {self.count - 1})")
        if len(set(ids)) != len(ids):
            raise InvalidField("shard_ids", "names a shard twice")
        object.__setattr__(self, "ids", tuple(sorted(ids)))

    @classmethod
    def every(cls, count: int) -> Shards:
        """All `count` shards in one process."""
        return cls(count, tuple(range(count)))

    @property
    def covers_all(self) -> bool:
        """Whether these shards reach every guild (one process runs them all)."""
        return len(self.ids) == self.count

    def owns(self, guild_id: int) -> bool:
        """Whether `guild_id` is on one of these shards."""
        return shard_of(guild_id, self.count) in self.ids

    def sql_condition(self, column: str = "guild_id") -> str:
        """The same test as `owns`, as an SQL condition on `column`, valid in SQLite and PostgreSQL:
        `((guild_id >> 22) % 4) IN (0, 2)`. Only the checked column name and integers go into the text."""
        if not _COLUMN.fullmatch(column):
            raise ValueError(f"{column!r} is not a column name")
        return f"(({column} >> 22) % {int(self.count)}) IN ({', '.join(str(int(i)) for i in self.ids)})"

    def __str__(self) -> str:
        return f"shard{'s' if len(self.ids) > 1 else ''} {', '.join(map(str, self.ids))} of {self.count}"


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
