"""While the database is unavailable the API answers 503 with Retry-After and says what happened to the
request: "Nothing was changed" only when that is so. Real faults where they can be made: SQLite locked by
another connection past its busy timeout, SQLite out of pages (max_page_count, SQLite's own "disk full"),
PostgreSQL refusing connections and PostgreSQL dropping them; the rest by the exceptions the drivers raise."""

from __future__ import annotations

import socket
import sqlite3
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.api import create_app, outage
from bot.api.outage import RETRY_AFTER, Outcome, classify
from bot.storage import open_store
from bot.storage.database import Unavailable
from tests.api.conftest import GUILD, NOW, Caller

EVENT = {"name": "Raid", "starts": "2026-03-01T18:00:00Z"}
UNCHANGED = "The database is unavailable; try again in a minute. Nothing was changed."


async def unavailable(response) -> str:
    assert response.status == 503, await response.text()
    assert response.headers["Retry-After"] == str(RETRY_AFTER)
    assert response.content_type == "application/json"
    body = await response.json()
    return body["message"]


async def pragma(store, statement: str) -> int | None:
    async with store.database.read() as db:
        row = await db.one(f"PRAGMA {statement}")
    return row[0] if row is not None else None


# ---- SQLite


async def test_sqlite_locked_by_another_process_writes_are_503_reads_still_work(writer, store):
    created = await writer.post("/v2/events", EVENT)
    assert created.status == 201
    await pragma(store, "busy_timeout = 50")
    other = sqlite3.connect(store.path, isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE")  # in WAL mode: holds the write lock; readers go on
        for method, path, body in [
            ("POST", "/v2/events", EVENT),
            ("PATCH", "/v2/events/1", {"name": "Renamed"}),
            ("DELETE", "/v2/events/1", None),
            ("POST", "/v2/calendars", {"name": "Another"}),
        ]:
            assert await unavailable(await writer.request(method, path, json=body)) == UNCHANGED, (method, path)
        response = await writer.post(
            "/v1/events/create",
            {"guild_id": GUILD, "epochStart": 1772388000000, "epochEnd": 1772391600000, "summary": "x"},
        )
        assert await unavailable(response) == UNCHANGED
        assert (await response.json())["Message"] == UNCHANGED  # DisCal clients read Message
        listed = await writer.get("/v2/events")
        assert listed.status == 200  # reading goes on while another process writes
        assert [e["name"] for e in (await listed.json())["data"]] == ["Raid"]
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert (await writer.patch("/v2/events/1", {"name": "Renamed"})).status == 200  # and writing again once free


async def test_sqlite_disk_full_is_503_and_nothing_of_the_batch_is_kept(writer, store):
    assert (await writer.post("/v2/events", EVENT)).status == 201
    await pragma(store, f"max_page_count = {await pragma(store, 'page_count')}")  # no page more: "disk full"
    batch = {"resources": [{**EVENT, "name": f"Big {n}", "content": "x" * 9000} for n in range(60)]}
    assert await unavailable(await writer.post("/v2/events/batch", batch)) == UNCHANGED
    await pragma(store, "max_page_count = 1073741823")
    listed = await writer.get("/v2/events?limit=100")
    assert [e["name"] for e in (await listed.json())["data"]] == ["Raid"]  # all or nothing, as it said


async def test_a_read_that_fails_after_a_write_committed_says_what_was_saved(writer, store, monkeypatch):
    """The event is stored; reading its calendar for `include=calendar` then fails: the answer must not say
    "Nothing was changed"."""
    real_list, real_create = store.calendars.list, store.events.create_many
    created = False

    async def create_many(events):
        nonlocal created
        stored = await real_create(events)
        created = True
        return stored

    async def list_calendars(guild_id):
        if created:
            error = sqlite3.OperationalError("disk I/O error")
            raise Unavailable(str(error)) from error
        return await real_list(guild_id)

    monkeypatch.setattr(store.events, "create_many", create_many)
    monkeypatch.setattr(store.calendars, "list", list_calendars)
    message = await unavailable(await writer.post("/v2/events?include=calendar", EVENT))
    assert message == (
        "The database is unavailable; try again in a minute. Saved before it became unavailable: the calendar "
        "General, event 1. Nothing else was changed."
    )
    monkeypatch.undo()
    assert [e["name"] for e in (await (await writer.get("/v2/events")).json())["data"]] == ["Raid"]


async def test_an_error_that_is_not_an_outage_is_still_a_500(writer, store, monkeypatch):
    async def broken(guild_id):
        raise sqlite3.OperationalError("no such column: nonsense")

    monkeypatch.setattr(store.calendars, "list", broken)
    response = await writer.post("/v2/events", EVENT)
    assert response.status == 500 and "Retry-After" not in response.headers
    assert (await response.json())["message"] == "Something went wrong on our side; it has been logged."


# ---- PostgreSQL


def dead_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def elsewhere(url: str, port: int) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{parts.hostname}:{port}"))


@pytest.fixture
async def postgres_writer(postgres_url, config):
    """A caller with a write token over a PostgreSQL store, the store, and its URL."""
    store = await open_store(postgres_url)
    _token, text = await store.tokens.create(GUILD, "tests", "write")
    async with TestClient(TestServer(create_app(store, config, clock=lambda: NOW))) as client:
        yield Caller(client, text), store, postgres_url
    await store.close()


@pytest.mark.watchdog(
    threshold=0.5,
    reason="asyncpg's pool logs each failed reconnect with a traceback, which logging formats by reading the library's "
    "source files from disk (linecache) on the loop: cold, that read took 206 ms once (6 ms of CPU)",
)
async def test_postgres_refusing_connections_is_503_and_the_api_recovers_by_itself(postgres_writer, caplog):
    writer, store, url = postgres_writer
    assert (await writer.post("/v2/events", EVENT)).status == 201
    pool = store.database.pool
    pool.set_connect_args(dsn=elsewhere(url, dead_port()))  # as if the server were down: connection refused
    await pool.expire_connections()
    try:
        for method, path, body in [
            ("GET", "/v2/events", None),
            ("POST", "/v2/events", EVENT),
            ("POST", "/v2/events/batch", {"resources": [EVENT, EVENT]}),
            ("DELETE", "/v2/events/1", None),
            ("POST", "/v1/events/list/month", {"guild_id": GUILD, "DaysInMonth": 31, "EpochStart": 1772323200000}),
        ]:
            assert await unavailable(await writer.request(method, path, json=body)) == UNCHANGED, (method, path)
    finally:
        pool.set_connect_args(dsn=url)  # the server is back
    listed = await writer.get("/v2/events")
    assert listed.status == 200 and [e["name"] for e in (await listed.json())["data"]] == ["Raid"]
    assert not [r for r in caplog.records if r.name.startswith("bot.api") and r.levelname == "ERROR"]


async def test_postgres_dropping_every_connection_is_a_503_or_a_retry_never_a_500(postgres_writer, postgres_database):
    writer, _store, _url = postgres_writer
    admin = await asyncpg.connect(postgres_database)
    try:
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await admin.close()
    statuses = []
    for _ in range(3):
        response = await writer.post("/v2/events", EVENT)
        statuses.append(response.status)
        if response.status == 503:
            message = (await response.json())["message"]
            assert message == UNCHANGED or "may or may not have been saved" in message
    assert set(statuses) <= {201, 503} and statuses[-1] == 201


# ---- what each driver error means


def sqlite_error(text: str, code: int) -> sqlite3.OperationalError:
    error = sqlite3.OperationalError(text)
    error.sqlite_errorcode = code
    return error


def wrapped(cause: BaseException, **flags) -> Unavailable:
    try:
        raise Unavailable(str(cause), **flags) from cause
    except Unavailable as error:
        return error


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (sqlite_error("database is locked", 5), Outcome.UNCHANGED),
        (sqlite_error("disk I/O error", 10 | (4 << 8)), Outcome.UNCHANGED),  # SQLITE_IOERR_FSYNC
        (sqlite_error("database or disk is full", 13), Outcome.UNCHANGED),
        (sqlite3.OperationalError("database is locked"), Outcome.UNCHANGED),  # without a code: by its text
        (sqlite3.OperationalError("attempt to write a readonly database"), Outcome.UNCHANGED),
        (sqlite_error("no such table: x", 1), None),
        (sqlite3.IntegrityError("UNIQUE constraint failed"), None),
        (ConnectionRefusedError(111, "Connect call failed"), Outcome.UNCHANGED),
        (socket.gaierror(-2, "Name or service not known"), Outcome.UNCHANGED),
        (asyncpg.CannotConnectNowError("the database system is starting up"), Outcome.UNCHANGED),
        (asyncpg.TooManyConnectionsError("sorry, too many clients already"), Outcome.UNCHANGED),
        (asyncpg.DiskFullError("could not extend file"), Outcome.UNCHANGED),
        (asyncpg.InterfaceError("cannot call Connection.fetch(): connection is closed"), Outcome.UNCHANGED),
        (asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"), Outcome.UNKNOWN),
        (asyncpg.AdminShutdownError("terminating connection due to administrator command"), Outcome.UNKNOWN),
        (ConnectionResetError(104, "reset"), Outcome.UNKNOWN),
        (TimeoutError(), Outcome.UNKNOWN),
        (asyncpg.UniqueViolationError("duplicate key"), None),
        (ValueError("not ours"), None),
        # as the backends raise them: the failing write rolled back
        (wrapped(asyncpg.ConnectionDoesNotExistError("lost"), during_write=True), Outcome.UNCHANGED),
        # a read changes nothing; a write lost while committing may have been saved
        (wrapped(ConnectionRefusedError(111, "refused")), Outcome.UNCHANGED),
        (wrapped(asyncpg.ConnectionDoesNotExistError("lost"), while_committing=True), Outcome.UNKNOWN),
        (wrapped(sqlite_error("disk I/O error", 10)), Outcome.UNCHANGED),
        (wrapped(OSError("?"), while_committing=True), Outcome.UNKNOWN),
    ],
    ids=repr,
)
def test_what_a_driver_error_says_about_a_write(error, outcome):
    assert classify(error) is outcome
    try:  # and the same raised from inside another error's handling (a ROLLBACK that fails too, say)
        try:
            raise error
        except BaseException as inner:
            raise RuntimeError("while handling it") from inner
    except RuntimeError as outer:
        assert classify(outer) is outcome


def test_the_messages_say_nothing_was_changed_only_when_true():
    assert outage.message(Outcome.UNCHANGED, write=True, saved=[]) == UNCHANGED
    assert outage.message(Outcome.UNKNOWN, write=False, saved=[]) == UNCHANGED  # a read changes nothing
    unknown = outage.message(Outcome.UNKNOWN, write=True, saved=[])
    assert "Nothing was changed" not in unknown and "may or may not have been saved" in unknown
    saved = outage.message(Outcome.UNCHANGED, write=True, saved=["event 12"])
    assert "Nothing was changed" not in saved and "event 12" in saved and "Nothing else was changed" in saved
    both = outage.message(Outcome.UNKNOWN, write=True, saved=["the calendar General"])
    assert "the calendar General" in both and "may or may not have been saved" in both


async def test_a_write_lost_while_committing_is_not_said_to_have_changed_nothing(writer, store, monkeypatch):
    async def lost(events):
        cause = asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation")
        raise Unavailable(str(cause), while_committing=True) from cause  # PostgreSQL's write(), lost in COMMIT

    monkeypatch.setattr(store.events, "create_many", lost)
    assert (await writer.post("/v2/calendars", {"name": "Raids"})).status == 201
    message = await unavailable(await writer.post("/v2/events", EVENT))
    assert message == (
        "The database is unavailable; try again in a minute. The connection was lost during the change, so it "
        "may or may not have been saved: look before trying again."
    )
    # the first event of a guild without calendars makes General first: that much is saved for certain
    await writer.delete("/v2/calendars/1")
    message = await unavailable(await writer.post("/v2/events", EVENT))
    assert "Saved before it became unavailable: the calendar General." in message
    assert "may or may not have been saved" in message
