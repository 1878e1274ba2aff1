"""The notification log (`GET /{v}/notifications`) and the live stream (`GET /{v}/notifications/stream`) through
a real aiohttp client against the real API, with notifications made by the real reminder engine: on SQLite,
and on PostgreSQL with the engine on a store of its own (as another process), its notifications announced."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.api import create_app, notifications
from bot.domain.models import Event
from bot.domain.rsvp import GOING
from bot.reminders import ByChannel, ReminderEngine
from bot.storage import Store, open_store
from tests.api.conftest import GUILD, OTHER_GUILD
from tests.reminders.test_engine import Clock

START = datetime(2026, 6, 1, 18, 0, tzinfo=UTC)
ALICE = 11


@pytest.fixture
def clock() -> Clock:
    return Clock(START - timedelta(days=1))


@pytest.fixture
async def stores(store_url: str, clock: Clock) -> AsyncIterator[tuple[Store, Store]]:
    """The API's store, and the engine's: on PostgreSQL another one, as another process would have."""
    api_store = await open_store(store_url, clock=clock)
    engine_store = api_store if store_url.startswith("sqlite") else await open_store(store_url, clock=clock)
    yield api_store, engine_store
    if engine_store is not api_store:
        await engine_store.close()
    await api_store.close()


@pytest.fixture
async def client(stores, config, clock) -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(create_app(stores[0], config, clock=clock))) as test_client:
        yield test_client


@pytest.fixture
async def engine(stores, clock) -> AsyncIterator[ReminderEngine]:
    engine = ReminderEngine(stores[1], ByChannel({}, {"mail": "mail is not set up"}), clock=clock)
    yield engine
    await engine.stop()


async def token(store: Store, guild_id: int) -> dict[str, str]:
    _token, text = await store.tokens.create(guild_id, "tests", "read")
    return {"Authorization": f"Bearer {text}"}


async def notify(store: Store, engine: ReminderEngine, clock: Clock, n: int, channels=("broadcast",)) -> Event:
    """Event `n`'s 15-minute reminder, made due and dispatched by the engine."""
    calendar = await store.calendars.get_or_create(GUILD, "General")
    starts = START + timedelta(hours=n)
    event = await store.events.create(
        Event(guild_id=GUILD, calendar_id=calendar.id, name=f"Raid {n}", starts=starts,
              notifications_interval=("pt15m",), notifications_channels=channels)
    )  # fmt: skip
    await engine.schedule(event)
    clock.at(starts - timedelta(minutes=15))
    await engine.dispatch()
    return event


class Stream:
    """An open SSE response, read event by event."""

    def __init__(self, response) -> None:
        self.response = response

    async def next(self, within: float = 5.0) -> dict[str, str]:
        fields: dict[str, str] = {}
        async with asyncio.timeout(within):
            while True:
                line = (await self.response.content.readline()).decode()
                if line in ("\n", "") and fields.get("data") is not None:
                    return fields
                if line.startswith(":") or line in ("\n", ""):
                    continue
                name, _, value = line.rstrip("\n").partition(": ")
                fields[name] = value

    async def nothing_within(self, seconds: float) -> None:
        with pytest.raises(TimeoutError):
            await self.next(seconds)


async def open_stream(client: TestClient, headers: dict[str, str]) -> Stream:
    response = await client.get("/v2/notifications/stream", headers=headers)
    assert response.status == 200 and response.headers["Content-Type"].startswith("text/event-stream")
    return Stream(response)


async def test_the_stream_gets_a_notification_live_and_a_reconnect_only_the_missed_ones(stores, client, engine, clock):
    api_store, engine_store = stores
    headers = await token(api_store, GUILD)
    stream = await open_stream(client, headers)
    first = await notify(engine_store, engine, clock, 1)
    got = await stream.next()
    assert got["id"] == "1" and got["event"] == "notification"
    body = json.loads(got["data"])
    assert body["type"] == "event.reminder" and body["data"]["event"]["id"] == first.id
    assert body["delivery_key"] == f"{first.id}:{int(first.starts.timestamp())}:pt15m:broadcast:0"
    stream.response.close()
    # While the client is away, two more; it comes back with the last id it saw.
    second, third = [await notify(engine_store, engine, clock, n) for n in (2, 3)]
    again = await open_stream(client, {**headers, "Last-Event-ID": got["id"]})
    missed = [await again.next(), await again.next()]
    assert [m["id"] for m in missed] == ["2", "3"]
    assert [json.loads(m["data"])["data"]["event"]["id"] for m in missed] == [second.id, third.id]
    await again.nothing_within(1.5)  # nothing doubled
    fourth = await notify(engine_store, engine, clock, 4)  # and live again
    live = await again.next()
    assert live["id"] == "4" and json.loads(live["data"])["data"]["event"]["id"] == fourth.id
    again.response.close()


async def test_another_guilds_token_sees_nothing(stores, client, engine, clock):
    api_store, engine_store = stores
    elsewhere = await open_stream(client, await token(api_store, OTHER_GUILD))
    await notify(engine_store, engine, clock, 1)
    await elsewhere.nothing_within(1.5)
    replayed = await open_stream(client, {**await token(api_store, OTHER_GUILD), "Last-Event-ID": "0"})
    await replayed.nothing_within(1.5)
    response = await client.get("/v2/notifications", headers=await token(api_store, OTHER_GUILD))
    assert (await response.json())["data"] == []
    elsewhere.response.close()
    replayed.response.close()


async def test_a_stream_needs_a_token_and_a_sane_last_event_id(stores, client):
    assert (await client.get("/v2/notifications/stream")).status == 401
    headers = {**await token(stores[0], GUILD), "Last-Event-ID": "yesterday"}
    response = await client.get("/v1/notifications/stream", headers=headers)
    assert response.status == 422 and "Last-Event-ID" in (await response.json())["errors"]


async def test_the_log_lists_deliveries_newest_first_filtered_and_paged_without_addresses(
    stores, client, engine, clock
):
    api_store, engine_store = stores
    await engine_store.contacts.request(ALICE, "mail", "alice@example.org", "123456")
    await engine_store.contacts.confirm(ALICE, "mail", "123456")
    calendar = await engine_store.calendars.get_or_create(GUILD, "General")
    event = await engine_store.events.create(
        Event(guild_id=GUILD, calendar_id=calendar.id, name="Raid", starts=START,
              notifications_interval=("pt15m", "p1d"), notifications_channels=("database", "mail"))
    )  # fmt: skip
    await engine_store.attendees.respond(GUILD, event.id, 0, ALICE, GOING, None)
    clock.at(START - timedelta(days=2))
    await engine.schedule(event)
    clock.at(START - timedelta(minutes=15))
    await engine.dispatch()  # the day-before one late (nothing sent it then), the 15 minutes' on time
    headers = await token(api_store, GUILD)
    for version in ("v1", "v2"):
        response = await client.get(f"/{version}/notifications", headers=headers)
        assert response.status == 200
    page = await response.json()
    text = json.dumps(page)
    assert "alice@example.org" not in text and "example.org" not in text
    rows = page["data"]
    assert [r["updated_at"] for r in rows] == sorted((r["updated_at"] for r in rows), reverse=True)
    statuses = {(r["interval"], r["channel"], r["recipient"] and r["recipient"]["type"]): r["status"] for r in rows}
    assert statuses[("pt15m", "database", None)] == "sent"
    assert statuses[("pt15m", "mail", "member")] == "failed"  # mail is not set up on this calbot
    assert statuses[("p1d", "database", None)] == "sent"
    assert [r["late"] for r in rows if r["interval"] == "p1d" and r["channel"] == "database"] == [True]
    failed = next(r for r in rows if r["status"] == "failed")
    assert failed["reason"] == "mail is not set up" and failed["recipient"] == {"type": "member", "id": str(ALICE)}
    assert failed["key"] == f"{event.id}:{int(START.timestamp())}:pt15m:mail:{ALICE}"
    assert failed["event_id"] == event.id and failed["occurrence_start"] == "2026-06-01T18:00:00Z"
    only = await (await client.get("/v2/notifications?status=failed", headers=headers)).json()
    assert [r["status"] for r in only["data"]] == ["failed", "failed"]  # the day's and the 15 minutes' mail
    by_channel = await (await client.get("/v2/notifications?channel=database", headers=headers)).json()
    assert {r["channel"] for r in by_channel["data"]} == {"database"} and by_channel["meta"]["total"] == 2
    paged = await (await client.get("/v2/notifications?limit=1&page=2", headers=headers)).json()
    assert len(paged["data"]) == 1 and paged["data"][0] == rows[1] and paged["meta"]["total"] == len(rows)
    bad = await client.get("/v2/notifications?status=lost&channel=pigeon", headers=headers)
    assert bad.status == 422 and set((await bad.json())["errors"]) == {"status", "channel"}


async def test_a_quiet_stream_gets_keep_alive_comments_and_ends_when_its_token_is_revoked(stores, client, monkeypatch):
    monkeypatch.setattr(notifications, "KEEP_ALIVE", 0.3)
    created, text = await stores[0].tokens.create(GUILD, "tests", "read")
    response = await client.get("/v2/notifications/stream", headers={"Authorization": f"Bearer {text}"})
    async with asyncio.timeout(5):
        assert await response.content.readline() == b"retry: 3000\n"
        lines = [await response.content.readline() for _ in range(3)]
    assert lines == [b"\n", b": keep-alive\n", b"\n"]
    await stores[0].tokens.revoke(created.id, GUILD)
    async with asyncio.timeout(5):
        rest = await response.content.read()  # the stream ends
    assert b"data:" not in rest
