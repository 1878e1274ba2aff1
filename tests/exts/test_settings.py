"""/settings: what members see, and how the settings change the other commands."""

from __future__ import annotations

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
