"""What only the PostgreSQL backend does: its migrations, its placeholders, its URLs in log lines. The
repositories' behaviour is tested on both backends (test_repositories.py and the others)."""

from __future__ import annotations

import asyncio

import pytest

from bot.storage import SchemaTooNew, open_store
from bot.storage.database import migrations
from bot.storage.postgres import translate

from .raw import raw

LATEST = migrations("postgres")[-1][0]


async def test_a_new_database_gets_the_whole_schema_and_its_version(postgres_url: str) -> None:
    store = await open_store(postgres_url)
    try:
        assert await store.schema_version() == LATEST
    finally:
        await store.close()
    tables = {
        row[0] for row in await raw(postgres_url, "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
    }
    assert {"calendars", "events", "reminders", "attendees", "api_tokens", "event_sync", "schema_version"} <= tables


async def test_processes_starting_together_migrate_once(postgres_url: str) -> None:
    stores = await asyncio.gather(*(open_store(postgres_url) for _ in range(4)))
    try:
        applied = await raw(postgres_url, "SELECT version FROM schema_version ORDER BY version")
        assert applied == [(version,) for version, _name, _sql in migrations("postgres")]  # each once
    finally:
        for store in stores:
            await store.close()


async def test_reopening_applies_nothing(postgres_url: str) -> None:
    await (await open_store(postgres_url)).close()
    again = await open_store(postgres_url)
    try:
        assert await again.migrate() == []
    finally:
        await again.close()


async def test_a_database_from_a_newer_calbot_is_refused_and_left_alone(postgres_url: str) -> None:
    await (await open_store(postgres_url)).close()
    await raw(postgres_url, f"INSERT INTO schema_version (version) VALUES ({LATEST + 3})")
    with pytest.raises(SchemaTooNew, match="upgrade calbot"):
        await open_store(postgres_url)
    assert await raw(postgres_url, "SELECT max(version) FROM schema_version") == [(LATEST + 3,)]


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT * FROM t WHERE a = ? AND b = ?", ("SELECT * FROM t WHERE a = $1 AND b = $2", 2)),
        ("UPDATE t SET a = :x WHERE b = :y OR c = :x", ("UPDATE t SET a = $1 WHERE b = $2 OR c = $1", ("x", "y"))),
        # literals, comments and casts are not placeholders
        (
            "SELECT '?', ':no' -- what? :no\nFROM t WHERE a = ?",
            ("SELECT '?', ':no' -- what? :no\nFROM t WHERE a = $1", 1),
        ),
        ("SELECT x::text, 'it''s ?' FROM t WHERE a = :a", ("SELECT x::text, 'it''s ?' FROM t WHERE a = $1", ("a",))),
    ],
)
def test_placeholders_become_numbered(sql: str, expected: tuple) -> None:
    assert translate(sql) == expected


def test_a_statement_mixing_placeholder_styles_is_refused() -> None:
    with pytest.raises(ValueError, match="mixes"):
        translate("SELECT ? WHERE a = :a")
