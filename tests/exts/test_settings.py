"""/settings: what members see, and how the settings change the other commands."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.domain.errors import InvalidField
from bot.exts.common import NotManager


def fields(embed) -> dict[str, str]:
    return {f.name: f.value for f in embed.fields}


async def test_show_starts_from_the_configured_defaults(world):
    res = await world.alice.slash(world.general, "settings show")
    shown = fields(res.response.embeds[0])
    assert shown["Time zone"] == "UTC"
    assert shown["Manager role"].startswith("none")
    assert shown["Default channel"].startswith("none")
    assert shown["Default reminders"] == "15 minutes before"
    assert shown["Default reminder channels"] == "in the event's channel"


async def test_timezone_is_validated_and_autocompleted(world):
    choices = await world.admin.autocomplete(world.general, "settings timezone", "timezone", "berl")
    assert choices[0] == {"name": "Europe/Berlin", "value": "Europe/Berlin"}

    res = await world.admin.slash(world.general, "settings timezone", timezone="europe/berlin")
    assert "read in **Europe/Berlin**" in res.response.content
    assert fields(res.response.embeds[0])["Time zone"] == "Europe/Berlin"

    bad = await world.admin.slash(world.general, "settings timezone", timezone="Mars/Olympus")
    world.refused(bad, InvalidField, "unknown time zone 'Mars/Olympus'")
    shown = await world.alice.slash(world.general, "settings show")
    assert fields(shown.response.embeds[0])["Time zone"] == "Europe/Berlin"


async def test_manager_role_can_be_set_and_cleared(world):
    role = world.guild.create_role("Planners")
    res = await world.admin.slash(world.general, "settings manager-role", role=role)
    assert fields(res.response.embeds[0])["Manager role"] == f"<@&{role.id}>"
    cleared = await world.admin.slash(world.general, "settings manager-role")
    assert "cleared" in cleared.response.content

    planner = world.guild.add_member(world.env.create_user("planner"), roles=[role])
    denied = await planner.slash(world.general, "calendar create", name="Nope")
    world.refused(denied, NotManager, "Manage Server")


async def test_the_refusal_names_the_manager_role(world):
    role = world.guild.create_role("Planners")
    await world.admin.slash(world.general, "settings manager-role", role=role)
    res = await world.alice.slash(world.general, "settings channel", channel=world.events)
    world.refused(res, NotManager, f"or the <@&{role.id}> role")


async def test_default_reminders_apply_to_new_events(world):
    res = await world.admin.slash(world.general, "settings reminders", intervals="1 week, 1 day", channels="private")
    shown = fields(res.response.embeds[0])
    assert shown["Default reminders"] == "1 day before, 1 week before"
    assert shown["Default reminder channels"] == "by DM to those going"
    await world.admin.slash(world.general, "event create", name="Raid", start="tomorrow 18:00")
    event = await world.alice.slash(world.general, "event show", event="Raid")
    assert fields(event.response.embeds[0])["Reminders"] == "1 day before, 1 week before · by DM to those going"


async def test_reminders_none_turns_them_off_and_bad_codes_are_refused(world):
    res = await world.admin.slash(world.general, "settings reminders", intervals="none")
    assert fields(res.response.embeds[0])["Default reminders"] == "none"
    bad = await world.admin.slash(world.general, "settings reminders", intervals="p1m")
    world.refused(bad, InvalidField, "`reminders`: unknown interval 'p1m'")
    nothing = await world.admin.slash(world.general, "settings reminders")
    assert "Nothing to change" in nothing.response.content


async def test_members_cannot_change_settings(world):
    res = await world.alice.slash(world.general, "settings timezone", timezone="Europe/Berlin")
    world.refused(res, NotManager, "Manage Server")


async def test_the_manager_role_cannot_hand_itself_on(world):
    role = world.guild.create_role("Planners")
    planner = world.guild.add_member(world.env.create_user("planner"), roles=[role])
    await world.admin.slash(world.general, "settings manager-role", role=role)
    res = await planner.slash(world.general, "settings manager-role", role=world.guild.default_role)
    world.refused(res, NotManager, "Manage Server")
    everyone = await world.admin.slash(world.general, "settings manager-role", role=world.guild.default_role)
    world.refused(everyone, InvalidField, "@everyone cannot be the manager role")
    shown = await world.alice.slash(world.general, "settings show")
    assert fields(shown.response.embeds[0])["Manager role"] == f"<@&{role.id}>"


async def test_numeric_dates_follow_the_servers_date_order(world):
    res = await world.admin.slash(world.general, "event create", name="Ambiguous", start="03/04 18:00")
    assert "read as `2026-04-03 18:00 UTC`" in res.response.content  # day first by default
    changed = await world.admin.slash(world.general, "settings date-order", order="MDY")
    assert fields(changed.response.embeds[0])["Date order"] == "MDY"
    res = await world.admin.slash(world.general, "event create", name="American", start="03/04 18:00")
    assert "read as `2026-03-04 18:00 UTC`" in res.response.content


async def test_all_day_time_is_validated(world):
    res = await world.admin.slash(world.general, "settings all-day-time", time="8am")
    assert "count from **08:00**" in res.response.content
    bad = await world.admin.slash(world.general, "settings all-day-time", time="breakfast")
    world.refused(bad, InvalidField, "`all_day_time`: 'breakfast' is not a time of day")


async def test_a_members_own_zone_reads_what_they_type(world):
    choices = await world.admin.autocomplete(world.general, "me timezone", "timezone", "muni")
    assert choices[0] == {"name": "Munich (Europe/Berlin)", "value": "Europe/Berlin"}
    set_zone = await world.admin.slash(world.general, "me timezone", timezone="Munich")
    assert "read in **Europe/Berlin**" in set_zone.response.content
    shown = await world.admin.slash(world.general, "me show")
    assert "**Europe/Berlin**" in shown.response.content

    res = await world.admin.slash(world.general, "event create", name="Raid", start="tomorrow 18:00")
    instant = int(datetime(2026, 1, 2, 17, 0, tzinfo=UTC).timestamp())  # 18:00 in Berlin
    assert f"<t:{instant}:F>" in res.response.content

    others = await world.alice.slash(world.general, "me show")
    assert "server's time zone, **UTC**" in others.response.content
    await world.admin.slash(world.general, "me timezone")  # cleared
    res = await world.admin.slash(world.general, "event create", name="Raid 2", start="tomorrow 18:00")
    assert "read as `2026-01-02 18:00 UTC`" in res.response.content


async def test_a_date_alone_is_that_date_where_the_event_is(world):
    await world.admin.slash(world.general, "settings timezone", timezone="Europe/Berlin")
    await world.admin.slash(world.general, "me timezone", timezone="Asia/Tokyo")
    res = await world.admin.slash(world.general, "event create", name="Xmas", start="2026-12-24", all_day=True)
    assert "Thu 24 Dec 2026 (all day) in Europe/Berlin" in res.response.content


def pending(reminders) -> list[tuple[datetime, str]]:
    return [(r.due, r.interval) for r in reminders if r.state == "pending"]


async def test_a_new_all_day_time_moves_the_reminders_of_existing_all_day_events(world):
    await world.admin.slash(world.general, "settings timezone", timezone="Europe/Berlin")
    made = await world.admin.slash(
        world.general, "event create", name="Holiday", start="2026-01-02", all_day=True, reminders="p1d"
    )
    assert "Created" in made.response.content, made.response.content
    await world.admin.slash(
        world.general, "event create", name="Market", start="2026-01-07", all_day=True, reminders="p1d",
        repeat="weekly", count=3,
    )  # fmt: skip
    await world.admin.slash(world.general, "event create", name="Raid", start="2026-01-10 20:00", reminders="p1d")
    store = world.bot.store
    events = {e.name: e for e in (await store.events.page(world.guild.id, limit=None))[0]}
    holiday, market, raid = events["Holiday"], events["Market"], events["Raid"]
    # 09:00 in Berlin (08:00 UTC) the day before, by default
    assert pending(await store.reminders.for_event(world.guild.id, holiday.id)) == [
        (datetime(2026, 1, 1, 8, 0, tzinfo=UTC), "p1d")
    ]
    raid_before = pending(await store.reminders.for_event(world.guild.id, raid.id))

    res = await world.admin.slash(world.general, "settings all-day-time", time="18:00")
    assert "count from **18:00**" in res.response.content
    assert "The reminders of 2 all-day events were planned again." in res.response.content

    # 18:00 in Berlin (17:00 UTC) the day before; the 09:00 one is cancelled, not sent
    holiday_now = await store.reminders.for_event(world.guild.id, holiday.id)
    assert pending(holiday_now) == [(datetime(2026, 1, 1, 17, 0, tzinfo=UTC), "p1d")]
    assert [r.due for r in holiday_now if r.state == "cancelled"] == [datetime(2026, 1, 1, 8, 0, tzinfo=UTC)]
    assert pending(await store.reminders.for_event(world.guild.id, market.id)) == [
        (datetime(2026, 1, day, 17, 0, tzinfo=UTC), "p1d") for day in (6, 13, 20)
    ]
    assert pending(await store.reminders.for_event(world.guild.id, raid.id)) == raid_before  # not all-day

    # and it goes out then: not at 09:00, once at 18:00
    await world.env.advance_time(int((datetime(2026, 1, 1, 16, 59, tzinfo=UTC) - world.env.now()).total_seconds()))
    assert not [m for m in world.general.history() if "Holiday" in m.content and m.content.startswith("⏰")]
    await world.env.advance_time(120)
    sent = [r for r in await store.reminders.for_event(world.guild.id, holiday.id) if r.state == "sent"]
    assert [r.due for r in sent] == [datetime(2026, 1, 1, 17, 0, tzinfo=UTC)]
