"""API tokens and feed secrets in the SQLite store: hashed at rest, scoped by guild, revocable."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.errors import InvalidField, NotFound
from bot.domain.models import Calendar
from bot.storage import Store, open_store
from bot.storage.tokens import parse_token
from tests.clock import Clock

from .raw import raw

GUILD, OTHER = 101, 202
NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
async def store(store_url: str, clock: Clock) -> AsyncIterator[Store]:
    opened = await open_store(store_url, clock=clock)
    yield opened
    await opened.close()


async def test_a_created_token_verifies_and_only_its_hash_is_stored(store, store_url):
    token, text = await store.tokens.create(GUILD, "  CI   deploys ", "read", created_by=7)
    assert text.startswith(f"cbt_{token.id}_") and len(text) > 40
    assert (token.guild_id, token.name, token.scope, token.created_by) == (GUILD, "CI deploys", "read", 7)
    assert token.created_at == NOW and token.last_used_at is None and token.active
    assert await store.tokens.verify(text) == token
    assert await store.tokens.verify(f"  {text}\n") == token
    secret = parse_token(text)[1]
    rows = await raw(store_url, "SELECT * FROM api_tokens")
    assert rows and all(secret not in str(value) for row in rows for value in row)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # wrong secret
        lambda t: t.replace("cbt_1_", "cbt_2_"),  # another id
        lambda t: t.removeprefix("cbt_"),
        lambda t: "cbt_x_" + t.split("_", 2)[2],
        lambda t: "cbt_99999999999999999999_abc",
        lambda t: "",
        lambda t: "Bearer",
    ],
)
async def test_anything_but_the_exact_token_is_refused(store, mangle):
    _token, text = await store.tokens.create(GUILD)
    await store.tokens.create(GUILD)  # token 2 exists: a right secret with the wrong id must still fail
    assert await store.tokens.verify(mangle(text)) is None


async def test_revoking_stops_the_token_and_is_kept_for_the_record(store, clock):
    token, text = await store.tokens.create(GUILD, "old")
    clock.now = NOW + timedelta(hours=1)
    revoked = await store.tokens.revoke(token.id, GUILD)
    assert revoked.revoked_at == NOW + timedelta(hours=1) and not revoked.active
    assert await store.tokens.verify(text) is None
    assert await store.tokens.list(GUILD) == []
    assert [t.id for t in await store.tokens.list(GUILD, include_revoked=True)] == [token.id]
    clock.now = NOW + timedelta(hours=2)
    assert (await store.tokens.revoke(token.id)).revoked_at == NOW + timedelta(hours=1)  # again: unchanged


async def test_a_guild_cannot_revoke_or_list_another_guilds_tokens(store):
    token, text = await store.tokens.create(GUILD)
    with pytest.raises(NotFound):
        await store.tokens.revoke(token.id, OTHER)
    with pytest.raises(NotFound):
        await store.tokens.revoke(2**70)
    assert await store.tokens.list(OTHER) == []
    assert await store.tokens.verify(text) is not None


async def test_touch_records_the_last_use(store, clock):
    token, _text = await store.tokens.create(GUILD)
    clock.now = NOW + timedelta(minutes=5)
    await store.tokens.touch(token.id)
    [listed] = await store.tokens.list(GUILD)
    assert listed.last_used_at == NOW + timedelta(minutes=5)


@pytest.mark.parametrize(("name", "scope", "field"), [("x", "admin", "scope"), ("x" * 101, "read", "name")])
async def test_bad_scopes_and_names_are_refused(store, name, scope, field):
    with pytest.raises(InvalidField) as refused:
        await store.tokens.create(GUILD, name, scope)
    assert refused.value.field == field


async def test_data_version_moves_with_our_writes_and_with_other_connections(store, store_url):
    first = await store.tokens.data_version()
    assert await store.tokens.data_version() == first
    await store.calendars.create(Calendar(guild_id=GUILD, name="Raids"))
    second = await store.tokens.data_version()
    assert second != first
    await raw(store_url, "UPDATE calendars SET description = 'changed elsewhere'")  # another process's writer
    third = await store.tokens.data_version()
    assert third != second
    assert await store.tokens.data_version() == third


async def test_a_feed_secret_is_made_once_kept_and_replaced_on_reset(store):
    calendar = await store.calendars.create(Calendar(guild_id=GUILD, name="Raids"))
    secret = await store.calendars.feed_secret(GUILD, calendar.id)
    assert len(secret) >= 40
    assert await store.calendars.feed_secret(GUILD, calendar.id) == secret
    assert await store.calendars.by_feed_secret(secret) == calendar
    fresh = await store.calendars.feed_secret(GUILD, calendar.id, reset=True)
    assert fresh != secret
    assert await store.calendars.by_feed_secret(fresh) == calendar
    with pytest.raises(NotFound):
        await store.calendars.by_feed_secret(secret)
    with pytest.raises(NotFound):
        await store.calendars.feed_secret(OTHER, calendar.id)  # another guild's calendar
