"""/setup: one private message that walks a new admin through the settings, each step skippable, and ends
by offering the first calendar."""

from __future__ import annotations

import pytest

from bot.domain.errors import InvalidField
from bot.exts.common import NotManager


def ids(message) -> list[str]:
    """The custom ids of a message's components (rows flattened)."""
    found = []
    for row in message.components:
        for item in row.get("components", [row]):
            if "custom_id" in item:
                found.append(item["custom_id"])
    return found


async def settings(world):
    return await world.bot.guild_settings(world.guild.id)


async def test_every_step_chosen_then_the_first_calendar(world):
    res = await world.admin.slash(world.general, "setup")
    assert res.ephemeral
    message = res.response
    assert "Step 1 of 5: time zone" in message.content
    assert {"calbot:setup:zone", "calbot:setup:skip"} <= set(ids(message))

    step = await world.admin.select(message, ["Europe/Berlin"], custom_id="calbot:setup:zone")
    message = step.response
    assert "Time zone: **Europe/Berlin**." in message.content and "Step 2 of 5: default channel" in message.content
    assert (await settings(world)).timezone == "Europe/Berlin"

    step = await world.admin.select(message, [world.events], custom_id="calbot:setup:channel")
    message = step.response
    assert f"Default channel: <#{world.events.id}>." in message.content
    assert (await settings(world)).default_channel_id == world.events.id

    planners = world.guild.create_role("Planners")
    step = await world.admin.select(message, [planners], custom_id="calbot:setup:manager")
    message = step.response
    assert f"Manager role: <@&{planners.id}>." in message.content

    hosts = world.guild.create_role("Hosts")
    step = await world.admin.select(message, [hosts], custom_id="calbot:setup:organiser")
    message = step.response
    assert f"Organisers: <@&{hosts.id}>." in message.content

    step = await world.admin.select(message, ["p1d", "pt1h"], custom_id="calbot:setup:reminders")
    message = step.response
    assert "Default reminders: 1 hour before, 1 day before." in message.content
    assert "**Done.**" in message.content and ids(message) == ["calbot:setup:calendar"]
    saved = await settings(world)
    assert (saved.manager_role_id, saved.organiser_role_id, saved.default_reminders) == (
        planners.id,
        hosts.id,
        ("pt1h", "p1d"),
    )

    shown = await world.admin.click(message, custom_id="calbot:setup:calendar")
    done = await world.admin.submit_modal(shown, {"name": "Game nights"})
    assert "Created calendar **Game nights**" in done.response.content
    assert f"Its cards go to <#{world.events.id}>" in done.response.content
    [calendar] = await world.bot.store.calendars.list(world.guild.id)
    assert (calendar.name, calendar.channel_id) == ("Game nights", world.events.id)

    # a member of the organiser role can now create the first event, in the server's zone
    host = world.guild.add_member(world.env.create_user("host"), roles=[hosts])
    made = await host.slash(world.general, "event create", name="Game night", start="2026-01-09 20:00")
    assert "read as `2026-01-09 20:00 Europe/Berlin`" in made.response.content


async def test_each_step_can_be_skipped_and_changes_nothing(world):
    before = await settings(world)
    message = (await world.admin.slash(world.general, "setup")).response
    for number, name in enumerate(("Time zone", "Default channel", "Manager role", "Organiser role"), start=1):
        message = (await world.admin.click(message, custom_id="calbot:setup:skip")).response
        assert f"{name}: skipped." in message.content
        assert f"Step {number + 1} of 5" in message.content
    message = (await world.admin.click(message, custom_id="calbot:setup:skip")).response
    assert "Default reminders: skipped." in message.content and "**Done.**" in message.content
    assert await settings(world) == before


async def test_the_organiser_and_reminder_buttons(world):
    message = (await world.admin.slash(world.general, "setup", timezone="EST")).response
    assert "Time zone: **America/New_York**. Read: EST read as America/New_York" in message.content
    assert "Step 2 of 5" in message.content
    message = (await world.admin.click(message, custom_id="calbot:setup:skip")).response
    message = (await world.admin.click(message, custom_id="calbot:setup:skip")).response
    message = (await world.admin.click(message, custom_id="calbot:setup:everyone")).response
    assert "Organisers: every member." in message.content
    assert (await settings(world)).organiser_role_id == world.guild.id
    message = (await world.admin.click(message, custom_id="calbot:setup:noreminders")).response
    assert "Default reminders: none." in message.content
    assert (await settings(world)).default_reminders == ()


async def test_a_refused_choice_says_why_and_keeps_the_step(world):
    message = (await world.admin.slash(world.general, "setup", timezone="UTC")).response
    message = (await world.admin.click(message, custom_id="calbot:setup:skip")).response
    refused = await world.admin.select(message, [world.guild.default_role], custom_id="calbot:setup:manager")
    world.refused(refused, InvalidField, "@everyone cannot be the manager role")
    assert (await settings(world)).manager_role_id is None


async def test_only_manage_server_runs_setup(world):
    role = world.guild.create_role("Planners")
    await world.admin.slash(world.general, "settings manager-role", role=role)
    with pytest.raises(Exception, match="default-member-permissions"):  # hidden from members
        await world.alice.slash(world.general, "setup")
    [command] = [c for c in await world.bot.tree.fetch_commands() if c.name == "setup"]
    world.guild.set_command_permissions(command, {role: True})
    planner = world.guild.add_member(world.env.create_user("planner"), roles=[role])
    world.refused(await planner.slash(world.general, "setup"), NotManager, "Manage Server")
