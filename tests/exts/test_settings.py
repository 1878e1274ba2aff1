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
    assert shown["Default reminders"] == "pt15m"
    assert shown["Default reminder channels"] == "discord_public"


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
    res = await world.admin.slash(world.general, "settings reminders", intervals="p1w p1d", channels="private")
    shown = fields(res.response.embeds[0])
    assert shown["Default reminders"] == "p1d p1w"
    assert shown["Default reminder channels"] == "discord_private"
    await world.admin.slash(world.general, "event create", name="Raid", start="tomorrow 18:00")
    event = await world.alice.slash(world.general, "event show", event="Raid")
    assert fields(event.response.embeds[0])["Reminders"] == "p1d p1w via discord_private"


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
