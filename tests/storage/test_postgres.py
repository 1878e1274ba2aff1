"""What only the PostgreSQL backend does: its migrations, its placeholders, its URLs in log lines. The
repositories' behaviour is tested on both backends (test_repositories.py and the others)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from bot.storage import SchemaTooNew, open_store
from bot.storage.database import Unavailable, migrations
from bot.storage.postgres import PostgresStore, translate
from tests.proxy import TcpProxy

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


# ---- a server that cannot serve now: Unavailable, not the driver's error


@pytest.fixture
async def proxy(postgres_url: str) -> AsyncIterator[TcpProxy]:
    proxy = await TcpProxy.before(postgres_url)
    yield proxy
    await proxy.cut()


async def _failure(work) -> Unavailable:
    """What `work` raises, run in a task of its own as a slash command or an API request is."""

    async def run() -> Unavailable:
        with pytest.raises(Unavailable) as raised:
            await work
        return raised.value

    return await asyncio.create_task(run())


async def test_a_server_that_goes_away_is_unavailable_until_it_is_back(postgres_url: str, proxy: TcpProxy) -> None:
    store = await open_store(proxy.url(postgres_url), pool_min_size=1, pool_max_size=2)
    try:
        await store.meta.set("before", "1")
        await proxy.cut()  # the pool's connections drop, and new ones are refused

        read = await _failure(store.meta.get("before"))
        assert not read.during_write and not read.nothing_changed
        assert isinstance(read.__cause__, OSError | asyncpg.PostgresConnectionError), repr(read.__cause__)
        write = await _failure(store.meta.set("during", "1"))
        assert write.during_write and write.nothing_changed
        assert isinstance(write.__cause__, OSError), repr(write.__cause__)  # connection refused

        await proxy.restore()
        await store.meta.set("after", "1")  # the pool connects again by itself
        assert await store.meta.get("before") == "1"
    finally:
        await store.close()
    stored = await raw(postgres_url, "SELECT key FROM meta WHERE key IN ('before', 'during', 'after') ORDER BY key")
    assert stored == [("after",), ("before",)]


async def test_a_server_that_accepts_and_never_answers_fails_the_start_in_the_connect_timeout() -> None:
    """A firewall that drops packets, a wedged host: the TCP connection opens and no answer comes."""
    held: list[asyncio.StreamWriter] = []

    async def silent(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(Unavailable, match=r"PostgreSQL did not answer within 0\.5 s"):
            await PostgresStore.open(f"postgresql://calbot@127.0.0.1:{port}/calbot", connect_timeout=0.5)
        assert held, "the start never reached the server"
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_a_connection_lost_inside_a_write_rolls_it_back(postgres_url: str) -> None:
    store = await open_store(postgres_url)
    try:

        async def write_and_lose_the_connection() -> None:
            async with store.database.write() as db:
                await db.execute("INSERT INTO meta (key, value) VALUES ('half', 'done')")
                pid = (await db.one("SELECT pg_backend_pid() AS pid"))["pid"]
                await raw(postgres_url, f"SELECT pg_terminate_backend({pid})")  # as a server restart does
                await db.execute("INSERT INTO meta (key, value) VALUES ('other', 'half')")

        lost = await _failure(write_and_lose_the_connection())
        assert lost.during_write and lost.nothing_changed
        # what asyncpg raises depends on when it read the server's goodbye; it is the connection lost in any case
        assert isinstance(lost.__cause__, asyncpg.PostgresError | asyncpg.InterfaceError | asyncpg.InternalClientError)
        assert await store.meta.get("half") is None  # rolled back; and the pool has a working connection again
    finally:
        await store.close()


async def test_a_commit_before_the_failure_is_not_nothing(postgres_url: str, proxy: TcpProxy) -> None:
    store = await open_store(proxy.url(postgres_url))
    try:

        async def one_command() -> None:
            await store.meta.set("first", "stored")
            await proxy.cut()
            await store.meta.set("second", "lost")

        failed = await _failure(one_command())
        assert failed.during_write and failed.committed_before and not failed.nothing_changed
    finally:
        await store.close()


async def test_a_connection_lost_while_committing_is_an_unknown_outcome(postgres_url: str, proxy: TcpProxy) -> None:
    store = await open_store(proxy.url(postgres_url))
    try:
        proxy.cut_before = b"COMMIT"  # the server goes away as the COMMIT is sent (here: before it arrives)
        lost = await _failure(store.meta.set("key", "value"))
        assert lost.while_committing and not lost.during_write and not lost.nothing_changed
    finally:
        await store.close()
    assert await raw(postgres_url, "SELECT value FROM meta WHERE key = 'key'") == []  # this time, not committed


async def test_errors_of_ours_stay_what_they_are(postgres_url: str) -> None:
    store = await open_store(postgres_url)
    try:
        with pytest.raises(asyncpg.UndefinedTableError):
            async with store.database.write() as db:
                await db.execute("INSERT INTO no_such_table VALUES (1)")
        with pytest.raises(asyncpg.PostgresSyntaxError):
            async with store.database.read() as db:
                await db.one("SELEC 1")
        await store.meta.set("still", "fine")
    finally:
        await store.close()
