"""Members' contacts and guilds' webhooks on both backends, and the fan-out of the mail, sms and broadcast
channels in the outbox: one row per recipient, once, claimable by any shard; and the notification stream a
broadcast feeds."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.contacts import code_hash
from bot.domain.errors import InvalidField, NotFound
from bot.domain.models import Event
from bot.domain.reminders import PlannedReminder
from bot.domain.shards import Shards
from bot.storage import Store, open_store
from bot.storage.stream import STREAM_RETENTION
from tests.clock import Clock

from .raw import raw

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
GUILD, OTHER = 1 << 22, 2 << 22  # shards 1 and 0 of 2
ALICE, BOB = 11, 12


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
async def store(store_url: str, clock: Clock) -> AsyncIterator[Store]:
    opened = await open_store(store_url, clock=clock)
    yield opened
    await opened.close()


async def test_an_address_receives_nothing_until_its_code_is_typed(store, store_url, clock):
    waiting = await store.contacts.request(ALICE, "mail", "alice@example.org", "123456")
    assert not waiting.confirmed and waiting.masked == "a…@example.org"
    assert await store.contacts.confirmed("mail", [ALICE, BOB]) == {}
    [row] = await raw(store_url, "SELECT code_hash FROM contacts")
    assert row[0] == code_hash(ALICE, "mail", "123456")  # the code itself is not stored
    with pytest.raises(InvalidField, match="not the code we sent; 4 tries left"):
        await store.contacts.confirm(ALICE, "mail", "654321")
    clock.now += timedelta(minutes=1)
    confirmed = await store.contacts.confirm(ALICE, "mail", " 123456 ")
    assert confirmed.confirmed_at == clock.now
    assert await store.contacts.confirmed("mail", [ALICE, BOB]) == {ALICE: "alice@example.org"}
    assert await store.contacts.confirmed("sms", [ALICE]) == {}  # per kind
    assert await store.contacts.confirm(ALICE, "mail", "anything") == confirmed  # done already


async def test_codes_expire_run_out_of_tries_and_cannot_be_asked_for_in_a_burst(store, clock):
    await store.contacts.request(ALICE, "sms", "+4915123456789", "111111")
    with pytest.raises(InvalidField, match="wait a minute"):
        await store.contacts.request(ALICE, "sms", "+4915123456789", "222222")
    clock.now += timedelta(minutes=16)
    with pytest.raises(InvalidField, match="expired"):
        await store.contacts.confirm(ALICE, "sms", "111111")
    await store.contacts.request(ALICE, "sms", "+4915123456789", "333333")
    for _ in range(5):
        with pytest.raises(InvalidField, match="not the code"):
            await store.contacts.confirm(ALICE, "sms", "000000")
    with pytest.raises(InvalidField, match="too many wrong codes"):
        await store.contacts.confirm(ALICE, "sms", "333333")  # even the right one, now
    with pytest.raises(InvalidField, match="no address waiting"):
        await store.contacts.confirm(BOB, "sms", "333333")


async def test_a_new_address_must_be_confirmed_again_and_clear_forgets(store, clock):
    await store.contacts.request(ALICE, "mail", "alice@example.org", "123456")
    await store.contacts.confirm(ALICE, "mail", "123456")
    clock.now += timedelta(minutes=2)
    await store.contacts.request(ALICE, "mail", "alice@new.example", "654321")
    assert await store.contacts.confirmed("mail", [ALICE]) == {}
    assert await store.contacts.clear(ALICE, "mail") is True
    assert await store.contacts.get(ALICE, "mail") is None
    assert await store.contacts.clear(ALICE, "mail") is False


async def test_webhooks_are_scoped_to_their_guild_and_calendar(store):
    raids = await store.calendars.get_or_create(GUILD, "Raids")
    every = await store.webhooks.add(GUILD, "https://a.example/hook", None, created_by=ALICE)
    only_raids = await store.webhooks.add(GUILD, "https://b.example/hook", raids.id, created_by=ALICE)
    other = await store.webhooks.add(OTHER, "https://c.example/hook", None, created_by=BOB)
    assert every.secret.startswith("whsec_") and every.secret != only_raids.secret and every.enabled
    assert [h.id for h in await store.webhooks.list(GUILD)] == [every.id, only_raids.id]
    assert [h.id for h in await store.webhooks.for_calendar(GUILD, raids.id)] == [every.id, only_raids.id]
    assert [h.id for h in await store.webhooks.for_calendar(GUILD, raids.id + 1000)] == [every.id]
    with pytest.raises(NotFound):
        await store.webhooks.get(GUILD, other.id)
    with pytest.raises(NotFound):
        await store.webhooks.remove(GUILD, other.id)
    assert (await store.webhooks.remove(GUILD, every.id)).id == every.id
    assert [h.id for h in await store.webhooks.list(OTHER)] == [other.id]


async def test_a_webhook_is_disabled_at_the_threshold_and_enabled_again(store):
    hook = await store.webhooks.add(GUILD, "https://a.example/hook", None, created_by=None)
    assert await store.webhooks.failed(hook.id, "the webhook answered 500", 3) is False
    await store.webhooks.succeeded(hook.id)  # a success resets the count
    results = [await store.webhooks.failed(hook.id, "the webhook answered 500", 3) for _ in range(4)]
    assert results == [False, False, True, False]  # disabled once, by the third in a row
    disabled = await store.webhooks.get(GUILD, hook.id)
    assert (
        not disabled.enabled and disabled.disabled_reason == "failed 3 times in a row; last: the webhook answered 500"
    )
    assert await store.webhooks.for_calendar(GUILD, 1) == []
    await store.webhooks.enable(GUILD, hook.id)
    assert (await store.webhooks.get(GUILD, hook.id)).enabled


async def test_at_most_ten_webhooks_per_guild(store):
    for n in range(10):
        await store.webhooks.add(GUILD, f"https://{n}.example/hook", None, created_by=None)
    with pytest.raises(InvalidField, match="remove one first"):
        await store.webhooks.add(GUILD, "https://x.example/hook", None, created_by=None)


@pytest.mark.parametrize("channel", ["mail", "sms", "broadcast"])
async def test_each_channel_fans_out_once_per_recipient_and_any_shard_sends_it(store, channel):
    calendar = await store.calendars.get_or_create(GUILD, "General")
    starts = NOW + timedelta(minutes=15)
    event = await store.events.create(
        Event(guild_id=GUILD, calendar_id=calendar.id, name="Raid", starts=starts, notifications_channels=(channel,))
    )
    await store.reminders.schedule(GUILD, event.id, [PlannedReminder(0, starts, "pt15m", channel, NOW)])
    other_shard = Shards(2, (0,))  # the guild is on shard 1: its channel posts are not this process's
    [parent] = await store.reminders.claim(NOW, "w", timedelta(minutes=2), 10, shards=other_shard)
    assert parent.is_fan_out
    assert await store.reminders.fan_out(parent, "w", [ALICE, BOB]) == 2
    assert await store.reminders.fan_out(parent, "w", [ALICE, BOB]) == 0  # a repeat adds nobody
    rows = await store.reminders.claim(NOW, "w", timedelta(minutes=2), 10, shards=other_shard)
    assert sorted((r.channel, r.target) for r in rows) == [(channel, ALICE), (channel, BOB)]
    assert {r.key for r in rows} == {f"{event.id}:{int(starts.timestamp())}:pt15m:{channel}:{t}" for t in (ALICE, BOB)}
    [done] = [r for r in await store.reminders.for_event(GUILD, event.id) if r.target == 0]
    assert done.state == "sent" and done.last_error.startswith("sent as 2 ")


# ---- the notification stream: a broadcast's fan-out numbers its body once per guild, in the same transaction;
# read back after a number; pruning keeps each guild's latest, so the numbering goes on


async def broadcast(store: Store, clock: Clock, guild_id: int, name: str) -> str:
    """A due broadcast reminder of a new event, fanned out with its body; returns its key."""
    calendar = await store.calendars.get_or_create(guild_id, "General")
    starts = clock() + timedelta(minutes=15)
    event = await store.events.create(Event(guild_id=guild_id, calendar_id=calendar.id, name=name, starts=starts))
    await store.reminders.schedule(guild_id, event.id, [PlannedReminder(0, starts, "pt15m", "broadcast", clock())])
    [parent] = await store.reminders.claim(clock(), "w", timedelta(minutes=1), 10)
    await store.reminders.fan_out(parent, "w", [], broadcast={"name": name})
    # The same notification again (a crash after the commit, a second process): numbered once only.
    await store.reminders.fan_out(parent, "w", [], broadcast={"name": name})
    return parent.key


async def test_each_guild_numbers_its_notifications_once_from_one(store, clock):
    first = await broadcast(store, clock, GUILD, "One")
    await broadcast(store, clock, OTHER, "Elsewhere")
    second = await broadcast(store, clock, GUILD, "Two")
    entries = await store.stream.since(GUILD, 0)
    assert [(e.seq, e.key, e.payload) for e in entries] == [(1, first, {"name": "One"}), (2, second, {"name": "Two"})]
    assert [e.seq for e in await store.stream.since(GUILD, 1)] == [2]
    assert [e.payload for e in await store.stream.since(OTHER, 0)] == [{"name": "Elsewhere"}]
    assert (await store.stream.latest(GUILD), await store.stream.latest(OTHER), await store.stream.latest(99)) == (
        2, 1, 0
    )  # fmt: skip


async def test_pruning_keeps_the_retention_and_each_guilds_latest(store, clock):
    await broadcast(store, clock, GUILD, "Old")
    await broadcast(store, clock, GUILD, "Older latest")
    await broadcast(store, clock, OTHER, "Alone")
    clock.now += STREAM_RETENTION + timedelta(minutes=1)
    await broadcast(store, clock, OTHER, "Recent")
    assert await store.stream.prune(clock() - STREAM_RETENTION) == 2  # GUILD's first, OTHER's first
    assert [e.payload["name"] for e in await store.stream.since(GUILD, 0)] == ["Older latest"]
    assert [e.payload["name"] for e in await store.stream.since(OTHER, 0)] == ["Recent"]
    assert [e.seq for e in await store.stream.since(GUILD, 0)] == [2]
    assert (await broadcast(store, clock, GUILD, "Next")) and await store.stream.latest(GUILD) == 3
