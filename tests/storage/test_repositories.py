"""The repositories, on both backends: a real SQLite file in a temp dir, and a PostgreSQL schema."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.colors import Color
from bot.domain.errors import Conflict, InvalidField, NotFound
from bot.domain.models import Calendar, Event, GuildSettings
from bot.domain.recurrence import parse_rrule
from bot.storage import Store, open_store
from tests.clock import Clock

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
async def store(store_url: str, clock: Clock) -> AsyncIterator[Store]:
    opened = await open_store(store_url, clock=clock)
    yield opened
    await opened.close()


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


SOON = NOW + timedelta(hours=2)


def event(calendar: Calendar, name: str = "Game night", starts: datetime = SOON, **changes) -> Event:
    return Event(guild_id=calendar.guild_id, calendar_id=calendar.id, name=name, starts=starts, **changes)


def names(events: list[Event]) -> list[str]:
    return [e.name for e in events]


async def test_foreign_keys_are_enforced(store: Store) -> None:
    with pytest.raises(NotFound) as caught:
        await store.events.create(Event(guild_id=1, calendar_id=999, name="Orphan", starts=NOW))
    assert caught.value.kind == "calendar"
    assert await store.events.upcoming(1, NOW - hours(1)) == ([], 0)


# ---- calendars


async def test_a_calendar_round_trips(store: Store) -> None:
    created = await store.calendars.create(
        Calendar(guild_id=1, name="  Raid   nights ", description="Weekly", color=Color.TANGERINE, channel_id=42)
    )
    assert created.id is not None
    assert (created.name, created.description, created.color, created.channel_id) == (
        "Raid nights",
        "Weekly",
        Color.TANGERINE,
        42,
    )
    assert created.created_at == created.updated_at == NOW
    assert await store.calendars.get(1, created.id) == created
    assert await store.calendars.list(1) == [created]


async def test_invalid_calendars_are_not_stored(store: Store) -> None:
    with pytest.raises(InvalidField):
        await store.calendars.create(Calendar(guild_id=1, name="   "))
    assert await store.calendars.list(1) == []


@pytest.mark.parametrize("second", ["General", "general", "GENERAL", "  general "])
async def test_calendar_names_are_unique_per_guild_in_any_case(store: Store, second: str) -> None:
    await store.calendars.create(Calendar(guild_id=1, name="General"))
    with pytest.raises(Conflict) as caught:
        await store.calendars.create(Calendar(guild_id=1, name=second))
    assert caught.value.field == "name"
    assert len(await store.calendars.list(1)) == 1
    assert (await store.calendars.create(Calendar(guild_id=2, name=second))).guild_id == 2  # another guild may


async def test_calendars_are_found_by_name_in_any_case_or_by_id(store: Store) -> None:
    general = await store.calendars.create(Calendar(guild_id=1, name="General"))
    raids = await store.calendars.create(Calendar(guild_id=1, name="Raids"))
    assert await store.calendars.find(1, "general") == general
    assert await store.calendars.find(1, " RAIDS ") == raids
    assert await store.calendars.find(1, str(raids.id)) == raids
    assert await store.calendars.find(1, f"#{raids.id}") == raids
    for missing in ("Gen", "nope", "#999", "999", "#" + "9" * 25, "²"):
        with pytest.raises(NotFound):
            await store.calendars.find(1, missing)


async def test_a_calendar_named_like_a_number_wins_over_the_id(store: Store) -> None:
    first = await store.calendars.create(Calendar(guild_id=1, name="First"))
    named_1 = await store.calendars.create(Calendar(guild_id=1, name=str(first.id)))
    assert await store.calendars.find(1, str(first.id)) == named_1


async def test_calendars_are_listed_by_name_ignoring_case(store: Store) -> None:
    for name in ("beta", "Alpha", "gamma", "Delta"):
        await store.calendars.create(Calendar(guild_id=1, name=name))
    assert [c.name for c in await store.calendars.list(1)] == ["Alpha", "beta", "Delta", "gamma"]


async def test_a_calendar_update_is_stored(store: Store, clock: Clock) -> None:
    created = await store.calendars.create(Calendar(guild_id=1, name="General"))
    clock.now = NOW + hours(1)
    changed = dataclasses.replace(created, name="Main", description="All", color=Color.RED, channel_id=7)
    updated = await store.calendars.update(changed)
    assert (updated.name, updated.description, updated.color, updated.channel_id) == ("Main", "All", Color.RED, 7)
    assert (updated.created_at, updated.updated_at) == (NOW, NOW + hours(1))
    assert await store.calendars.get(1, created.id) == updated


async def test_renaming_a_calendar_onto_another_name_is_a_conflict(store: Store) -> None:
    await store.calendars.create(Calendar(guild_id=1, name="General"))
    raids = await store.calendars.create(Calendar(guild_id=1, name="Raids"))
    with pytest.raises(Conflict):
        await store.calendars.update(dataclasses.replace(raids, name="GENERAL"))
    assert (await store.calendars.get(1, raids.id)).name == "Raids"
    renamed = await store.calendars.update(dataclasses.replace(raids, name="RAIDS"))  # its own name, new case
    assert renamed.name == "RAIDS"


async def test_get_or_create_returns_the_existing_calendar(store: Store) -> None:
    created = await store.calendars.get_or_create(1, "General")
    assert await store.calendars.get_or_create(1, "general") == created
    assert len(await store.calendars.list(1)) == 1


async def test_deleting_a_calendar_deletes_and_returns_its_events(store: Store) -> None:
    general = await store.calendars.create(Calendar(guild_id=1, name="General"))
    raids = await store.calendars.create(Calendar(guild_id=1, name="Raids"))
    a = await store.events.create(event(general, "A"))
    b = await store.events.create(event(general, "B", starts=NOW + hours(5)))
    kept = await store.events.create(event(raids, "Kept"))
    assert await store.calendars.count_events(1, general.id) == 2

    deleted = await store.calendars.delete(1, general.id)

    assert sorted(deleted, key=lambda e: e.id) == [a, b]
    with pytest.raises(NotFound):
        await store.calendars.get(1, general.id)
    for gone in (a, b):
        with pytest.raises(NotFound):
            await store.events.get(1, gone.id)
    assert await store.events.get(1, kept.id) == kept
    assert await store.calendars.count_events(1, general.id) == 0
    with pytest.raises(NotFound):
        await store.calendars.delete(1, general.id)


# ---- events


async def test_an_event_round_trips_every_field(store: Store, clock: Clock) -> None:
    calendar = await store.calendars.create(Calendar(guild_id=1, name="General"))
    draft = Event(
        guild_id=1,
        calendar_id=calendar.id,
        name="Raid night",
        starts=datetime(2026, 12, 24, 19, 0, tzinfo=UTC),
        ends=datetime(2026, 12, 24, 22, 30, tzinfo=UTC),
        timezone="Europe/Berlin",
        description="Bring potions",
        content="Long **markdown** content",
        location="Voice: Raid 1",
        url="https://example.com/raid",
        author_id=1234567890123456789,
        all_day=False,
        repeats=True,
        recurrence=parse_rrule("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH;UNTIL=20301231T235959Z"),
        registration_enabled=False,
        registration_deadline=datetime(2026, 12, 24, 18, 0, tzinfo=UTC),
        notifications_enabled=False,
        notifications_interval=("pt0m", "pt1h", "p1w"),
        notifications_channels=("discord_private", "discord_public", "mail"),
        color=Color.MAC_AND_CHEESE,
        image="https://example.com/banner.png",
        card_channel_id=111111111111111111,
        card_message_id=222222222222222222,
    )
    created = await store.events.create(draft)
    assert created.id is not None
    assert created == dataclasses.replace(draft, id=created.id, created_at=NOW, updated_at=NOW)
    assert created.starts.tzinfo is UTC and created.ends.tzinfo is UTC and created.registration_deadline.tzinfo is UTC
    assert await store.events.get(1, created.id) == created


async def test_an_event_without_optional_fields_round_trips(store: Store) -> None:
    calendar = await store.calendars.create(Calendar(guild_id=1, name="General"))
    created = await store.events.create(event(calendar, ends=None, url="", notifications_interval=()))
    fetched = await store.events.get(1, created.id)
    assert (fetched.ends, fetched.url, fetched.image, fetched.registration_deadline) == (None, None, None, None)
    assert fetched.notifications_interval == ()
    assert fetched.color is Color.NONE


async def test_instants_are_stored_as_the_same_instant(store: Store) -> None:
    calendar = await store.calendars.create(Calendar(guild_id=1, name="General"))
    berlin_evening = datetime.fromisoformat("2026-12-24T20:00:00+01:00")
    created = await store.events.create(event(calendar, starts=berlin_evening))
    assert (await store.events.get(1, created.id)).starts == datetime(2026, 12, 24, 19, 0, tzinfo=UTC)


async def test_an_event_update_is_stored(store: Store, clock: Clock) -> None:
    general = await store.calendars.create(Calendar(guild_id=1, name="General"))
    raids = await store.calendars.create(Calendar(guild_id=1, name="Raids"))
    created = await store.events.create(event(general, ends=NOW + hours(3)))
    clock.now = NOW + hours(1)
    changed = dataclasses.replace(
        created,
        calendar_id=raids.id,
        name="Moved",
        starts=NOW + hours(24),
        ends=NOW + hours(26),
        color=Color.GREEN,
        notifications_interval=("p1d",),
    )
    updated = await store.events.update(changed)
    assert updated == dataclasses.replace(changed, updated_at=NOW + hours(1))
    assert await store.events.get(1, created.id) == updated
    assert await store.calendars.count_events(1, raids.id) == 1


async def test_an_invalid_update_changes_nothing(store: Store) -> None:
    calendar = await store.calendars.create(Calendar(guild_id=1, name="General"))
    created = await store.events.create(event(calendar))
    with pytest.raises(InvalidField):
        await store.events.update(dataclasses.replace(created, name="", ends=created.starts - hours(1)))
    assert await store.events.get(1, created.id) == created


async def test_deleting_an_event_returns_it(store: Store) -> None:
    calendar = await store.calendars.create(Calendar(guild_id=1, name="General"))
    created = await store.events.create(event(calendar))
    assert await store.events.delete(1, created.id) == created
    with pytest.raises(NotFound):
        await store.events.get(1, created.id)
    with pytest.raises(NotFound):
        await store.events.delete(1, created.id)


async def test_the_card_is_remembered(store: Store) -> None:
    calendar = await store.calendars.create(Calendar(guild_id=1, name="General"))
    created = await store.events.create(event(calendar))
    await store.events.set_card(1, created.id, 555, 666)
    fetched = await store.events.get(1, created.id)
    assert (fetched.card_channel_id, fetched.card_message_id) == (555, 666)


async def test_an_edit_read_before_the_card_was_posted_keeps_the_card(store: Store) -> None:
    calendar = await store.calendars.create(Calendar(guild_id=1, name="General"))
    stale = await store.events.create(event(calendar))  # read by an edit while the card is being posted
    await store.events.set_card(1, stale.id, 555, 666)
    await store.events.update(dataclasses.replace(stale, name="Renamed"))
    fetched = await store.events.get(1, stale.id)
    assert fetched.name == "Renamed"
    assert (fetched.card_channel_id, fetched.card_message_id) == (555, 666)


@pytest.mark.parametrize("event_id", [2**63, 10**30, -(2**64)])
async def test_ids_no_row_can_have_are_not_found(store: Store, event_id: int) -> None:
    for lookup in (store.events.get, store.events.delete, store.calendars.get):
        with pytest.raises(NotFound):
            await lookup(1, event_id)


async def test_between_returns_events_overlapping_the_window(store: Store) -> None:
    calendar = await store.calendars.create(Calendar(guild_id=1, name="General"))
    start, end = NOW + hours(10), NOW + hours(20)
    for name, starts, ends in [
        ("inside", start + hours(1), start + hours(2)),
        ("at the start", start, None),
        ("running into it", start - hours(2), start + hours(1)),
        ("spanning it", start - hours(1), end + hours(1)),
        ("ending as it starts", start - hours(2), start),  # [a, b) touching [b, c): no overlap
        ("before", start - hours(3), start - hours(2)),
        ("point before", start - hours(1), None),
        ("at the end", end, end + hours(1)),  # starts as the window closes
        ("after", end + hours(1), None),
        ("last minute", end - timedelta(minutes=1), end + hours(5)),
    ]:
        await store.events.create(event(calendar, name, starts=starts, ends=ends))

    found, total = await store.events.between(1, start, end)

    assert names(found) == ["running into it", "spanning it", "at the start", "inside", "last minute"]
    assert total == 5


async def test_between_pages_and_filters_by_calendar(store: Store) -> None:
    general = await store.calendars.create(Calendar(guild_id=1, name="General"))
    raids = await store.calendars.create(Calendar(guild_id=1, name="Raids"))
    for i in range(5):
        await store.events.create(event(general, f"g{i}", starts=NOW + hours(i + 1)))
        await store.events.create(event(raids, f"r{i}", starts=NOW + hours(i + 1)))
    page, total = await store.events.between(1, NOW, NOW + hours(24), calendar_id=raids.id, limit=2, offset=2)
    assert (names(page), total) == (["r2", "r3"], 5)


async def test_upcoming_lists_events_not_over_yet_soonest_first(store: Store) -> None:
    calendar = await store.calendars.create(Calendar(guild_id=1, name="General"))
    for name, starts, ends in [
        ("later", NOW + hours(5), None),
        ("running", NOW - hours(1), NOW + hours(1)),
        ("over", NOW - hours(3), NOW - hours(1)),
        ("just ended", NOW - hours(1), NOW),
        ("past point", NOW - hours(1), None),
        ("starting now", NOW, None),
        ("soon", NOW + hours(1), NOW + hours(2)),
    ]:
        await store.events.create(event(calendar, name, starts=starts, ends=ends))

    found, total = await store.events.upcoming(1, NOW)

    assert names(found) == ["running", "starting now", "soon", "later"]
    assert total == 4


async def test_upcoming_pages_with_limit_offset_and_total(store: Store) -> None:
    general = await store.calendars.create(Calendar(guild_id=1, name="General"))
    raids = await store.calendars.create(Calendar(guild_id=1, name="Raids"))
    for i in range(7):
        await store.events.create(event(general, f"e{i}", starts=NOW + hours(i + 1)))
    await store.events.create(event(raids, "raid", starts=NOW + hours(3)))

    first, total = await store.events.upcoming(1, NOW, limit=3)
    second, _ = await store.events.upcoming(1, NOW, limit=3, offset=3)
    last, _ = await store.events.upcoming(1, NOW, limit=3, offset=6)
    beyond, beyond_total = await store.events.upcoming(1, NOW, limit=3, offset=30)

    assert (names(first), total) == (["e0", "e1", "e2"], 8)
    assert names(second) == ["raid", "e3", "e4"]  # e2 and raid start together: the older first
    assert names(last) == ["e5", "e6"]
    assert (beyond, beyond_total) == ([], 8)
    only_raids, raid_total = await store.events.upcoming(1, NOW, calendar_id=raids.id)
    assert (names(only_raids), raid_total) == (["raid"], 1)


async def test_search_puts_upcoming_soonest_first_then_past_most_recent_first(store: Store) -> None:
    calendar = await store.calendars.create(Calendar(guild_id=1, name="General"))
    for name, starts in [
        ("Raid far past", NOW - hours(100)),
        ("Raid next week", NOW + hours(170)),
        ("Raid yesterday", NOW - hours(24)),
        ("Raid tomorrow", NOW + hours(24)),
        ("Raid last week", NOW - hours(170)),
        ("Movie tomorrow", NOW + hours(25)),
    ]:
        await store.events.create(event(calendar, name, starts=starts))

    found = await store.events.search(1, "raid", NOW)

    assert names(found) == ["Raid tomorrow", "Raid next week", "Raid yesterday", "Raid far past", "Raid last week"]
    assert names(await store.events.search(1, "raid", NOW, limit=2)) == ["Raid tomorrow", "Raid next week"]


async def test_search_treats_percent_and_underscore_literally(store: Store) -> None:
    calendar = await store.calendars.create(Calendar(guild_id=1, name="General"))
    for name in ("100% fun", "100 fun", "snake_case meetup", "snakeXcase meetup", "back\\slash"):
        await store.events.create(event(calendar, name))
    assert names(await store.events.search(1, "100%", NOW)) == ["100% fun"]
    assert names(await store.events.search(1, "%", NOW)) == ["100% fun"]
    assert names(await store.events.search(1, "e_c", NOW)) == ["snake_case meetup"]
    assert names(await store.events.search(1, "k\\s", NOW)) == ["back\\slash"]


async def test_search_finds_an_event_by_its_id(store: Store) -> None:
    calendar = await store.calendars.create(Calendar(guild_id=1, name="General"))
    created = await store.events.create(event(calendar, "Raid"))
    assert names(await store.events.search(1, f"#{created.id}", NOW)) == ["Raid"]
    assert names(await store.events.search(1, str(created.id), NOW)) == ["Raid"]
    for nothing in ("9" * 25, "#" + "9" * 20, "²"):  # past 64 bits; a digit int() cannot read
        assert await store.events.search(1, nothing, NOW) == []


# ---- guild isolation: guild 2 can neither see nor touch guild 1's data


@pytest.fixture
async def guild_one(store: Store) -> tuple[Calendar, Event]:
    calendar = await store.calendars.create(Calendar(guild_id=1, name="General"))
    created = await store.events.create(event(calendar, "Secret raid", ends=NOW + hours(3)))
    await store.calendars.create(Calendar(guild_id=2, name="Other"))
    return calendar, created


async def test_guilds_cannot_read_each_others_calendars(store: Store, guild_one: tuple[Calendar, Event]) -> None:
    calendar, _ = guild_one
    with pytest.raises(NotFound):
        await store.calendars.get(2, calendar.id)
    for ref in ("General", "general", str(calendar.id), f"#{calendar.id}"):
        with pytest.raises(NotFound):
            await store.calendars.find(2, ref)
    assert [c.name for c in await store.calendars.list(2)] == ["Other"]
    assert await store.calendars.count_events(2, calendar.id) == 0


async def test_guilds_cannot_change_each_others_calendars(store: Store, guild_one: tuple[Calendar, Event]) -> None:
    calendar, created = guild_one
    with pytest.raises(NotFound):
        await store.calendars.update(dataclasses.replace(calendar, guild_id=2, name="Hijacked"))
    with pytest.raises(NotFound):
        await store.calendars.delete(2, calendar.id)
    assert await store.calendars.get(1, calendar.id) == calendar
    assert await store.events.get(1, created.id) == created
    # get_or_create in guild 2 makes guild 2's own calendar
    own = await store.calendars.get_or_create(2, "General")
    assert own.guild_id == 2 and own.id != calendar.id


async def test_guilds_cannot_read_each_others_events(store: Store, guild_one: tuple[Calendar, Event]) -> None:
    calendar, created = guild_one
    with pytest.raises(NotFound):
        await store.events.get(2, created.id)
    assert await store.events.between(2, NOW - hours(24), NOW + hours(24)) == ([], 0)
    assert await store.events.between(2, NOW - hours(24), NOW + hours(24), calendar_id=calendar.id) == ([], 0)
    assert await store.events.upcoming(2, NOW) == ([], 0)
    assert await store.events.upcoming(2, NOW, calendar_id=calendar.id) == ([], 0)
    assert await store.events.search(2, "secret", NOW) == []
    assert await store.events.search(2, f"#{created.id}", NOW) == []
    # guild 1 itself sees it, so the empty answers above are isolation, not a broken query
    assert names((await store.events.upcoming(1, NOW))[0]) == ["Secret raid"]
    assert names(await store.events.search(1, "secret", NOW)) == ["Secret raid"]


async def test_guilds_cannot_change_each_others_events(store: Store, guild_one: tuple[Calendar, Event]) -> None:
    calendar, created = guild_one
    assert await store.calendars.count_events(1, calendar.id) == 1
    other = await store.calendars.find(2, "Other")
    with pytest.raises(NotFound):
        await store.events.update(dataclasses.replace(created, guild_id=2, name="Hijacked"))
    with pytest.raises(NotFound):
        await store.events.update(dataclasses.replace(created, guild_id=2, calendar_id=other.id, name="Hijacked"))
    with pytest.raises(NotFound):
        await store.events.delete(2, created.id)
    await store.events.set_card(2, created.id, 9, 9)
    assert await store.events.get(1, created.id) == created


async def test_an_event_cannot_be_put_into_another_guilds_calendar(
    store: Store, guild_one: tuple[Calendar, Event]
) -> None:
    calendar, created = guild_one
    other = await store.calendars.find(2, "Other")
    with pytest.raises(NotFound) as caught:
        await store.events.create(dataclasses.replace(event(calendar, "Intruder"), guild_id=2))
    assert caught.value.kind == "calendar"
    with pytest.raises(NotFound) as caught:
        await store.events.update(dataclasses.replace(created, calendar_id=other.id))
    assert caught.value.kind == "calendar"
    assert await store.events.get(1, created.id) == created
    assert await store.calendars.count_events(2, other.id) == 0


async def test_settings_are_per_guild(store: Store) -> None:
    await store.settings.save(GuildSettings(guild_id=1, timezone="Europe/Berlin"))
    assert await store.settings.get(2) is None


# ---- settings, meta, durability, concurrency


async def test_settings_round_trip(store: Store) -> None:
    assert await store.settings.get(1) is None
    saved = await store.settings.save(
        GuildSettings(
            guild_id=1,
            timezone="europe/berlin",
            manager_role_id=77,
            default_channel_id=88,
            default_reminders=("P1D", "pt15m"),
            default_channels=("both",),
        )
    )
    expected = GuildSettings(
        guild_id=1,
        timezone="Europe/Berlin",
        manager_role_id=77,
        default_channel_id=88,
        default_reminders=("pt15m", "p1d"),
        default_channels=("discord_private", "discord_public"),
    )
    assert saved == expected
    assert await store.settings.get(1) == expected
    changed = dataclasses.replace(expected, timezone="UTC", manager_role_id=None, default_reminders=())
    await store.settings.save(changed)
    assert await store.settings.get(1) == changed


async def test_invalid_settings_are_not_saved(store: Store) -> None:
    with pytest.raises(InvalidField) as caught:
        await store.settings.save(GuildSettings(guild_id=1, timezone="Nowhere/Special"))
    assert caught.value.field == "timezone"
    assert await store.settings.get(1) is None


async def test_meta_round_trip(store: Store) -> None:
    assert await store.meta.get("commands_hash") is None
    await store.meta.set("commands_hash", "abc")
    await store.meta.set("commands_hash", "def")
    assert await store.meta.get("commands_hash") == "def"


async def test_data_survives_close_and_reopen(store_url: str) -> None:
    store = await open_store(store_url)
    calendar = await store.calendars.create(Calendar(guild_id=1, name="General"))
    created = await store.events.create(event(calendar))
    await store.settings.save(GuildSettings(guild_id=1, timezone="Asia/Tokyo"))
    await store.meta.set("k", "v")
    await store.close()

    reopened = await open_store(store_url)
    try:
        assert await reopened.calendars.get(1, calendar.id) == calendar
        assert await reopened.events.get(1, created.id) == created
        assert (await reopened.settings.get(1)).timezone == "Asia/Tokyo"
        assert await reopened.meta.get("k") == "v"
    finally:
        await reopened.close()


async def test_concurrent_reads_and_writes_do_not_interfere(store: Store) -> None:
    calendar = await store.calendars.create(Calendar(guild_id=1, name="General"))

    async def write(i: int) -> Event:
        return await store.events.create(event(calendar, f"e{i}", starts=NOW + hours(i + 1)))

    async def read(i: int) -> object:
        return await store.events.search(1, "e", NOW)

    results = await asyncio.gather(*(coroutine(i) for i in range(20) for coroutine in (write, read)))
    created = [r for r in results if isinstance(r, Event)]
    assert len({e.id for e in created}) == 20
    assert (await store.events.upcoming(1, NOW, limit=100))[1] == 20
    # a failing write in the crowd rolls back alone
    outcomes = await asyncio.gather(
        store.calendars.create(Calendar(guild_id=1, name="GENERAL")),
        write(100),
        return_exceptions=True,
    )
    assert isinstance(outcomes[0], Conflict) and isinstance(outcomes[1], Event)
    assert (await store.events.upcoming(1, NOW, limit=100))[1] == 21


async def test_settings_changes_apply_to_what_is_stored(store: Store) -> None:
    defaults = GuildSettings(guild_id=1)
    await store.settings.change(defaults, timezone="Europe/Berlin")
    stale = defaults  # a second admin's command read the settings before the first saved
    changed = await store.settings.change(stale, date_order="MDY")
    assert (changed.timezone, changed.date_order) == ("Europe/Berlin", "MDY")
    assert await store.settings.get(1) == changed
    assert await store.settings.get(2) is None


async def test_a_members_zone_is_kept_and_cleared(store: Store) -> None:
    from bot.domain.models import UserSettings

    assert await store.users.get(7) is None
    await store.users.save(UserSettings(user_id=7, timezone="asia/tokyo"))
    assert await store.users.get(7) == UserSettings(user_id=7, timezone="Asia/Tokyo")
    await store.users.clear(7)
    assert await store.users.get(7) is None
