"""Which guilds a shard process serves: Discord's formula, in Python and as SQL."""

from __future__ import annotations

import sqlite3

import pytest

from bot.domain.errors import InvalidField
from bot.domain.shards import Shards, shard_of

# A guild created at 2021-01-01T00:00:00Z: (ms since the Discord epoch) << 22.
NEW_YEAR_2021 = 1_609_459_200_000 - 1_420_070_400_000
GUILD = NEW_YEAR_2021 << 22  # 794_354_...; its shard is NEW_YEAR_2021 % count


@pytest.mark.parametrize(
    ("guild_id", "count", "shard"),
    [
        (GUILD, 1, 0),
        (GUILD, 2, NEW_YEAR_2021 % 2),
        (GUILD + 1, 2, NEW_YEAR_2021 % 2),  # the low 22 bits (worker, process, increment) do not count
        (GUILD + (1 << 22), 2, (NEW_YEAR_2021 + 1) % 2),
        (GUILD, 7, NEW_YEAR_2021 % 7),
        (81384788765712384, 16, (81384788765712384 >> 22) % 16),  # Discord API's own guild
        (0, 4, 0),
        (2**63 - 1, 1000, ((2**63 - 1) >> 22) % 1000),
    ],
)
def test_the_shard_of_a_guild_is_discords_formula(guild_id: int, count: int, shard: int) -> None:
    assert shard_of(guild_id, count) == shard
    assert Shards(count, (shard,)).owns(guild_id)
    assert Shards.every(count).owns(guild_id)
    if count > 1:
        others = tuple(i for i in range(count) if i != shard)
        assert not Shards(count, others).owns(guild_id)


def test_ids_are_kept_sorted_and_every_names_them_all() -> None:
    assert Shards(4, (3, 0)).ids == (0, 3)
    assert Shards(4, [2, 1]).ids == (1, 2)  # type: ignore[arg-type]  # a list from a config file
    assert Shards.every(3) == Shards(3, (0, 1, 2))
    assert Shards.every(3).covers_all and not Shards(3, (1,)).covers_all
    assert str(Shards(4, (0, 2))) == "shards 0, 2 of 4"
    assert str(Shards(2, (1,))) == "shard 1 of 2"


@pytest.mark.parametrize(
    ("count", "ids", "field"),
    [
        (0, (0,), "shard_count"),
        (-1, (0,), "shard_count"),
        (True, (0,), "shard_count"),
        (2.0, (0,), "shard_count"),
        (2, (), "shard_ids"),
        (2, (2,), "shard_ids"),
        (2, (-1,), "shard_ids"),
        (2, (1, 1), "shard_ids"),
        (2, (False,), "shard_ids"),
        (2, ("1",), "shard_ids"),
    ],
)
def test_impossible_shards_are_refused(count: object, ids: tuple, field: str) -> None:
    with pytest.raises(InvalidField) as caught:
        Shards(count, ids)  # type: ignore[arg-type]
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("shards", "column", "sql"),
    [
        (Shards(4, (0, 2)), "guild_id", "((guild_id >> 22) % 4) IN (0, 2)"),
        (Shards(2, (1,)), "r.guild_id", "((r.guild_id >> 22) % 2) IN (1)"),
        (Shards.every(1), "guild_id", "((guild_id >> 22) % 1) IN (0)"),
    ],
)
def test_sql_condition_text(shards: Shards, column: str, sql: str) -> None:
    assert shards.sql_condition(column) == sql


@pytest.mark.parametrize("column", ["guild_id; DROP TABLE events", "1=1 OR guild_id", "", "a.b.c", "guild id"])
def test_sql_condition_takes_only_a_column_name(column: str) -> None:
    with pytest.raises(ValueError, match="not a column name"):
        Shards(2, (0,)).sql_condition(column)


def test_the_sql_condition_selects_exactly_the_guilds_owns_accepts() -> None:
    """SQLite evaluates the condition (PostgreSQL's bigint >> and % agree for ids below 2**63)."""
    guilds = [GUILD + (n << 22) + n for n in range(50)] + [0, 2**63 - 1, 81384788765712384]
    connection = sqlite3.connect(":memory:")
    try:
        connection.execute("CREATE TABLE reminders (guild_id INTEGER NOT NULL)")
        connection.executemany("INSERT INTO reminders VALUES (?)", [(g,) for g in guilds])
        for shards in (Shards(4, (0, 2)), Shards(3, (1,)), Shards(5, (4, 0)), Shards.every(2)):
            rows = connection.execute(f"SELECT guild_id FROM reminders WHERE {shards.sql_condition()}").fetchall()
            assert sorted(g for (g,) in rows) == sorted(g for g in guilds if shards.owns(g)), shards
    finally:
        connection.close()
